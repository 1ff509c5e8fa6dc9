#include "recorder/recording_mark.hpp"

#include <fcntl.h>
#include <unistd.h>

namespace flywheel {

namespace {
constexpr off_t kMarkOffset = off_t{1} << 60;  // no episode is this large: the range never holds data

struct flock markRange(short type) {
  struct flock range {};
  range.l_type = type;
  range.l_whence = SEEK_SET;
  range.l_start = kMarkOffset;
  range.l_len = 1;
  return range;
}
}  // namespace

RecordingMark::RecordingMark(const std::string& episodePath) {
  fd_ = ::open(episodePath.c_str(), O_RDWR | O_CLOEXEC);
  if (fd_ < 0) return;
  struct flock range = markRange(F_WRLCK);
  if (::fcntl(fd_, F_OFD_SETLK, &range) != 0) release();
}

RecordingMark::~RecordingMark() {
  release();
}

RecordingMark& RecordingMark::operator=(RecordingMark&& other) noexcept {
  if (this != &other) {
    release();
    fd_ = other.fd_;
    other.fd_ = -1;
  }
  return *this;
}

void RecordingMark::release() {
  if (fd_ >= 0) ::close(fd_);  // closing the description drops its lock
  fd_ = -1;
}

bool RecordingMark::held(const std::string& episodePath) {
  const int fd = ::open(episodePath.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  struct flock range = markRange(F_RDLCK);
  const bool held = ::fcntl(fd, F_OFD_GETLK, &range) == 0 && range.l_type != F_UNLCK;
  ::close(fd);
  return held;
}

}  // namespace flywheel
