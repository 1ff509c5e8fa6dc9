// An arm made of servos on one bus: joint names map to servo ids, every read is one sync read of position,
// velocity and effort, every write one sync write of goal positions, both through the arm's calibration.
#pragma once

#include <atomic>
#include <memory>

#include "core/config.hpp"
#include "core/hardware.hpp"
#include "devices/servo/calibration.hpp"
#include "devices/servo/control_table.hpp"
#include "devices/servo/servo_bus.hpp"

namespace flywheel {

class ServoArm final : public Arm {
 public:
  ServoArm(const ArmConfig& config, const ServoModel& model, std::shared_ptr<ServoBus> bus,
           ArmCalibration calibration);

  std::string name() const override { return config_.name; }
  std::size_t jointCount() const override { return config_.joints.size(); }
  // Opens the bus, checks every servo answers with the configured model, and sets the rig's Return Delay
  // Time on each.
  void connect() override;
  // Closes the bus, and with it the port: arms sharing a bus (one adapter) are disconnected together, as
  // the Rig does.
  void disconnect() override;
  bool isConnected() const override { return connected_ && bus_->isOpen(); }
  JointState read() override;
  void write(const JointVector& goal) override;
  void setTorque(bool enabled) override;

  std::vector<int> readRawPositions();
  const std::vector<std::uint8_t>& ids() const { return ids_; }
  ServoBus& bus() { return *bus_; }
  const ServoModel& model() const { return model_; }
  const ArmCalibration& calibration() const { return calibration_; }

  // The calibration used when none was recorded: home in the middle, the whole range, config directions.
  static ArmCalibration defaultCalibration(const ArmConfig& config, const ServoModel& model);

 private:
  int field(const std::vector<std::uint8_t>& block, const Register& reg, int signBit) const;
  void applyReturnDelay();

  const ArmConfig& config_;
  const ServoModel& model_;
  std::shared_ptr<ServoBus> bus_;
  ArmCalibration calibration_;
  std::vector<std::uint8_t> ids_;
  std::atomic<bool> connected_{false};  // read by the window while the loop thread drives the arm
};

}  // namespace flywheel
