// The last word before a goal reaches a follower: joint limits and a maximum step per tick.
#pragma once

#include <cstdint>

#include "core/config.hpp"
#include "core/types.hpp"

namespace flywheel {

struct JointLimits {
  JointVector lower;
  JointVector upper;
  double maxStep = 0.0;  // radians (or gripper units) per tick

  static JointLimits forArms(const std::vector<const ArmConfig*>& arms, double maxStep);
};

struct SafetyCounters {
  std::uint64_t limitClamps = 0;    // joint values pulled back inside their limits
  std::uint64_t stepClamps = 0;     // joint values slowed to the maximum step
  std::uint64_t rejectedGoals = 0;  // goals with NaN/inf or the wrong size: previous goal held
};

// Returns the goal that is safe to send given the previously sent goal.
JointVector applySafety(const JointVector& goal, const JointVector& previousGoal, const JointLimits& limits,
                        SafetyCounters& counters);

}  // namespace flywheel
