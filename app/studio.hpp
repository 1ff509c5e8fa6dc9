// The composition root shared by the CLI and the GUI: a rig, its control loop and the episode recorder,
// built from one configuration and torn down in the right order.
#pragma once

#include <memory>
#include <optional>

#include "core/clock.hpp"
#include "core/control_loop.hpp"
#include "devices/rig.hpp"
#include "recorder/episode_recorder.hpp"

namespace flywheel {

class Studio {
 public:
  // fasterThanRealTime: a manual clock; the loop runs as fast as the machine allows and the recorder
  // waits for the writer instead of dropping ticks.
  explicit Studio(RigConfig config, bool fasterThanRealTime = false);
  ~Studio();

  void start(ControlMode mode);  // connects the rig and starts the loop thread
  void stop();

  // Starts recording the next episode of `dataset`. On the simulated rig the scene is reset first: a new
  // cube position and operator plan drawn from `seed`. Returns the episode's path.
  std::string beginTake(const DatasetFolder& dataset, const std::string& task, unsigned seed,
                        std::optional<std::uint64_t> maxTicks);
  // Finishes the file; on the simulated rig `success` says whether the cube ended in the bin.
  EpisodeResult endTake();
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

  std::unique_ptr<Clock> clock_;
  std::unique_ptr<Rig> rig_;
  std::unique_ptr<ControlLoop> loop_;
  EpisodeRecorder recorder_;
};

}  // namespace flywheel
