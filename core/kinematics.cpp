#include "core/kinematics.hpp"

#include <cmath>
#include <numbers>

namespace flywheel {
namespace {
using Eigen::AngleAxisd;
using Eigen::Vector3d;
constexpr double kHalfPi = std::numbers::pi / 2.0;
}  // namespace

Eigen::Isometry3d mountTransform(double x, double y, double yawRadians) {
  Eigen::Isometry3d t = Eigen::Isometry3d::Identity();
  t.translate(Vector3d(x, y, 0.0));
  t.rotate(AngleAxisd(yawRadians, Vector3d::UnitZ()));
  return t;
}

ArmKinematics::ArmKinematics(ArmGeometry geometry, const Eigen::Isometry3d& mount)
    : geometry_(geometry), mount_(mount) {}

// Shoulder pitch tilts the upper arm forward from vertical; at q = 0 the forearm points forward
// horizontally and the hand continues it. Positive pitches tilt downward.
ArmPose ArmKinematics::forward(const JointVector& q) const {
  Eigen::Isometry3d t = mount_;
  ArmPose pose;
  pose.base = t.translation();
  t.translate(Vector3d(0, 0, geometry_.shoulderHeight));
  t.rotate(AngleAxisd(q[0], Vector3d::UnitZ()));
  pose.shoulder = t.translation();
  t.rotate(AngleAxisd(q[1], Vector3d::UnitY()));
  t.translate(Vector3d(0, 0, geometry_.upperArm));
  pose.elbow = t.translation();
  t.rotate(AngleAxisd(q[2], Vector3d::UnitY()));
  t.translate(Vector3d(geometry_.forearm, 0, 0));
  pose.wrist = t.translation();
  t.rotate(AngleAxisd(q[3], Vector3d::UnitX()));
  t.rotate(AngleAxisd(q[4], Vector3d::UnitY()));
  t.rotate(AngleAxisd(q[5], Vector3d::UnitX()));
  t.translate(Vector3d(geometry_.hand, 0, 0));
  pose.fingertip = t.translation();
  pose.tool = t;
  return pose;
}

std::optional<std::array<double, 6>> ArmKinematics::inverseTopDown(const Vector3d& target, double yaw) const {
  const Vector3d local = mount_.inverse() * target;
  const double waist = std::atan2(local.y(), local.x());
  // Work in the vertical plane of the arm: r forward from the shoulder axis, z up from the shoulder.
  const double r = std::hypot(local.x(), local.y());
  const double z = local.z() + geometry_.hand - geometry_.shoulderHeight;
  const double l1 = geometry_.upperArm, l2 = geometry_.forearm;
  const double reach2 = r * r + z * z;
  const double cosBend = (reach2 - l1 * l1 - l2 * l2) / (2.0 * l1 * l2);
  if (cosBend < -1.0 || cosBend > 1.0) return std::nullopt;
  const double bend = -std::acos(cosBend);  // elbow up: the forearm bends down from the upper arm
  const double upperElevation = std::atan2(z, r) - std::atan2(l2 * std::sin(bend), l1 + l2 * std::cos(bend));
  const double shoulder = kHalfPi - upperElevation;
  const double elbow = -bend - kHalfPi;
  const double wristAngle = kHalfPi - shoulder - elbow;  // hand pitched straight down
  // Pointing down, the fingers' axis (tool y) lies at world yaw mountYaw + waist + pi/2 - wristRotate.
  // The gripper is symmetric, so any half turn will do: take the smallest.
  const double mountYaw = std::atan2(mount_.rotation()(1, 0), mount_.rotation()(0, 0));
  const double wristRotate = std::remainder(mountYaw + waist + kHalfPi - yaw, std::numbers::pi);
  return std::array<double, 6>{waist, shoulder, elbow, 0.0, wristAngle, wristRotate};
}

}  // namespace flywheel
