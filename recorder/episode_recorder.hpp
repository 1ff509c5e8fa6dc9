// The control loop's sink while recording: starts and ends episodes on request from the CLI or GUI, keeps
// each take to a fixed number of ticks when asked (ACT's loader needs equal lengths), and never blocks the
// loop unless told the loop runs faster than real time.
#pragma once

#include <atomic>
#include <memory>
#include <mutex>
#include <optional>

#include "core/config.hpp"
#include "core/control_loop.hpp"
#include "recorder/dataset_folder.hpp"

namespace flywheel {

struct EpisodeResult {
  std::string path;
  WriterStats stats;
  double seconds = 0.0;  // ticks / fps
};

class EpisodeRecorder final : public ObservationSink {
 public:
  // blockWhenFull: wait for the writer instead of dropping ticks (for manual-clock runs).
  explicit EpisodeRecorder(bool blockWhenFull = false) : blockWhenFull_(blockWhenFull) {}
  ~EpisodeRecorder() override;

  // Opens the next episode in `dataset`; maxTicks stops it growing after that many ticks.
  std::string begin(const DatasetFolder& dataset, const EpisodeInfo& info,
                    std::optional<std::uint64_t> maxTicks, WriterOptions options = {});
  bool recording() const;
  bool reachedLength() const { return reachedLength_.load(); }
  std::uint64_t ticksRecorded() const { return ticks_.load(); }
  // Why the take stopped growing (disk full, I/O error, a camera's frames do not fit); empty while fine.
  std::string failure() const;
  WriterStats stats() const;  // of the current take; empty when none
  // Finishes the file (drains the writer) and returns what was written. Throws RecorderError after a
  // failure: what was written up to it stays in the file.
  EpisodeResult end(std::optional<bool> success);
  // Re-record: finishes and deletes the current take's file. Returns its path.
  std::string discard();

  void onObservation(const Observation& observation) override;

  static EpisodeInfo infoFor(const RigConfig& rig, const std::string& task);

 private:
  bool blockWhenFull_;
  mutable std::mutex mutex_;
  std::unique_ptr<EpisodeWriter> writer_;
  std::optional<std::uint64_t> maxTicks_;
  std::atomic<std::uint64_t> ticks_{0};
  std::atomic<bool> reachedLength_{false};
  std::string failure_;
  double fps_ = 0.0;
};

}  // namespace flywheel
