#include "devices/servo/servo_arm.hpp"

#include <numbers>

#include "devices/servo/feetech_protocol.hpp"

namespace flywheel {

ServoArm::ServoArm(const ArmConfig& config, const ServoModel& model, std::shared_ptr<ServoBus> bus,
                   ArmCalibration calibration)
    : config_(config), model_(model), bus_(std::move(bus)), calibration_(std::move(calibration)) {
  for (const JointConfig& joint : config.joints)
    ids_.push_back(static_cast<std::uint8_t>(joint.id));
  if (calibration_.joints.size() != config.joints.size())
    throw DeviceError("arm '" + config.name + "': the calibration has " +
                      std::to_string(calibration_.joints.size()) + " joints, the rig file " +
                      std::to_string(config.joints.size()) + "; run flywheel calibrate again");
}

ArmCalibration ServoArm::defaultCalibration(const ArmConfig& config, const ServoModel& model) {
  ArmCalibration c{config.name, config.port, model.name, {}};
  for (const JointConfig& joint : config.joints) {
    const int home = joint.offset != 0.0 ? static_cast<int>(joint.offset) : model.resolution / 2;
    c.joints.push_back({joint.name, home, 0, model.resolution - 1, static_cast<int>(joint.direction)});
  }
  return c;
}

void ServoArm::connect() {
  if (!bus_->isOpen()) bus_->open();
  for (std::uint8_t id : ids_) {
    std::uint16_t found = bus_->ping(id);
    if (found != model_.modelNumber) {
      const ServoModel* actual = findServoModel(model_.protocol, found);
      throw DeviceError("servo " + std::to_string(id) + " on " + bus_->portName() + " is " +
                        (actual ? "a " + actual->name : "model " + std::to_string(found)) +
                        ", the rig file says " + model_.name + " for arm '" + config_.name + "'");
    }
  }
  applyReturnDelay();
  connected_ = true;
}

void ServoArm::disconnect() {
  connected_ = false;
  bus_->close();
}

// Each reply waits the servo's Return Delay Time: the factory 500 us costs 3 ms per sync read of six
// servos (a 100 Hz Koch pair ran at 97 Hz). The rig's value (default 0) is written where it differs: an
// EEPROM write, so once per servo. A Dynamixel refuses it with torque on: torque goes off for the write
// and back on at once.
void ServoArm::applyReturnDelay() {
  const Register& reg = model_.returnDelay;
  const std::uint8_t units = static_cast<std::uint8_t>(config_.returnDelayUs / 2);
  auto current = bus_->syncRead(ids_, reg.address, reg.size);
  for (std::size_t j = 0; j < ids_.size(); ++j) {
    if (current[j].at(0) == units) continue;
    const std::uint8_t id = ids_[j], value[] = {units}, off[] = {0}, on[] = {1};
    const bool torque = model_.protocol == BusProtocol::Dynamixel &&
                        bus_->read(id, model_.torqueEnable.address, 1).at(0) != 0;
    if (torque) bus_->write(id, model_.torqueEnable.address, off);
    bus_->writeEeprom(id, reg.address, value, model_);
    if (torque) bus_->write(id, model_.torqueEnable.address, on);
  }
  bus_->setReturnDelay(std::chrono::microseconds(config_.returnDelayUs));
}

int ServoArm::field(const std::vector<std::uint8_t>& block, const Register& reg, int signBit) const {
  const std::size_t at = reg.address - model_.stateBlock.address;
  std::uint32_t value = 0;
  for (int i = reg.size - 1; i >= 0; --i)
    value = (value << 8) | block[at + i];
  if (signBit > 0) return feetech::decodeSignMagnitude(static_cast<std::uint16_t>(value), signBit);
  if (reg.size == 2) return static_cast<std::int16_t>(value);
  return static_cast<std::int32_t>(value);
}

JointState ServoArm::read() {
  auto blocks = bus_->syncRead(ids_, model_.stateBlock.address, model_.stateBlock.size);
  JointState state = JointState::zeros(ids_.size());
  const double radPerTick = 2.0 * std::numbers::pi / model_.resolution;
  for (std::size_t j = 0; j < ids_.size(); ++j) {
    const bool gripper = config_.joints[j].isGripper();
    const int raw = field(blocks[j], model_.presentPosition, model_.positionSignBit);
    const JointCalibration& c = calibration_.joints[j];
    double velocity =
        field(blocks[j], model_.presentVelocity, model_.velocitySignBit) * model_.velocityUnit * c.direction;
    if (gripper) velocity /= std::max(1, c.max - c.min) * radPerTick;  // normalised units per second
    state.position[j] = calibration_.toJoint(j, raw, gripper, model_.resolution);
    state.velocity[j] = velocity;
    state.effort[j] = field(blocks[j], model_.presentEffort, model_.effortSignBit);
  }
  return state;
}

std::vector<int> ServoArm::readRawPositions() {
  auto blocks = bus_->syncRead(ids_, model_.stateBlock.address, model_.stateBlock.size);
  std::vector<int> raw;
  for (const auto& block : blocks)
    raw.push_back(field(block, model_.presentPosition, model_.positionSignBit));
  return raw;
}

void ServoArm::write(const JointVector& goal) {
  std::vector<std::uint8_t> data;
  const Register& reg = model_.goalPosition;
  for (std::size_t j = 0; j < ids_.size(); ++j) {
    int raw = calibration_.toRaw(j, goal.at(j), config_.joints[j].isGripper(), model_.resolution);
    std::uint32_t value = model_.positionSignBit > 0
                              ? feetech::encodeSignMagnitude(raw, model_.positionSignBit)
                              : static_cast<std::uint32_t>(raw);
    for (int i = 0; i < reg.size; ++i)
      data.push_back(static_cast<std::uint8_t>((value >> (8 * i)) & 0xFF));
  }
  bus_->syncWrite(ids_, reg.address, reg.size, data);
}

void ServoArm::setTorque(bool enabled) {
  std::vector<std::uint8_t> data(ids_.size(), enabled ? 1 : 0);
  bus_->syncWrite(ids_, model_.torqueEnable.address, 1, data);
}

}  // namespace flywheel
