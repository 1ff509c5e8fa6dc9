#include "devices/servo/servo_protocol.hpp"

#include <stdexcept>

#include "devices/servo/dynamixel_protocol.hpp"
#include "devices/servo/feetech_protocol.hpp"

namespace flywheel {

std::unique_ptr<const ServoProtocol> makeServoProtocol(BusProtocol protocol) {
  switch (protocol) {
    case BusProtocol::Dynamixel:
      return std::make_unique<DynamixelProtocol>();
    case BusProtocol::Feetech:
      return std::make_unique<FeetechProtocol>();
  }
  throw std::invalid_argument("unknown servo bus protocol");
}

}  // namespace flywheel
