#include "recorder/episode_recorder.hpp"

#include <filesystem>

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

std::string EpisodeRecorder::begin(const DatasetFolder& dataset, const EpisodeInfo& info,
                                   std::optional<std::uint64_t> maxTicks, WriterOptions options) {
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
  try {
    if (std::string error = writer_->error(); !error.empty()) throw RecorderError(error);
    if (!observation.cameraError.empty()) throw RecorderError(observation.cameraError);
    if (blockWhenFull_)
      writer_->pushBlocking(observation);
    else if (!writer_->push(observation))
      return;  // dropped and counted by the writer
  } catch (const std::exception& e) {
    failure_ = e.what();
    return;
  }
  if (maxTicks_ && ++ticks_ >= *maxTicks_)
    reachedLength_ = true;
  else if (!maxTicks_)
    ++ticks_;
}

EpisodeResult EpisodeRecorder::end(std::optional<bool> success) {
  std::unique_ptr<EpisodeWriter> writer;
  {
    std::lock_guard lock(mutex_);
    writer = std::move(writer_);
  }
  if (!writer) throw RecorderError("no episode is being recorded");
  std::string failure = this->failure();
  writer->finish(success);  // throws the writer's own error, if it had one
  if (!failure.empty()) throw RecorderError(failure);
  WriterStats stats = writer->stats();
  return {writer->path(), stats, static_cast<double>(stats.written) / fps_};
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
