// EpisodeWriter: the bounded queue, the writer thread that hands batches to the EpisodeLayout, the sync
// thread, and crash safety (file settings, periodic flushes, freezing the file after a failed write).
#include "recorder/episode_writer.hpp"

#include <fcntl.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>

#include "recorder/episode_layout.hpp"
#include "recorder/episode_quality.hpp"
#include "recorder/h5.hpp"

namespace flywheel {

namespace {

constexpr std::uint64_t kFlushBytes = 128ull << 20;  // also flush after this much data, whatever the clock

// Crash safety comes from three file settings: freed space is never reused (so an older, flushed B-tree
// never points at bytes rewritten since), and the metadata cache keeps dirty entries in memory until
// the next flush (so the on-disk metadata is always the last flushed, consistent state).
h5::Handle crashSafeCreateProperties() {
  h5::Handle fcpl = h5::plist(H5Pcreate(H5P_FILE_CREATE));
  H5Pset_file_space_strategy(fcpl, H5F_FSPACE_STRATEGY_NONE, false, 1);
  return fcpl;
}

h5::Handle crashSafeAccessProperties() {
  h5::Handle fapl = h5::plist(H5Pcreate(H5P_FILE_ACCESS));
  H5Pset_libver_bounds(fapl, H5F_LIBVER_V18, H5F_LIBVER_V110);
  H5AC_cache_config_t cache{};
  cache.version = H5AC__CURR_CACHE_CONFIG_VERSION;
  H5Pget_mdc_config(fapl, &cache);
  cache.evictions_enabled = false;
  cache.incr_mode = H5C_incr__off;
  cache.flash_incr_mode = H5C_flash_incr__off;
  cache.decr_mode = H5C_decr__off;
  H5Pset_mdc_config(fapl, &cache);
  return fapl;
}

double monotonicSeconds() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

}  // namespace

EpisodeWriter::EpisodeWriter(const std::string& path, EpisodeInfo info, WriterOptions options)
    : path_(path), info_(std::move(info)), options_(options) {
  h5::quietErrors();
  if (std::filesystem::exists(path_))
    throw RecorderError(path_ + ": already exists; episodes are never overwritten");
  h5::Handle fcpl = crashSafeCreateProperties(), fapl = crashSafeAccessProperties();
  hid_t file = H5Fcreate(path_.c_str(), H5F_ACC_EXCL, fcpl, fapl);
  if (file < 0)
    throw RecorderError(
        describeFailure("cannot create the episode file (exists, or the folder is not writable)"));
  h5::Handle owned = h5::file(file);  // closed by the layout from here, or right here should it throw
  recording_ = RecordingMark(path_);
  try {
    layout_ = std::make_unique<EpisodeLayout>(std::move(owned), info_);
    h5::check(H5Fflush(file, H5F_SCOPE_LOCAL), "flush the new file");
  } catch (const h5::Error& e) {
    throw RecorderError(path_ + ": " + e.what());
  }
  void* handle = nullptr;
  if (H5Fget_vfd_handle(file, H5P_DEFAULT, &handle) >= 0 && handle)
    syncFd_ = ::dup(*static_cast<int*>(handle));
  lastSequence_.assign(info_.cameras.size(), 0);
  stats_.cameras.assign(info_.cameras.size(), {});
  lastFlush_ = monotonicSeconds();
  thread_ = std::thread([this] { threadMain(); });
  syncThread_ = std::thread([this] { syncMain(); });
}

std::string EpisodeWriter::describeFailure(const std::string& what) const {
  const int systemError = errno;
  std::string message = path_ + ": " + what;
  struct statvfs disk {};
  const std::string folder = std::filesystem::path(path_).parent_path().string();
  if (statvfs(folder.empty() ? "." : folder.c_str(), &disk) == 0) {
    const double freeMiB = static_cast<double>(disk.f_bavail) * disk.f_frsize / (1024.0 * 1024.0);
    if (freeMiB < 64.0)
      return message + " (disk full: " + std::to_string(static_cast<int>(freeMiB)) + " MiB free)";
  }
  if (systemError != 0) message += " (" + std::string(std::strerror(systemError)) + ")";
  return message;
}

EpisodeWriter::~EpisodeWriter() {
  try {
    finish(std::nullopt);
  } catch (...) {
  }
}

void EpisodeWriter::validate(const Observation& obs) const {
  if (obs.state.position.size() != info_.joints || obs.action.size() != info_.joints ||
      obs.frames.size() != info_.cameras.size())
    throw RecorderError(path_ + ": an observation of " + std::to_string(obs.state.position.size()) +
                        " joints, " + std::to_string(obs.action.size()) + " actions and " +
                        std::to_string(obs.frames.size()) + " frames does not fit the episode's " +
                        std::to_string(info_.joints) + " joints and " + std::to_string(info_.cameras.size()) +
                        " cameras");
  for (std::size_t c = 0; c < obs.frames.size(); ++c) {
    const Image& image = obs.frames[c].image;
    if (image.empty())
      throw RecorderError(path_ + ": camera '" + info_.cameras[c].name + "' delivered no frame");
    if (image.width != info_.cameras[c].width || image.height != info_.cameras[c].height)
      throw RecorderError(path_ + ": camera '" + info_.cameras[c].name + "' frame is " +
                          std::to_string(image.width) + "x" + std::to_string(image.height) +
                          ", the episode expects " + std::to_string(info_.cameras[c].width) + "x" +
                          std::to_string(info_.cameras[c].height));
  }
}

bool EpisodeWriter::push(const Observation& observation) {
  validate(observation);
  {
    std::lock_guard lock(mutex_);
    if (closing_) return false;
    if (queue_.size() >= options_.queueCapacity) {
      ++stats_.dropped;
      return false;
    }
    queue_.push_back(observation);
    stats_.queuePeak = std::max(stats_.queuePeak, queue_.size());
  }
  wakeWriter_.notify_one();
  return true;
}

void EpisodeWriter::pushBlocking(const Observation& observation) {
  validate(observation);
  {
    std::unique_lock lock(mutex_);
    roomAvailable_.wait(
        lock, [&] { return queue_.size() < options_.queueCapacity || closing_ || !error_.empty(); });
    if (closing_ || !error_.empty()) return;
    queue_.push_back(observation);
    stats_.queuePeak = std::max(stats_.queuePeak, queue_.size());
  }
  wakeWriter_.notify_one();
}

void EpisodeWriter::threadMain() {
  h5::quietErrors();  // HDF5 keeps its error printing per thread
  std::vector<Observation> batch;
  while (true) {
    {
      std::unique_lock lock(mutex_);
      wakeWriter_.wait_for(lock, std::chrono::duration<double>(options_.flushInterval / 2),
                           [&] { return !queue_.empty() || closing_; });
      if (queue_.empty() && closing_) return;
      batch.assign(std::make_move_iterator(queue_.begin()), std::make_move_iterator(queue_.end()));
      queue_.clear();
    }
    roomAvailable_.notify_all();
    if (!error().empty()) continue;  // after an I/O error keep draining, write nothing more
    try {
      writeBatch(batch);
      const bool dueByTime = monotonicSeconds() - lastFlush_ >= options_.flushInterval;
      const bool dueByBytes = stats().bytes - bytesAtFlush_ >= kFlushBytes;  // faster-than-real-time runs
      if (dueByTime || dueByBytes) flushToDisk();
    } catch (const std::exception& e) {
      std::string message =
          describeFailure("write failed after " + std::to_string(stats_.written) + " ticks: " + e.what());
      freezeOnDisk();
      std::lock_guard lock(mutex_);
      error_ = message;
    }
    roomAvailable_.notify_all();
  }
}

// After a failed write the file on disk is the last flush: consistent. Closing it normally would write
// metadata describing the failed part on top, so from now on HDF5 writes into /dev/null instead.
void EpisodeWriter::freezeOnDisk() {
  void* handle = nullptr;
  if (H5Fget_vfd_handle(layout_->file(), H5P_DEFAULT, &handle) < 0 || !handle) return;
  int sink = ::open("/dev/null", O_RDWR | O_CLOEXEC);
  if (sink < 0) return;
  ::dup2(sink, *static_cast<int*>(handle));
  ::close(sink);
}

// Makes the file consistent on disk (a kill -9 loses nothing before this point), then asks the sync
// thread to push it past the page cache (a power cut loses nothing before the sync completes).
void EpisodeWriter::flushToDisk() {
  errno = 0;
  h5::check(H5Fflush(layout_->file(), H5F_SCOPE_LOCAL), "flush");
  lastFlush_ = monotonicSeconds();
  {
    std::lock_guard lock(mutex_);
    ++stats_.flushes;
    bytesAtFlush_ = stats_.bytes;
  }
  {
    std::lock_guard lock(syncMutex_);
    syncRequested_ = true;
  }
  syncWake_.notify_one();
}

void EpisodeWriter::syncMain() {
  std::unique_lock lock(syncMutex_);
  while (true) {
    syncWake_.wait(lock, [&] { return syncRequested_ || syncStopping_; });
    if (syncStopping_ && !syncRequested_) return;
    syncRequested_ = false;
    lock.unlock();
    if (syncFd_ >= 0) ::fdatasync(syncFd_);
    lock.lock();
  }
}

void EpisodeWriter::countFrames(const std::vector<Observation>& batch) {
  std::lock_guard lock(mutex_);
  for (const Observation& obs : batch)
    for (std::size_t c = 0; c < obs.frames.size(); ++c) {
      const CameraFrame& frame = obs.frames[c];
      if (frame.sequence == lastSequence_[c]) ++stats_.cameras[c].repeatedFrames;
      lastSequence_[c] = frame.sequence;
      stats_.cameras[c].maxFrameAge = std::max(stats_.cameras[c].maxFrameAge, obs.time - frame.captureTime);
    }
}

// Counts the frames for the stats, then the layout appends the batch to every dataset.
void EpisodeWriter::writeBatch(const std::vector<Observation>& batch) {
  if (batch.empty()) return;
  errno = 0;
  countFrames(batch);
  const std::uint64_t bytes = layout_->append(batch);
  std::lock_guard lock(mutex_);
  stats_.written += batch.size();
  stats_.bytes += bytes;
}

void EpisodeWriter::finish(std::optional<bool> success, const std::string& stopReason) {
  {
    std::lock_guard lock(mutex_);
    if (finished_) return;
    finished_ = true;
    closing_ = true;
  }
  wakeWriter_.notify_all();
  roomAvailable_.notify_all();
  if (thread_.joinable()) thread_.join();
  std::string failure = error();
  try {
    if (failure.empty()) {
      storeQuality();  // before `complete` is set: a crash in between leaves an interrupted take
      layout_->writeClosingAttributes(stats().cameras, success, stopReason);
    }
    layout_.reset();  // closes every dataset, then the file
  } catch (const h5::Error& e) {
    layout_.reset();
    failure = failure.empty() ? path_ + ": closing the episode failed: " + e.what() : failure;
  }
  recording_.release();  // the file is closed: no longer a take in progress
  {
    std::lock_guard lock(syncMutex_);
    syncRequested_ = true;  // one last sync of everything, then stop
    syncStopping_ = true;
  }
  syncWake_.notify_one();
  if (syncThread_.joinable()) syncThread_.join();
  if (syncFd_ >= 0) ::close(syncFd_);
  syncFd_ = -1;
  if (!failure.empty()) throw RecorderError(failure);
}

void EpisodeWriter::setCounters(const TakeCounters& counters) {
  std::lock_guard lock(mutex_);
  counters_ = counters;
}

// Measured from the file itself on the thread that called finish() (never the control loop's), once the
// writer thread has ended; a take whose quality cannot be measured is still saved, without /quality.
void EpisodeWriter::storeQuality() {
  const hid_t file = layout_->file();
  const WriterStats done = stats();
  h5::writeDoubleAttribute(file, "dropped_ticks", static_cast<double>(done.dropped));
  std::optional<TakeCounters> counters;
  {
    std::lock_guard lock(mutex_);
    counters = counters_;
  }
  if (counters) {
    h5::writeDoubleAttribute(file, "bus_retries", static_cast<double>(counters->busRetries));
    h5::writeDoubleAttribute(file, "failed_ticks", static_cast<double>(counters->failedTicks));
  }
  try {
    writeQuality(file, measureOpenEpisode(file, path_));
  } catch (const RecorderError&) {
  }
}

std::string EpisodeWriter::error() const {
  std::lock_guard lock(mutex_);
  return error_;
}

WriterStats EpisodeWriter::stats() const {
  std::lock_guard lock(mutex_);
  return stats_;
}

}  // namespace flywheel
