// A scripted person supervising a policy on the simulated rig, as a real operator would: each control tick
// it watches the scene and, when the robot goes wrong, grabs the leader arm, does the task from wherever
// the robot is, then lets go. Nothing here touches the takeover state machine directly: the grab is the
// scripted hand moving the leader away from its mirrored goal (SimWorld::setHandOnLeaders and a plan), which
// policy/takeover's leader-deviation detector has to notice; letting go is the hand leaving the leader plus
// the operator's "done" key (the same requestHandBack a real operator presses), which starts the blended
// hand-back. Each correction is kept with its reason for the episode's labels.
#pragma once

#include <functional>
#include <mutex>
#include <string>
#include <vector>

#include "core/controller.hpp"
#include "devices/sim/scripted_operator.hpp"

namespace flywheel::sim {

class SimWorld;

struct SupervisorSettings {
  double offPlanMetres = 0.06;     // the gripper this far from every point of the operator's plan ...
  double offPlanSeconds = 0.8;     // ... for this long is "off the plan"
  double noProgressSeconds = 3.0;  // the gripper came no closer to its goal (the cube, the bin) for this long
  double progressMetres = 0.01;    // what counts as coming closer
  double settleSeconds = 1.0;      // after the policy has the robot back, before watching again
  int finishAfter = 2;             // from this correction of an episode on, the hand finishes the task
};

struct Correction {
  double start = 0.0;  // rig clock: the takeover detector gave the human control
  double end = -1.0;   // rig clock: the policy drives again after the hand-back blend; -1 while open
  std::string reason;  // "dropped the cube", "off the plan", "no progress"
};

class ScriptedSupervisor {
 public:
  // handBack: the operator's "done" key, called on the loop thread once the hand has let go.
  ScriptedSupervisor(SimWorld& world, std::function<void()> handBack, SupervisorSettings settings = {});

  // Once per control tick on the loop thread, after the takeover supervisor decided: `time` the tick's
  // rig clock, `humanInControl` whether the human controls the followers this tick (blend included).
  void tick(double time, bool humanInControl);

  std::vector<Correction> corrections() const;  // thread-safe
  int unnoticedGrabs() const;                   // grabs the detector never saw (the hand let go anyway)

 private:
  enum class State { Watching, Grabbing, Correcting, Releasing, Done };
  struct Scene;
  Scene look() const;
  void watch(double time, const Scene& scene);
  std::string wrongness(double time, const Scene& scene);
  void startReference(double time, const Scene& scene);
  void grab(double time, const Scene& scene, const std::string& reason);
  bool backOnTrack(const Scene& scene) const;
  void letGo(double time, bool pressDone);

  SimWorld& world_;
  std::function<void()> handBack_;
  SupervisorSettings settings_;

  // Loop-thread state.
  State state_ = State::Watching;
  bool started_ = false;
  bool wasHeld_ = false;
  bool dropped_ = false;  // the cube left the gripper outside the bin while the policy drove
  double settleUntil_ = 0.0;
  ScriptedOperator reference_;  // where the operator's own plan would have the gripper, from the last replan
  double referenceStart_ = 0.0;
  bool referenceHeld_ = false;
  double offSince_ = -1.0;
  double bestDistance_ = 1e9;
  double bestAt_ = 0.0;
  ScriptedOperator correction_;  // what the hand does while it holds the leader
  double grabbedAt_ = 0.0;
  std::string reason_;
  int grabs_ = 0;

  mutable std::mutex mutex_;
  std::vector<Correction> corrections_;
  int unnoticed_ = 0;
};

// A controller (the policy controller) with the supervisor watching: on the loop thread, after each
// decision, so the supervisor sees who controls the robot on the very tick it looks at the scene.
class SupervisedController final : public Controller {
 public:
  SupervisedController(Controller& inner, ScriptedSupervisor& supervisor)
      : inner_(inner), supervisor_(supervisor) {}
  ControlMode mode() const override { return inner_.mode(); }
  ControlOutput update(const ControlInput& input) override {
    ControlOutput output = inner_.update(input);
    supervisor_.tick(input.time, output.inControl == InControl::Human);
    return output;
  }

 private:
  Controller& inner_;
  ScriptedSupervisor& supervisor_;
};

// The operator's plan from `start` (the gripper's pose now) given the cube and bin: reach and grasp the
// cube unless it is held, carry it over the bin, release it, go home. `untilGrasp` stops at the grasp.
ScriptedOperator planFrom(const HandTarget& start, const HandTarget& home, const Eigen::Vector3d& cube,
                          double cubeYaw, bool cubeHeld, const Eigen::Vector2d& bin, double binHeight,
                          bool untilGrasp);

}  // namespace flywheel::sim
