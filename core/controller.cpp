#include "core/controller.hpp"

#include <algorithm>

namespace flywheel {

const char* nameOf(ControlMode mode) {
  switch (mode) {
    case ControlMode::Idle:
      return "idle";
    case ControlMode::Teleop:
      return "teleop";
    case ControlMode::Policy:
      return "policy";
    case ControlMode::Intervention:
      return "intervention";
  }
  return "?";
}

const char* nameOf(PolicySource source) {
  switch (source) {
    case PolicySource::None:
      return "none";
    case PolicySource::Main:
      return "main";
    case PolicySource::Fallback:
      return "fallback";
    case PolicySource::Human:
      return "human";
  }
  return "?";
}

RigLayout::RigLayout(std::vector<std::size_t> followerJointCounts,
                     std::vector<std::pair<std::size_t, std::size_t>> armPairs)
    : followerJoints(std::move(followerJointCounts)), pairs(std::move(armPairs)) {
  std::size_t offset = 0;
  for (std::size_t joints : followerJoints) {
    followerOffsets.push_back(offset);
    offset += joints;
  }
  ledByLeader.assign(offset, false);
  for (auto [leader, follower] : pairs)
    std::fill_n(ledByLeader.begin() + static_cast<long>(followerOffsets[follower]), followerJoints[follower],
                true);
}

JointVector RigLayout::leaderCommand(const std::vector<JointState>& leaders,
                                     const JointVector& unpaired) const {
  JointVector command = unpaired;
  for (auto [leader, follower] : pairs) {
    const JointVector& source = leaders[leader].position;
    std::copy(source.begin(), source.end(), command.begin() + static_cast<long>(followerOffsets[follower]));
  }
  return command;
}

}  // namespace flywheel
