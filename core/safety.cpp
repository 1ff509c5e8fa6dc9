#include "core/safety.hpp"

#include <algorithm>
#include <cmath>

namespace flywheel {

JointLimits JointLimits::forArms(const std::vector<const ArmConfig*>& arms, double maxStep) {
  JointLimits limits;
  limits.maxStep = maxStep;
  for (const ArmConfig* arm : arms)
    for (const JointConfig& joint : arm->joints) {
      limits.lower.push_back(joint.min);
      limits.upper.push_back(joint.max);
    }
  return limits;
}

JointVector applySafety(const JointVector& goal, const JointVector& previousGoal, const JointLimits& limits,
                        SafetyCounters& counters) {
  const std::size_t n = limits.lower.size();
  bool finite = std::all_of(goal.begin(), goal.end(), [](double v) { return std::isfinite(v); });
  if (goal.size() != n || !finite) {
    ++counters.rejectedGoals;
    return previousGoal;
  }
  JointVector safe(n);
  for (std::size_t i = 0; i < n; ++i) {
    double value = std::clamp(goal[i], limits.lower[i], limits.upper[i]);
    if (value != goal[i]) ++counters.limitClamps;
    double step = value - previousGoal[i];
    if (std::abs(step) > limits.maxStep) {
      value = previousGoal[i] + std::copysign(limits.maxStep, step);
      ++counters.stepClamps;
    }
    safe[i] = value;
  }
  return safe;
}

}  // namespace flywheel
