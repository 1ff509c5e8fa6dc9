#include "policy/takeover.hpp"

#include <cmath>
#include <cstdio>

namespace flywheel {

const char* nameOf(Control control) {
  switch (control) {
    case Control::Policy:
      return "policy";
    case Control::Human:
      return "human";
    case Control::HandingBack:
      return "handing back";
  }
  return "?";
}

TakeoverSupervisor::TakeoverSupervisor(ActionSource& policy, const TakeoverConfig& config,
                                       double controlPeriod)
    : policy_(policy),
      config_(config),
      blendTicks_(std::max(1L, std::lround(config.handBackSeconds / controlPeriod))) {}

TakeoverStatus TakeoverSupervisor::status() const {
  std::lock_guard lock(mutex_);
  return status_;
}

void TakeoverSupervisor::enter(Control control, const std::string& cause) {
  control_ = control;
  ticksInState_ = 0;
  ticksOverThreshold_ = 0;
  std::lock_guard lock(mutex_);
  status_.control = control;
  if (control == Control::Human) {
    ++status_.takeovers;
    status_.lastCause = cause;
  }
}

// A leader the human grabbed: away from where it should be (its mirrored goal, or where it rested) by
// more than the threshold for a few ticks in a row.
std::optional<std::string> TakeoverSupervisor::leaderPushed(const PolicyTick& tick) {
  const JointVector& expected = config_.mirrorLeaders ? tick.leaderPositionGoal : restingLeaders_;
  double worst = 0.0;
  std::size_t worstJoint = 0;
  for (std::size_t j = 0; j < tick.leaderCommand.size() && j < expected.size(); ++j) {
    if (!tick.ledByLeader[j]) continue;
    const double deviation = std::abs(tick.leaderCommand[j] - expected[j]);
    if (deviation > worst) {
      worst = deviation;
      worstJoint = j;
    }
  }
  ticksOverThreshold_ = worst > config_.threshold ? ticksOverThreshold_ + 1 : 0;
  if (ticksOverThreshold_ < config_.confirmTicks) return std::nullopt;
  char cause[96];
  std::snprintf(cause, sizeof cause, "leader moved: joint %zu by %.2f", worstJoint, worst);
  return std::string(cause);
}

PolicyDecision TakeoverSupervisor::decide(const PolicyTick& tick) {
  PolicyDecision decision;
  std::optional<JointVector> proposed = policy_.nextAction(tick.latest);
  if (proposed) decision.proposed = *proposed;
  if (restingLeaders_.size() != tick.leaderCommand.size()) restingLeaders_ = tick.leaderCommand;
  ++ticksInState_;

  if (control_ == Control::Policy) {
    std::optional<std::string> pushed = leaderPushed(tick);
    if (takeoverRequested_.exchange(false)) pushed = "key";
    handBackRequested_ = false;
    if (pushed) enter(Control::Human, *pushed);
  } else if (control_ == Control::Human && handBackRequested_.exchange(false)) {
    takeoverRequested_ = false;
    humanLastCommand_ = tick.leaderCommand;
    enter(Control::HandingBack);
  } else if (control_ == Control::HandingBack && takeoverRequested_.exchange(false)) {
    enter(Control::Human, "key");
  }

  switch (control_) {
    case Control::Policy:
      decision.goal = std::move(proposed);
      decision.mirrorLeaders = config_.mirrorLeaders;
      break;
    case Control::Human:
      decision.goal = tick.leaderCommand;
      decision.humanInControl = true;
      break;
    case Control::HandingBack: {
      // The human's last command fades into the policy's actions; without actions the human's stays.
      const double alpha =
          std::min(1.0, static_cast<double>(ticksInState_) / static_cast<double>(blendTicks_));
      JointVector goal = humanLastCommand_;
      if (proposed)
        for (std::size_t j = 0; j < goal.size(); ++j)
          goal[j] += alpha * ((*proposed)[j] - goal[j]);
      decision.goal = std::move(goal);
      decision.humanInControl = true;  // mixed ticks are not the policy's own actions
      decision.mirrorLeaders = config_.mirrorLeaders;
      if (alpha >= 1.0 && proposed) {
        restingLeaders_ = tick.leaderCommand;
        enter(Control::Policy);
      }
      break;
    }
  }
  return decision;
}

}  // namespace flywheel
