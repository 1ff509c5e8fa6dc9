// Where a policy controller's actions come from (the chunk executor): one action per tick, or none yet.
#pragma once

#include <optional>

#include "core/controller.hpp"

namespace flywheel {

class ActionSource {
 public:
  virtual ~ActionSource() = default;
  // This tick's action for every follower joint; nullopt: none (the followers hold).
  virtual std::optional<JointVector> nextAction(const ControlInput& input) = 0;
};

}  // namespace flywheel
