// The composition root shared by the CLI and the GUI: a rig, its control loop and the episode recorder,
// built from one configuration and torn down in the right order.
#pragma once

#include <functional>
#include <memory>
#include <optional>

#include "core/clock.hpp"
#include "core/control_loop.hpp"
#include "core/teleop_controller.hpp"
#include "devices/rig.hpp"
#include "recorder/episode_recorder.hpp"

namespace flywheel {

struct TakeOptions {
  std::string task;
  std::string operatorName;
  std::vector<std::string> tags;
  ImageStorage imageStorage = ImageStorage::Raw;
  int jpegQuality = 90;
  unsigned seed = 1;                      // simulated rigs: the scene of this take
  std::optional<std::uint64_t> maxTicks;  // fixed-length takes
  std::string policy;                     // policy runs: what drove the followers
};

// Where episodes go when no folder is named: $FLYWHEEL_DATA/<rig>, else ~/flywheel-data/<rig>.
std::string defaultDataFolder(const std::string& rigName);

class Studio {
 public:
  // fasterThanRealTime: a manual clock; the loop runs as fast as the machine allows and the recorder
  // waits for the writer instead of dropping ticks.
  explicit Studio(RigConfig config, bool fasterThanRealTime = false);
  ~Studio();

  // Connects the rig and starts the loop thread with `controller` driving (nullptr: the followers hold;
  // &teleop(): the leaders drive). Without the thread, the caller steps the loop (runTicks). A policy run
  // installs its own controller through PolicySession.
  void start(Controller* controller, bool loopThread = true);
  TeleopController& teleop() { return teleop_; }
  void stop();

  // Starts recording the next episode of `dataset`. On the simulated rig the scene is reset first: a new
  // cube position and operator plan drawn from the seed. Returns the episode's path.
  std::string beginTake(const DatasetFolder& dataset, const TakeOptions& options);
  // Finishes the file and records it in the dataset index; on the simulated rig `success` says whether
  // the cube ended in the bin at the take's last tick. A take cut short by a bus or camera error is saved
  // as incomplete with the reason. Throws RecorderError if writing failed (what was flushed is kept).
  EpisodeResult endTake();
  // Re-record: the current take's file is deleted (and its number reused). Returns its path.
  std::string discardTake();
  // Simulated rigs: a new scene drawn from `seed`, as beginTake makes it, without recording (eval runs
  // each seed). Real rigs: nothing.
  void newScene(unsigned seed);
  // The simulated rig knows whether the cube ended in the bin; real rigs ask the operator.
  std::optional<bool> sceneSuccess() const;

  const RigConfig& config() const { return rig_->config(); }
  Clock& clock() { return *clock_; }
  Rig& rig() { return *rig_; }
  ControlLoop& loop() { return *loop_; }
  EpisodeRecorder& recorder() { return recorder_; }
  bool fasterThanRealTime() const { return !clock_->isRealTime(); }

 private:
  void resetScene(unsigned seed);
  void changeScene(unsigned seed, const std::function<void()>& then);

  TeleopController teleop_;  // outlives the loop, which may point at it
  std::unique_ptr<Clock> clock_;
  std::unique_ptr<Rig> rig_;
  std::unique_ptr<ControlLoop> loop_;
  EpisodeRecorder recorder_;
  std::string takeDataset_;
  std::string loopErrorAtBegin_;  // an error from before this take does not cut it short
};

}  // namespace flywheel
