#include "devices/sim/scripted_operator.hpp"

#include <algorithm>
#include <cmath>

namespace flywheel::sim {
namespace {

double minimumJerk(double s) {
  s = std::clamp(s, 0.0, 1.0);
  return s * s * s * (10.0 - 15.0 * s + 6.0 * s * s);
}

double mountYaw(const ArmKinematics& k) {
  return std::atan2(k.mount().rotation()(1, 0), k.mount().rotation()(0, 0));
}

}  // namespace

HandTarget ScriptedOperator::home(const ArmKinematics& kinematics) {
  return {kinematics.mount() * Eigen::Vector3d(0.22, 0.0, 0.24), mountYaw(kinematics) + M_PI / 2.0, 1.0};
}

ScriptedOperator::ScriptedOperator(const ArmKinematics& kinematics, const Eigen::Vector3d& cube,
                                   double cubeYaw, const Eigen::Vector2d& bin, double binHeight,
                                   std::mt19937& random) {
  auto uniform = [&](double lo, double hi) { return std::uniform_real_distribution<double>(lo, hi)(random); };
  auto gaussian = [&](double sigma) { return std::normal_distribution<double>(0.0, sigma)(random); };
  const double pace = uniform(0.85, 1.2);  // some operators are quicker than others
  const HandTarget start = home(kinematics);

  // Where the operator believes the cube is: usually within a few millimetres.
  const Eigen::Vector3d aim = cube + Eigen::Vector3d(gaussian(0.006), gaussian(0.006), 0.0);
  const double graspYaw = cubeYaw + M_PI / 2.0 + gaussian(0.05);  // fingers across the cube's faces
  const Eigen::Vector3d above(aim.x(), aim.y(), 0.12);
  const Eigen::Vector3d atCube(aim.x(), aim.y(), cube.z() + 0.002);
  const Eigen::Vector3d lifted(aim.x(), aim.y(), 0.16);
  const Eigen::Vector3d overBin(bin.x() + gaussian(0.01), bin.y() + gaussian(0.01), 0.16);
  const Eigen::Vector3d inBin(overBin.x(), overBin.y(), binHeight + 0.05);

  plan_ = {
      {uniform(0.2, 0.6), start},
      {pace * uniform(1.3, 1.8), {above, graspYaw, 1.0}},
      {pace * uniform(0.7, 1.0), {atCube, graspYaw, 1.0}},
      {pace * 0.45, {atCube, graspYaw, 0.0}},
      {pace * uniform(0.6, 0.9), {lifted, graspYaw, 0.0}},
      {pace * uniform(1.2, 1.7), {overBin, start.yaw, 0.0}},
      {pace * 0.5, {inBin, start.yaw, 0.0}},
      {pace * 0.35, {inBin, start.yaw, 1.0}},
      {pace * uniform(1.0, 1.4), start},
  };
}

double ScriptedOperator::duration() const {
  double total = 0.0;
  for (const auto& w : plan_)
    total += w.duration;
  return total;
}

HandTarget ScriptedOperator::targetAt(double seconds) const {
  if (plan_.empty()) return {};
  HandTarget from = plan_.front().target;
  for (const auto& waypoint : plan_) {
    if (seconds < waypoint.duration) {
      double s = minimumJerk(seconds / waypoint.duration);
      const HandTarget& to = waypoint.target;
      return {from.position + s * (to.position - from.position), from.yaw + s * (to.yaw - from.yaw),
              from.gripper + s * (to.gripper - from.gripper)};
    }
    seconds -= waypoint.duration;
    from = waypoint.target;
  }
  return plan_.back().target;
}

}  // namespace flywheel::sim
