// What a simulated camera sees: a snapshot of the table scene, copied under a lock and drawn without one.
#pragma once

#include <Eigen/Geometry>
#include <vector>

#include "core/kinematics.hpp"

namespace flywheel::sim {

struct ArmSnapshot {
  ArmPose pose;
  double gripperOpening = 0.0;  // metres between the fingers
  bool drawHand = true;         // false for the arm a wrist camera rides on: it sees only the fingers
};

struct SceneSnapshot {
  double time = 0.0;
  std::vector<ArmSnapshot> arms;  // followers only: leaders stand elsewhere in the room
  Eigen::Vector3d cubeCenter{0.3, 0.0, 0.02};
  double cubeYaw = 0.0;
  double cubeSize = 0.04;
  Eigen::Vector2d binCenter{0.2, 0.3};     // the bin the instruction names (the only one, usually)
  std::vector<Eigen::Vector2d> otherBins;  // tasks with several bins: the others, drawn alike
  double binSize = 0.14;
  double binHeight = 0.06;
};

}  // namespace flywheel::sim
