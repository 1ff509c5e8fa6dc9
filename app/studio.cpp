#include "app/studio.hpp"

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <thread>

#include "devices/sim/sim_world.hpp"
#include "recorder/dataset_index.hpp"

namespace flywheel {

namespace {
std::unique_ptr<Clock> makeClock(bool fasterThanRealTime) {
  if (fasterThanRealTime) return std::make_unique<ManualClock>();
  return std::make_unique<SteadyClock>();
}
}  // namespace

std::string defaultDataFolder(const std::string& rigName) {
  if (const char* data = std::getenv("FLYWHEEL_DATA"); data && *data)
    return (std::filesystem::path(data) / rigName).string();
  const char* home = std::getenv("HOME");
  return (std::filesystem::path(home && *home ? home : ".") / "flywheel-data" / rigName).string();
}

Studio::Studio(RigConfig config, bool fasterThanRealTime)
    : clock_(makeClock(fasterThanRealTime)),
      rig_(std::make_unique<Rig>(std::move(config), *clock_)),
      loop_(std::make_unique<ControlLoop>(rig_->config(), rig_->devices(), *clock_)),
      recorder_(fasterThanRealTime) {
  loop_->setSink(&recorder_);
  // The outcome is sampled with every recorded tick, on the loop thread: the one stored and printed is
  // the scene's at the take's last tick, not whatever it became by the time the take was closed.
  recorder_.setOutcomeProbe([this] { return sceneSuccess(); });
  recorder_.setCounterProbe([this] {  // stored in each take as bus_retries and failed_ticks
    TakeCounters counters{0, loop_->status().failedTicks};
    for (const ArmHealth& arm : rig_->health().arms)
      if (arm.bus) counters.busRetries += arm.bus->counters.retries;
    return counters;
  });
}

Studio::~Studio() {
  stop();
}

void Studio::start(Controller* controller, bool loopThread) {
  rig_->connect();
  loop_->setController(controller);
  if (loopThread) loop_->start();
}

void Studio::stop() {
  loop_->stop();
  if (recorder_.recording()) recorder_.end(std::nullopt);
  rig_->disconnect();
}

std::string Studio::beginTake(const DatasetFolder& dataset, const TakeOptions& options) {
  EpisodeInfo info = EpisodeRecorder::infoFor(config(), options.task);
  info.operatorName = options.operatorName;
  info.tags = options.tags;
  info.imageStorage = options.imageStorage;
  info.jpegQuality = options.jpegQuality;
  info.policy = options.policy;
  takeDataset_ = dataset.path();
  loopErrorAtBegin_ = loop_->status().error;
  // The take's task is what the simulated scene asks for (which bin, on a rig with several).
  if (sim::SimWorld* world = rig_->simWorld()) world->setInstruction(options.task);
  std::string path;
  changeScene(options.seed, [&] { path = recorder_.begin(dataset, info, options.maxTicks); });
  return path;
}

void Studio::newScene(unsigned seed) {
  changeScene(seed, {});
}

// Faster than real time the loop thread also renders the cameras: it is paused while the scene changes
// (and `then` runs), so that the next tick, the take's first, is the first of the new scene, every time.
void Studio::changeScene(unsigned seed, const std::function<void()>& then) {
  if (clock_->isRealTime()) {
    resetScene(seed);
    if (then) then();
    return;
  }
  const bool wasRunning = loop_->running();
  loop_->stop();
  resetScene(seed);
  rig_->refreshSimulatedCameras();
  if (then) then();
  if (wasRunning) loop_->start();
}

EpisodeResult Studio::endTake() {
  // A control loop stopped by an error (a bus that went away) cuts the take short: saved as incomplete.
  std::string stopReason;
  if (std::string error = loop_->status().error; !error.empty() && error != loopErrorAtBegin_)
    stopReason = "the control loop stopped: " + error;
  EpisodeResult result;
  try {
    result = recorder_.endWithSampledOutcome(stopReason);
  } catch (const RecorderError&) {
    // The take's own error is what the operator needs; a disk too full to rewrite the index as well must
    // not replace it (the index is rebuilt from the files next time).
    try {
      DatasetIndex(takeDataset_).rebuild();  // the failed take is listed for what it is
    } catch (const std::exception&) {
    }
    throw;
  }
  DatasetIndex(takeDataset_).update(result.path);
  return result;
}

std::string Studio::discardTake() {
  std::string path = recorder_.discard();
  DatasetIndex(takeDataset_).remove(path);
  return path;
}

void Studio::resetScene(unsigned seed) {
  sim::SimWorld* world = rig_->simWorld();
  if (!world) return;
  world->resetEpisode(seed);
  loop_->resyncGoals();
  if (clock_->isRealTime()) {
    // Let every camera deliver a frame of the new scene before a take starts.
    double slowestFps = 1000.0;
    for (const auto& cam : rig_->config().cameras)
      slowestFps = std::min(slowestFps, cam.fps);
    std::this_thread::sleep_for(std::chrono::duration<double>(1.5 / slowestFps));
  }
}

std::optional<bool> Studio::sceneSuccess() const {
  sim::SimWorld* world = rig_->simWorld();
  if (!world) return std::nullopt;
  return world->outcome().success;
}

}  // namespace flywheel
