#include "devices/servo/control_table.hpp"

#include <numbers>

namespace flywheel {

namespace {

constexpr double kRpmToRadPerSecond = 2.0 * std::numbers::pi / 60.0;

// X series share one control table: Present Current/Load (126, 2), Velocity (128, 4), Position (132, 4).
ServoModel dynamixelX(const std::string& name, std::uint16_t modelNumber, const std::string& effortName) {
  ServoModel m{name,        BusProtocol::Dynamixel,
               modelNumber, 4096,
               {64, 1},     {116, 4},
               {132, 4},    {128, 4},
               {126, 2},    {9, 1},
               {0, 0},      {11, 1}};
  m.stateBlock = {126, 10};
  m.velocityUnit = 0.229 * kRpmToRadPerSecond;
  m.effortName = effortName;
  return m;
}

ServoModel feetechSts3215() {
  ServoModel m{"sts3215", BusProtocol::Feetech,
               777,       4096,
               {40, 1},   {42, 2},
               {56, 2},   {58, 2},
               {60, 2},   {7, 1},
               {55, 1},   {33, 1}};
  m.positionSignBit = 15;
  m.velocitySignBit = 15;
  m.effortSignBit = 10;
  m.stateBlock = {56, 6};
  m.velocityUnit = 2.0 * std::numbers::pi / 4096.0;  // steps per second
  m.effortName = "0.1%";
  return m;
}

}  // namespace

const char* nameOf(BusProtocol protocol) {
  return protocol == BusProtocol::Dynamixel ? "dynamixel" : "feetech";
}

const std::vector<ServoModel>& servoModels() {
  static const std::vector<ServoModel> models = {
      dynamixelX("xl330-m077", 1190, "mA"),   dynamixelX("xl330-m288", 1200, "mA"),
      dynamixelX("xl430-w250", 1060, "0.1%"), dynamixelX("xm430-w350", 1020, "mA"),
      dynamixelX("xm540-w270", 1120, "mA"),   feetechSts3215(),
  };
  return models;
}

const ServoModel* findServoModel(const std::string& name) {
  for (const ServoModel& m : servoModels())
    if (m.name == name) return &m;
  return nullptr;
}

const ServoModel* findServoModel(BusProtocol protocol, std::uint16_t modelNumber) {
  for (const ServoModel& m : servoModels())
    if (m.protocol == protocol && m.modelNumber == modelNumber) return &m;
  return nullptr;
}

}  // namespace flywheel
