#include "recorder/episode_recorder.hpp"

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
                                   std::optional<std::uint64_t> maxTicks) {
  auto writer = dataset.createEpisode(info);
  std::string path = writer->path();
  std::lock_guard lock(mutex_);
  if (writer_) throw RecorderError("an episode is already being recorded: " + writer_->path());
  writer_ = std::move(writer);
  maxTicks_ = maxTicks;
  fps_ = info.fps;
  ticks_ = 0;
  reachedLength_ = false;
  return path;
}

bool EpisodeRecorder::recording() const {
  std::lock_guard lock(mutex_);
  return writer_ != nullptr;
}

void EpisodeRecorder::onObservation(const Observation& observation) {
  std::lock_guard lock(mutex_);
  if (!writer_ || reachedLength_) return;
  if (blockWhenFull_)
    writer_->pushBlocking(observation);
  else if (!writer_->push(observation))
    return;  // dropped and counted by the writer
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
  writer->finish(success);
  WriterStats stats = writer->stats();
  return {writer->path(), stats, static_cast<double>(stats.written) / fps_};
}

}  // namespace flywheel
