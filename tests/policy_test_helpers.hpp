// Test helpers for policy code: a ControlInput that owns what it refers to, and a controller that lets an
// action source drive alone (a policy run with no takeover, to test execution by itself).
#pragma once

#include "core/controller.hpp"
#include "policy/action_source.hpp"

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

}  // namespace flywheel::testing
