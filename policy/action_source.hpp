// Where a policy controller's actions come from (the chunk executor, or a main policy with a fallback):
// one action per tick, or none yet.
#pragma once

#include <optional>

#include "core/controller.hpp"

namespace flywheel {

class ActionSource {
 public:
  virtual ~ActionSource() = default;
  // This tick's action for every follower joint; nullopt: none (the followers hold).
  virtual std::optional<JointVector> nextAction(const ControlInput& input) = 0;
  // Which policy produced the last action nextAction returned (a source of one policy: always Main).
  virtual PolicySource source() const { return PolicySource::Main; }
};

}  // namespace flywheel
