// Forward and inverse kinematics of the 6-joint arms the studio simulates (ViperX-like layout:
// waist, shoulder, elbow, forearm roll, wrist angle, wrist rotate) with Eigen.
#pragma once

#include <Eigen/Geometry>
#include <array>
#include <optional>

#include "core/types.hpp"

namespace flywheel {

struct ArmGeometry {
  double shoulderHeight = 0.10;  // metres above the table
  double upperArm = 0.30;
  double forearm = 0.30;
  double hand = 0.14;  // wrist centre to fingertip centre
};

// Points along the arm in world coordinates, for drawing and for grasp checks.
struct ArmPose {
  Eigen::Vector3d base, shoulder, elbow, wrist, fingertip;
  Eigen::Isometry3d tool;  // at the fingertip; x along the hand, y across the fingers
};

class ArmKinematics {
 public:
  ArmKinematics(ArmGeometry geometry, const Eigen::Isometry3d& mount);

  // q holds at least the six arm joints (a trailing gripper is ignored).
  ArmPose forward(const JointVector& q) const;

  // Joints that put the fingertip at `target` (world) with the hand pointing straight down and the line
  // between the fingers (tool y) at world angle `yaw`. Empty when out of reach.
  std::optional<std::array<double, 6>> inverseTopDown(const Eigen::Vector3d& target, double yaw) const;

  const Eigen::Isometry3d& mount() const { return mount_; }
  const ArmGeometry& geometry() const { return geometry_; }

 private:
  ArmGeometry geometry_;
  Eigen::Isometry3d mount_;
};

Eigen::Isometry3d mountTransform(double x, double y, double yawRadians);

}  // namespace flywheel
