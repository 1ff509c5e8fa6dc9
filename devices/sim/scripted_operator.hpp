// A scripted human at the leader arm: reach the cube, grasp, lift, place it in the bin, go home. Timing,
// aim and grasp offsets vary per episode, so recordings are real demonstrations that sometimes fail.
#pragma once

#include <Eigen/Core>
#include <random>
#include <vector>

#include "core/kinematics.hpp"

namespace flywheel::sim {

struct HandTarget {
  Eigen::Vector3d position;  // fingertip, world
  double yaw = 0.0;          // finger direction, world
  double gripper = 1.0;      // 0 closed .. 1 open
};

class ScriptedOperator {
 public:
  // Plans the whole task for the arm with `kinematics` from the cube and bin positions.
  ScriptedOperator(const ArmKinematics& kinematics, const Eigen::Vector3d& cube, double cubeYaw,
                   const Eigen::Vector2d& bin, double binHeight, std::mt19937& random);
  ScriptedOperator() = default;
  struct Waypoint {
    double duration;  // seconds to reach `target` from the previous waypoint
    HandTarget target;
  };
  // A plan given waypoint by waypoint; the first is where the hand starts (its duration a pause there).
  explicit ScriptedOperator(std::vector<Waypoint> plan) : plan_(std::move(plan)) {}

  HandTarget targetAt(double seconds) const;
  double duration() const;
  static HandTarget home(const ArmKinematics& kinematics);

 private:
  std::vector<Waypoint> plan_;
};

}  // namespace flywheel::sim
