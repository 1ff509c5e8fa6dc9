#include "core/teleop_controller.hpp"

namespace flywheel {

ControlOutput TeleopController::update(const ControlInput& input) {
  ControlOutput output;
  output.followerGoal = input.layout.leaderCommand(input.leaders, input.lastGoal);
  output.inControl = InControl::Human;
  return output;
}

}  // namespace flywheel
