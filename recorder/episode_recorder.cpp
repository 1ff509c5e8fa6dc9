#include "recorder/episode_recorder.hpp"

#include <algorithm>
#include <filesystem>

#include "core/utf8.hpp"

namespace flywheel {

EpisodeRecorder::~EpisodeRecorder() {
  if (recording()) end(std::nullopt);
}

EpisodeInfo EpisodeRecorder::infoFor(const RigConfig& rig, const std::string& task) {
  EpisodeInfo info;
  info.task = task;
  info.fps = rig.recordRateHz;
  info.sim = rig.isSimulated();
  info.rigName = rig.name;
  info.rigConfigText = rig.sourceText;
  info.joints = rig.followerJointCount();
  for (const CameraConfig& cam : rig.cameras)
    info.cameras.push_back({cam.name, cam.width, cam.height});
  return info;
}

void EpisodeRecorder::setOutcomeProbe(std::function<std::optional<bool>()> probe) {
  std::lock_guard lock(mutex_);
  outcomeProbe_ = std::move(probe);
}

void EpisodeRecorder::setCounterProbe(std::function<TakeCounters()> probe) {
  std::lock_guard lock(mutex_);
  counterProbe_ = std::move(probe);
}

// Called without mutex_ held: the probe asks the control loop, whose thread may be waiting for mutex_ in
// onObservation.
std::optional<TakeCounters> EpisodeRecorder::sampleCounters() const {
  std::function<TakeCounters()> probe;
  {
    std::lock_guard lock(mutex_);
    probe = counterProbe_;
  }
  return probe ? std::optional(probe()) : std::nullopt;
}

std::string EpisodeRecorder::begin(const DatasetFolder& dataset, const EpisodeInfo& info,
                                   std::optional<std::uint64_t> maxTicks, WriterOptions options) {
  // The labels are JSON inside the file: text that cannot be encoded would leave a stub episode behind.
  std::vector<std::pair<std::string, std::string>> text{
      {"task", info.task}, {"operator", info.operatorName}, {"policy", info.policy}};
  for (const std::string& tag : info.tags)
    text.emplace_back("tag", tag);
  for (const auto& [what, value] : text)
    if (std::string problem = utf8Problem(value); !problem.empty())
      throw RecorderError("the episode's " + what + ": " + problem + "; nothing was recorded");
  const std::optional<TakeCounters> countersAtBegin = sampleCounters();
  auto writer = dataset.createEpisode(info, options);
  std::string path = writer->path();
  std::lock_guard lock(mutex_);
  if (writer_) throw RecorderError("an episode is already being recorded: " + writer_->path());
  writer_ = std::move(writer);
  maxTicks_ = maxTicks;
  fps_ = info.fps;
  ticks_ = 0;
  reachedLength_ = false;
  failure_.clear();
  writerFailed_ = false;
  sampledOutcome_ = outcomeProbe_ ? outcomeProbe_() : std::nullopt;
  countersAtBegin_ = countersAtBegin.value_or(TakeCounters{});
  return path;
}

bool EpisodeRecorder::recording() const {
  std::lock_guard lock(mutex_);
  return writer_ != nullptr;
}

WriterStats EpisodeRecorder::stats() const {
  std::lock_guard lock(mutex_);
  return writer_ ? writer_->stats() : WriterStats{};
}

std::string EpisodeRecorder::failure() const {
  std::lock_guard lock(mutex_);
  return failure_;
}

// On the loop thread: a failing take stops growing, the loop goes on (the operator still holds the arm).
void EpisodeRecorder::onObservation(const Observation& observation) {
  std::lock_guard lock(mutex_);
  if (!writer_ || reachedLength_ || !failure_.empty()) return;
  if (std::string error = writer_->error(); !error.empty()) {
    failure_ = error;
    writerFailed_ = true;
    return;
  }
  if (!observation.cameraError.empty()) {
    failure_ = observation.cameraError;  // the take is cut short here, saved as incomplete
    return;
  }
  try {
    if (blockWhenFull_)
      writer_->pushBlocking(observation);
    else if (!writer_->push(observation))
      return;  // dropped and counted by the writer
  } catch (const std::exception& e) {
    failure_ = e.what();  // a frame that does not fit the episode's layout: the source's error
    return;
  }
  if (outcomeProbe_) sampledOutcome_ = outcomeProbe_();
  if (maxTicks_ && ++ticks_ >= *maxTicks_)
    reachedLength_ = true;
  else if (!maxTicks_)
    ++ticks_;
}

EpisodeResult EpisodeRecorder::end(std::optional<bool> success, const std::string& stopReason) {
  return finish(success, false, stopReason);
}

EpisodeResult EpisodeRecorder::endWithSampledOutcome(const std::string& stopReason) {
  return finish(std::nullopt, true, stopReason);
}

EpisodeResult EpisodeRecorder::finish(std::optional<bool> success, bool sampled, std::string stopReason) {
  std::unique_ptr<EpisodeWriter> writer;
  std::string failure;
  bool writerFailed = false;
  TakeCounters then;
  {
    // Taking the writer stops the take growing: the outcome sampled with its last tick is final.
    std::lock_guard lock(mutex_);
    writer = std::move(writer_);
    failure = failure_;
    writerFailed = writerFailed_;
    if (sampled) success = sampledOutcome_;
    then = countersAtBegin_;
  }
  if (!writer) throw RecorderError("no episode is being recorded");
  if (const std::optional<TakeCounters> now = sampleCounters()) {  // a reconnected rig counts from zero
    writer->setCounters({now->busRetries - std::min(now->busRetries, then.busRetries),
                         now->failedTicks - std::min(now->failedTicks, then.failedTicks)});
  }
  if (!failure.empty() && !writerFailed) stopReason = failure;  // the source's own error comes first
  writer->finish(success, stopReason);  // throws the writer's own error, if it had one
  if (writerFailed) throw RecorderError(failure);
  WriterStats stats = writer->stats();
  return {writer->path(),     stats,     static_cast<double>(stats.written) / fps_, success,
          stopReason.empty(), stopReason};
}

std::string EpisodeRecorder::discard() {
  std::unique_ptr<EpisodeWriter> writer;
  {
    std::lock_guard lock(mutex_);
    writer = std::move(writer_);
  }
  if (!writer) throw RecorderError("no episode is being recorded");
  try {
    writer->finish(std::nullopt);
  } catch (const RecorderError&) {
    // Being thrown away: its errors do not matter.
  }
  std::filesystem::remove(writer->path());
  return writer->path();
}

}  // namespace flywheel
