#include "app/studio.hpp"

#include <chrono>
#include <thread>

#include "devices/sim/sim_world.hpp"

namespace flywheel {

namespace {
std::unique_ptr<Clock> makeClock(bool fasterThanRealTime) {
  if (fasterThanRealTime) return std::make_unique<ManualClock>();
  return std::make_unique<SteadyClock>();
}
}  // namespace

Studio::Studio(RigConfig config, bool fasterThanRealTime)
    : clock_(makeClock(fasterThanRealTime)),
      rig_(std::make_unique<Rig>(std::move(config), *clock_)),
      loop_(std::make_unique<ControlLoop>(rig_->config(), rig_->devices(), *clock_)),
      recorder_(fasterThanRealTime) {
  loop_->setSink(&recorder_);
}

Studio::~Studio() {
  stop();
}

void Studio::start(ControlMode mode) {
  rig_->connect();
  loop_->setMode(mode);
  loop_->start();
}

void Studio::stop() {
  loop_->stop();
  if (recorder_.recording()) recorder_.end(std::nullopt);
  rig_->disconnect();
}

std::string Studio::beginTake(const DatasetFolder& dataset, const std::string& task, unsigned seed,
                              std::optional<std::uint64_t> maxTicks) {
  const EpisodeInfo info = EpisodeRecorder::infoFor(config(), task);
  if (!clock_->isRealTime()) {
    // Faster than real time the loop thread also renders the cameras: pause it while the scene changes,
    // so that the take starts on the tick right after the reset, every time.
    const bool wasRunning = loop_->running();
    loop_->stop();
    resetScene(seed);
    rig_->refreshSimulatedCameras();
    std::string path = recorder_.begin(dataset, info, maxTicks);
    if (wasRunning) loop_->start();
    return path;
  }
  resetScene(seed);
  return recorder_.begin(dataset, info, maxTicks);
}

EpisodeResult Studio::endTake() {
  return recorder_.end(sceneSuccess());
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
