// What moves the robot on a tick. The control loop reads every arm, hands the readings to its one
// controller, applies safety to what the controller answers and writes it (ros2_control's
// read → update → write). A mode is a controller installed, not a flag: teleoperation is a
// TeleopController, a policy run is policy/'s PolicyController, and no controller holds the followers.
#pragma once

#include <cstdint>
#include <optional>
#include <utility>
#include <vector>

#include "core/types.hpp"

namespace flywheel {

// Who commands the followers this tick: a person (through the leader arms), a policy, or nobody.
enum class InControl { Nobody, Human, Policy };

// The kind of controller installed, as the status shows it. Idle: none. Intervention is derived, never
// installed: a policy controller reporting a human in control.
enum class ControlMode { Idle, Teleop, Policy, Intervention };
// Not "toString": QTest finds a toString by ADL and frees what it returns.
const char* nameOf(ControlMode mode);

// How the rig's arms map onto the concatenated follower joint vector, and who leads whom.
struct RigLayout {
  std::vector<std::size_t> followerJoints;                 // per follower arm
  std::vector<std::size_t> followerOffsets;                // first joint of each follower arm
  std::vector<std::pair<std::size_t, std::size_t>> pairs;  // (leader index, follower index)
  std::vector<bool> ledByLeader;                           // per follower joint: has a paired leader

  RigLayout() = default;
  RigLayout(std::vector<std::size_t> followerJointCounts,
            std::vector<std::pair<std::size_t, std::size_t>> pairs);
  // The follower goals the leaders command (teleoperation): paired joints copied from their leader,
  // the others from `unpaired`.
  JointVector leaderCommand(const std::vector<JointState>& leaders, const JointVector& unpaired) const;
};

// This tick's readings.
struct ControlInput {
  std::uint64_t tick = 0;
  double time = 0.0;                       // measured tick start, rig clock seconds
  const JointState& followers;             // every follower, concatenated in rig order
  const std::vector<JointState>& leaders;  // one per leader arm, in rig order
  const JointVector& lastGoal;             // the last safe goal the followers were sent
  bool leadersDriven = false;              // the leaders' torque is on: they were sent goals last tick
  const RigLayout& layout;
  double maxJointStep = 0.0;  // the most a follower joint may move in a tick (safety clamps to it)
};

struct ControlOutput {
  JointVector followerGoal;  // concatenated; the loop applies safety before writing it
  // In follower joint order: each paired leader is driven to its follower's slice with torque on.
  // nullopt: leaders torque off, free in a person's hand.
  std::optional<JointVector> leaderGoal;
  InControl inControl = InControl::Nobody;
  JointVector
      proposal;  // the policy's own action this tick, recorded beside the executed one; empty when none
  PolicySource source = PolicySource::None;  // policy runs: which policy (or the human) produced the goal
};

class Controller {
 public:
  virtual ~Controller() = default;
  virtual ControlMode mode() const = 0;  // Teleop or Policy
  // Called on the loop thread once per tick; must not block for long.
  virtual ControlOutput update(const ControlInput& input) = 0;
};

}  // namespace flywheel
