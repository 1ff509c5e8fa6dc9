// The registers the studio uses on each servo model, and the model numbers a PING answers with.
// Sources: ROBOTIS e-Manual (X series), Feetech STS3215 table as LeRobot uses it.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace flywheel {

enum class BusProtocol { Dynamixel, Feetech };
const char* nameOf(BusProtocol protocol);

struct Register {
  std::uint16_t address = 0;
  std::uint8_t size = 0;
};

struct ServoModel {
  std::string name;  // "xl430-w250"
  BusProtocol protocol;
  std::uint16_t modelNumber;  // what PING (Dynamixel) or Model_Number (Feetech) reports
  int resolution;             // ticks per revolution
  Register torqueEnable, goalPosition, presentPosition, presentVelocity, presentEffort, returnDelay, lock;
  Register operatingMode;
  // Feetech encodes signed values as sign-magnitude with this bit; Dynamixel uses two's complement (0).
  int velocitySignBit = 0;
  int positionSignBit = 0;
  int effortSignBit = 0;
  // The block [position, velocity, effort] read in one sync transaction: first address and length.
  Register stateBlock;
  double velocityUnit;     // rad/s per raw unit
  std::string effortName;  // "mA" (current) or "0.1%" (load)
};

const std::vector<ServoModel>& servoModels();
const ServoModel* findServoModel(const std::string& name);
const ServoModel* findServoModel(BusProtocol protocol, std::uint16_t modelNumber);

}  // namespace flywheel
