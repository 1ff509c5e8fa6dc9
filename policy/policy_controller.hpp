// A policy drives the followers, with a human ready to take over: what moves the robot on a policy tick.
// Each tick it takes the action source's action (the chunk executor), lets the takeover supervisor decide
// who is in control (policy, human, or the blend handing back), and while the policy drives it mirrors the
// followers onto the leaders (torque on) so that a person grabbing a leader feels the robot and is noticed.
#pragma once

#include "core/config.hpp"
#include "core/controller.hpp"
#include "policy/action_source.hpp"
#include "policy/takeover.hpp"

namespace flywheel {

class PolicyController final : public Controller {
 public:
  // actions: not owned, outlives the controller. controlPeriod: seconds per tick.
  PolicyController(ActionSource& actions, const TakeoverConfig& config, double controlPeriod);

  ControlMode mode() const override { return ControlMode::Policy; }
  ControlOutput update(const ControlInput& input) override;

  // Thread-safe: the key, or the scripted hand on the simulated rig.
  void requestTakeover() { takeover_.requestTakeover(); }
  void requestHandBack() { takeover_.requestHandBack(); }
  TakeoverStatus takeoverStatus() const { return takeover_.status(); }

 private:
  void stepLeaderGoalTowardsFollowers(const ControlInput& input);

  ActionSource& actions_;
  TakeoverSupervisor takeover_;
  JointVector leaderGoal_;  // in follower joint order: where the mirrored leaders were last sent
};

}  // namespace flywheel
