// Marks an episode file as "being recorded" for other processes. While a take is written, its writer holds
// an open-file-description lock on a byte range of the file far past its end. The kernel drops the lock when
// the writer closes the file or dies, so a crash never leaves a stale mark, and HDF5's own lock (flock, a
// separate kind on Linux) is untouched. Readers use it to tell a take in progress from a file some other
// program has open.
#pragma once

#include <string>

namespace flywheel {

class RecordingMark {
 public:
  RecordingMark() = default;
  explicit RecordingMark(const std::string& episodePath);  // best effort: no mark if the lock fails
  ~RecordingMark();
  RecordingMark(RecordingMark&& other) noexcept : fd_(other.fd_) { other.fd_ = -1; }
  RecordingMark& operator=(RecordingMark&& other) noexcept;
  RecordingMark(const RecordingMark&) = delete;
  RecordingMark& operator=(const RecordingMark&) = delete;

  void release();
  // True while some writer (in this process or another) holds the mark on this file.
  static bool held(const std::string& episodePath);

 private:
  int fd_ = -1;
};

}  // namespace flywheel
