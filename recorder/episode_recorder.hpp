// The control loop's sink while recording: starts and ends episodes on request from the CLI or GUI, keeps
// each take to a fixed number of ticks when asked (ACT's loader needs equal lengths), and never blocks the
// loop unless told the loop runs faster than real time.
#pragma once

#include <atomic>
#include <functional>
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
  double seconds = 0.0;         // ticks / fps
  std::optional<bool> success;  // the outcome stored in the file
  bool complete = true;         // false: cut short by an error, saved as incomplete
  std::string stopReason;       // why it was cut short (stored as the root attribute stop_reason)
};

class EpisodeRecorder final : public ObservationSink {
 public:
  // blockWhenFull: wait for the writer instead of dropping ticks (for manual-clock runs).
  explicit EpisodeRecorder(bool blockWhenFull = false) : blockWhenFull_(blockWhenFull) {}
  ~EpisodeRecorder() override;

  // Called on the loop thread with every recorded tick (simulated rigs: did the cube end in the bin), so
  // that a take's outcome is the scene's at its last recorded tick, whenever the take is ended.
  void setOutcomeProbe(std::function<std::optional<bool>()> probe);

  // Opens the next episode in `dataset`; maxTicks stops it growing after that many ticks. Text that is
  // not valid UTF-8 is refused (RecorderError) before any file is created.
  // Sampled when a take begins and when it ends (off the loop thread): the difference is stored in the
  // file as what the rig counted during the take (bus retries, failed ticks).
  void setCounterProbe(std::function<TakeCounters()> probe);

  std::string begin(const DatasetFolder& dataset, const EpisodeInfo& info,
                    std::optional<std::uint64_t> maxTicks, WriterOptions options = {});
  bool recording() const;
  bool reachedLength() const { return reachedLength_.load(); }
  std::uint64_t ticksRecorded() const { return ticks_.load(); }
  // Why the take stopped growing (disk full, I/O error, a camera's frames do not fit); empty while fine.
  std::string failure() const;
  WriterStats stats() const;  // of the current take; empty when none
  // Finishes the file (drains the writer) and returns what was written, with `success` as its outcome.
  // A non-empty stopReason (or a camera that stopped delivering) saves the take as incomplete with the
  // reason. Throws RecorderError after a write failure: what was flushed up to it stays in the file.
  EpisodeResult end(std::optional<bool> success, const std::string& stopReason = "");
  // As end(), with the outcome the probe gave at the last recorded tick.
  EpisodeResult endWithSampledOutcome(const std::string& stopReason = "");
  // Re-record: finishes and deletes the current take's file. Returns its path.
  std::string discard();

  void onObservation(const Observation& observation) override;

  static EpisodeInfo infoFor(const RigConfig& rig, const std::string& task);

 private:
  EpisodeResult finish(std::optional<bool> success, bool sampled, std::string stopReason);
  std::optional<TakeCounters> sampleCounters() const;

  bool blockWhenFull_;
  std::function<std::optional<bool>()> outcomeProbe_;
  std::function<TakeCounters()> counterProbe_;
  TakeCounters countersAtBegin_;
  std::optional<bool> sampledOutcome_;
  mutable std::mutex mutex_;
  std::unique_ptr<EpisodeWriter> writer_;
  std::optional<std::uint64_t> maxTicks_;
  std::atomic<std::uint64_t> ticks_{0};
  std::atomic<bool> reachedLength_{false};
  std::string failure_;
  bool writerFailed_ = false;  // failure_ is the writer's (the disk), not the source's (a camera)
  double fps_ = 0.0;
};

}  // namespace flywheel
