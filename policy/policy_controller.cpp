#include "policy/policy_controller.hpp"

#include <algorithm>

namespace flywheel {

PolicyController::PolicyController(ActionSource& actions, const TakeoverConfig& config, double controlPeriod)
    : actions_(actions), takeover_(config, controlPeriod) {}

ControlOutput PolicyController::update(const ControlInput& input) {
  const std::optional<JointVector> proposed = actions_.nextAction(input);
  const JointVector leaderCommand = input.layout.leaderCommand(input.leaders, input.lastGoal);
  // A free leader is where it is now, so that mirroring starts from this tick's reading.
  if (!input.leadersDriven || leaderGoal_.size() != input.lastGoal.size()) leaderGoal_ = leaderCommand;

  TakeoverDecision decision =
      takeover_.decide({leaderCommand, input.layout.ledByLeader, leaderGoal_, proposed});
  ControlOutput output;
  output.followerGoal = decision.goal ? std::move(*decision.goal) : input.lastGoal;
  output.inControl = decision.humanInControl ? InControl::Human : InControl::Policy;
  if (proposed) output.proposal = *proposed;
  if (decision.humanInControl)
    output.source = PolicySource::Human;
  else if (decision.goal)
    output.source = actions_.source();
  if (decision.mirrorLeaders) {
    stepLeaderGoalTowardsFollowers(input);
    output.leaderGoal = leaderGoal_;
  }
  return output;
}

// Leaders approach their followers' positions no faster than the followers' own maximum step.
void PolicyController::stepLeaderGoalTowardsFollowers(const ControlInput& input) {
  const JointVector& target = input.followers.position;
  const double step = input.maxJointStep;
  for (std::size_t j = 0; j < leaderGoal_.size(); ++j)
    if (input.layout.ledByLeader[j]) leaderGoal_[j] += std::clamp(target[j] - leaderGoal_[j], -step, step);
}

}  // namespace flywheel
