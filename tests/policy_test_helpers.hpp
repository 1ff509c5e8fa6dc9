// Test helpers for policy code: a ControlInput that owns what it refers to, a controller that lets an
// action source drive alone (a policy run with no takeover, to test execution by itself), and a policy
// with a visible effect.
#pragma once

#include <atomic>
#include <chrono>
#include <cmath>
#include <thread>

#include "core/controller.hpp"
#include "policy/action_source.hpp"
#include "policy/policy.hpp"

namespace flywheel::testing {

// One tick's input with followers at `position`, no leaders, the last goal where the followers are.
struct TickInput {
  std::uint64_t tick = 0;
  JointState followers;
  std::vector<JointState> leaders;
  JointVector lastGoal;
  RigLayout layout;

  TickInput(std::uint64_t atTick, const JointVector& position)
      : tick(atTick),
        followers(JointState::zeros(position.size())),
        lastGoal(position),
        layout({position.size()}, {}) {
    followers.position = position;
  }
  operator ControlInput() const { return {tick, 0.0, followers, leaders, lastGoal, false, layout, 0.0}; }
};

class ActionsOnlyController final : public Controller {
 public:
  explicit ActionsOnlyController(ActionSource& actions) : actions_(actions) {}
  ControlMode mode() const override { return ControlMode::Policy; }
  ControlOutput update(const ControlInput& input) override {
    ControlOutput output;
    const std::optional<JointVector> action = actions_.nextAction(input);
    output.followerGoal = action ? *action : input.lastGoal;
    output.inControl = InControl::Policy;
    if (action) output.proposal = *action;
    return output;
  }

 private:
  ActionSource& actions_;
};

// Moves the followers from where they are towards a fixed pose: a policy with a visible effect.
class TowardsPosePolicy final : public Policy {
 public:
  explicit TowardsPosePolicy(JointVector pose, int horizon = 10)
      : pose_(std::move(pose)), horizon_(horizon) {}
  std::string describe() const override { return "towards-pose"; }
  PolicyOutput infer(const Observation& observation, const std::string&) override {
    if (fail) throw PolicyError("connection refused");
    if (sleepSeconds > 0) std::this_thread::sleep_for(std::chrono::duration<double>(sleepSeconds));
    PolicyOutput output;
    output.actions = {horizon_, static_cast<int>(pose_.size()), {}};
    for (int i = 1; i <= horizon_; ++i)
      for (std::size_t j = 0; j < pose_.size(); ++j) {
        const double from = observation.state.position[j];
        output.actions.values.push_back(from + (pose_[j] - from) * std::min(1.0, 0.05 * i));
      }
    if (sendNaN) output.actions.values[3] = std::nan("");
    return output;
  }
  std::atomic<bool> fail{false};
  std::atomic<bool> sendNaN{false};
  std::atomic<double> sleepSeconds{0.0};

 private:
  JointVector pose_;
  int horizon_;
};

}  // namespace flywheel::testing
