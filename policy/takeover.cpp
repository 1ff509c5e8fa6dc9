#include "policy/takeover.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>

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

TakeoverSupervisor::TakeoverSupervisor(const TakeoverConfig& config, double controlPeriod)
    : config_(config),
      blendTicks_(std::max(1L, std::lround(config.handBackSeconds / controlPeriod))),
      lagTicks_(
          static_cast<std::size_t>(std::max(1L, std::lround(config.leaderLagSeconds / controlPeriod)))) {}

TakeoverStatus TakeoverSupervisor::status() const {
  std::lock_guard lock(mutex_);
  return status_;
}

void TakeoverSupervisor::enter(Control control, const std::string& cause) {
  control_ = control;
  blendTicksDone_ = 0;
  ticksOverThreshold_ = 0;
  lastDeviation_ = 0.0;
  recentLeaderGoals_.clear();
  std::lock_guard lock(mutex_);
  status_.control = control;
  if (control == Control::Human) {
    ++status_.takeovers;
    status_.lastCause = cause;
  }
}

// Per tick, a deviation shrinking by more than this share of the threshold is a servo closing on its goal.
constexpr double kReturningFraction = 0.1;

// Where leader joint j may be without counting as pushed, [low, high]: for a mirrored leader, anywhere its
// goal was during the last leader_lag_seconds (a servo trails a moving goal); for a leader that is not
// mirrored, where it rested when the policy took over.
std::pair<double, double> TakeoverSupervisor::allowedRange(std::size_t j, double position) const {
  if (!config_.mirrorLeaders) {
    const double rest = j < restingLeaders_.size() ? restingLeaders_[j] : position;
    return {rest, rest};
  }
  double low = std::numeric_limits<double>::infinity();
  double high = -low;
  for (const JointVector& goal : recentLeaderGoals_)
    if (j < goal.size()) {
      low = std::min(low, goal[j]);
      high = std::max(high, goal[j]);
    }
  return low <= high ? std::pair{low, high} : std::pair{position, position};
}

// A leader the human grabbed: outside its allowed range by more than the threshold for a few ticks in a row.
std::optional<std::string> TakeoverSupervisor::leaderPushed(const TakeoverTick& tick) {
  if (config_.mirrorLeaders) {
    recentLeaderGoals_.push_back(tick.leaderGoal);
    if (recentLeaderGoals_.size() > lagTicks_) recentLeaderGoals_.pop_front();
  }
  double worst = 0.0;
  std::size_t worstJoint = 0;
  for (std::size_t j = 0; j < tick.leaderCommand.size(); ++j) {
    if (!tick.ledByLeader[j]) continue;
    const double position = tick.leaderCommand[j];
    const auto [low, high] = allowedRange(j, position);
    const double deviation = std::max({0.0, low - position, position - high});
    if (deviation > worst) {
      worst = deviation;
      worstJoint = j;
    }
  }
  // A leader on its way back to its goal (let go of, or dropped while its torque came on) is no grab.
  const bool returning = worst < lastDeviation_ - config_.threshold * kReturningFraction;
  lastDeviation_ = worst;
  ticksOverThreshold_ = worst > config_.threshold && !returning ? ticksOverThreshold_ + 1 : 0;
  if (ticksOverThreshold_ < config_.confirmTicks) return std::nullopt;
  char cause[96];
  std::snprintf(cause, sizeof cause, "leader moved: joint %zu by %.2f", worstJoint, worst);
  return std::string(cause);
}

TakeoverDecision TakeoverSupervisor::decide(const TakeoverTick& tick) {
  TakeoverDecision decision;
  const std::optional<JointVector>& proposed = tick.proposed;
  if (restingLeaders_.size() != tick.leaderCommand.size()) restingLeaders_ = tick.leaderCommand;

  if (control_ == Control::Policy) {
    std::optional<std::string> pushed = leaderPushed(tick);
    if (takeoverRequested_.exchange(false)) pushed = "key";
    handBackRequested_ = false;
    if (pushed) enter(Control::Human, *pushed);
  } else if (control_ == Control::Human && handBackRequested_.exchange(false)) {
    takeoverRequested_ = false;
    humanLastCommand_ = tick.leaderCommand;
    enter(Control::HandingBack);
  } else if (control_ == Control::HandingBack) {
    // The human may grab the leader again, or press the key, before the blend is over.
    std::optional<std::string> pushed = config_.mirrorLeaders ? leaderPushed(tick) : std::nullopt;
    if (takeoverRequested_.exchange(false)) pushed = "key";
    if (pushed) enter(Control::Human, *pushed);
  }

  switch (control_) {
    case Control::Policy:
      decision.goal = proposed;
      decision.mirrorLeaders = config_.mirrorLeaders;
      break;
    case Control::Human:
      decision.goal = tick.leaderCommand;
      decision.humanInControl = true;
      break;
    case Control::HandingBack: {
      // The human's last command fades into the policy's actions. The blend advances only on ticks
      // with an action; without one the followers hold where the blend got to (nullopt), rather than
      // snapping back to the human's pose.
      decision.humanInControl = true;  // mixed ticks are not the policy's own actions
      decision.mirrorLeaders = config_.mirrorLeaders;
      if (!proposed) break;
      ++blendTicksDone_;
      const double alpha =
          std::min(1.0, static_cast<double>(blendTicksDone_) / static_cast<double>(blendTicks_));
      JointVector goal = humanLastCommand_;
      for (std::size_t j = 0; j < goal.size(); ++j)
        goal[j] += alpha * ((*proposed)[j] - goal[j]);
      decision.goal = std::move(goal);
      if (alpha >= 1.0) {
        restingLeaders_ = tick.leaderCommand;
        enter(Control::Policy);
      }
      break;
    }
  }
  return decision;
}

}  // namespace flywheel
