// Streams one episode into an HDF5 file in the ALOHA layout (recorder/episode_layout.hpp) while it is being
// recorded: a writer thread drains a bounded queue and extends chunked datasets, so memory does not grow
// with the episode and the control loop never waits on the disk.
//
// Crash safety: the file is flushed twice a second with metadata evictions off in between and freed file
// space never reused, so after kill -9 or a power cut the file holds every tick up to the last flush.
#pragma once

#include <atomic>
#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "core/types.hpp"
#include "recorder/recording_mark.hpp"

namespace flywheel {

class EpisodeLayout;

struct RecorderError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

struct CameraSpec {
  std::string name;
  int width = 0;
  int height = 0;
};

enum class ImageStorage {
  Raw,   // [T, H, W, 3] uint8, one chunk per frame (ALOHA's default)
  Jpeg,  // [T, P] uint8 zero-padded JPEG bytes, lengths in /compress_len (ALOHA's compressed layout)
};

struct EpisodeInfo {
  std::string task;
  std::string operatorName;
  std::vector<std::string> tags;
  ImageStorage imageStorage = ImageStorage::Raw;
  int jpegQuality = 90;
  double fps = 50.0;
  bool sim = false;
  std::string rigName;
  std::string rigConfigText;
  std::size_t joints = 0;
  std::vector<CameraSpec> cameras;
  std::string policy;  // policy runs: the policy that drove the followers ("" for demonstrations)
};

struct CameraStats {
  std::uint64_t repeatedFrames = 0;  // ticks that got the same frame as the tick before
  double maxFrameAge = 0.0;          // seconds between capture and the tick that recorded it
};

struct WriterStats {
  std::uint64_t written = 0;  // ticks on disk
  std::uint64_t dropped = 0;  // ticks refused because the queue was full
  std::size_t queuePeak = 0;  // most ticks waiting at once
  std::uint64_t bytes = 0;    // bytes handed to HDF5 (after JPEG encoding)
  std::uint64_t flushes = 0;  // times the file was made consistent on disk
  std::vector<CameraStats> cameras;
};

// What the rig counted during a take, stored as root attributes at close (bus_retries, failed_ticks).
struct TakeCounters {
  std::uint64_t busRetries = 0;
  std::uint64_t failedTicks = 0;
};

struct WriterOptions {
  std::size_t queueCapacity = 64;  // ticks; a full queue drops the tick instead of blocking the loop
  double flushInterval = 0.5;      // seconds between flushes: a crash loses less than a second
};

class EpisodeWriter {
 public:
  // Creates `path` exclusively: an existing file is never overwritten (throws RecorderError).
  EpisodeWriter(const std::string& path, EpisodeInfo info, WriterOptions options = {});
  ~EpisodeWriter();  // finishes if still open
  EpisodeWriter(const EpisodeWriter&) = delete;
  EpisodeWriter& operator=(const EpisodeWriter&) = delete;

  // Never blocks: false when the queue is full (the tick is dropped and counted).
  bool push(const Observation& observation);
  // Waits for room instead of dropping: for runs faster than real time.
  void pushBlocking(const Observation& observation);
  // Drains the queue, writes the closing attributes and closes the file. Throws RecorderError on I/O errors.
  // A non-empty stopReason (a take cut short by a bus or camera error) is stored as the root attribute
  // stop_reason and leaves complete = false.
  void finish(std::optional<bool> success, const std::string& stopReason = "");
  // Stored at finish() with the measured quality (recorder/episode_quality.hpp); unset: not recorded.
  void setCounters(const TakeCounters& counters);
  // The writer thread's first error, if any (the episode stops growing after it).
  std::string error() const;
  WriterStats stats() const;
  const std::string& path() const { return path_; }

 private:
  void threadMain();
  void syncMain();
  void writeBatch(const std::vector<Observation>& batch);
  void flushToDisk();
  void freezeOnDisk();
  void countFrames(const std::vector<Observation>& batch);
  void validate(const Observation& observation) const;
  void storeQuality();
  std::string describeFailure(const std::string& what) const;

  std::string path_;
  EpisodeInfo info_;
  WriterOptions options_;
  std::vector<std::uint64_t> lastSequence_;
  double lastFlush_ = 0.0;
  std::uint64_t bytesAtFlush_ = 0;
  std::unique_ptr<EpisodeLayout> layout_;  // owns the open file; reset closes it
  RecordingMark recording_;                // held from creation until the file is closed

  mutable std::mutex mutex_;
  std::condition_variable wakeWriter_;
  std::condition_variable roomAvailable_;
  std::deque<Observation> queue_;
  bool closing_ = false;
  bool finished_ = false;
  std::string error_;
  WriterStats stats_;
  std::optional<TakeCounters> counters_;
  std::thread thread_;

  // fdatasync runs on its own thread so the writer never waits for the disk to catch up.
  int syncFd_ = -1;
  std::mutex syncMutex_;
  std::condition_variable syncWake_;
  bool syncRequested_ = false, syncStopping_ = false;
  std::thread syncThread_;
};

}  // namespace flywheel
