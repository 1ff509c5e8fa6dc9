// Teleoperation: each follower tracks its paired leader; unpaired followers hold. The leaders are free
// (torque off) in the operator's hands.
#pragma once

#include "core/controller.hpp"

namespace flywheel {

class TeleopController final : public Controller {
 public:
  ControlMode mode() const override { return ControlMode::Teleop; }
  ControlOutput update(const ControlInput& input) override;
};

}  // namespace flywheel
