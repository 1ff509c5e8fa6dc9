// Feetech STS (SCServo) packets: FF FF id length instruction parameters checksum, checksum = ~sum,
// little-endian values, sign-magnitude positions and speeds. Pure functions over bytes. FeetechProtocol is
// the same packets behind the bus's ServoProtocol interface (addresses and lengths are one byte).
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "devices/servo/servo_protocol.hpp"

namespace flywheel::feetech {

enum Instruction : std::uint8_t {
  kPing = 0x01,
  kRead = 0x02,
  kWrite = 0x03,
  kSyncRead = 0x82,
  kSyncWrite = 0x83,
};

constexpr std::uint8_t kBroadcastId = 0xFE;

std::uint8_t checksum(std::span<const std::uint8_t> idToLastParam);

std::vector<std::uint8_t> buildPacket(std::uint8_t id, std::uint8_t instruction,
                                      std::span<const std::uint8_t> params);
std::vector<std::uint8_t> ping(std::uint8_t id);
std::vector<std::uint8_t> read(std::uint8_t id, std::uint8_t address, std::uint8_t length);
std::vector<std::uint8_t> write(std::uint8_t id, std::uint8_t address, std::span<const std::uint8_t> data);
std::vector<std::uint8_t> syncRead(std::span<const std::uint8_t> ids, std::uint8_t address,
                                   std::uint8_t length);
std::vector<std::uint8_t> syncWrite(std::span<const std::uint8_t> ids, std::uint8_t address,
                                    std::uint8_t length, std::span<const std::uint8_t> data);
// A reply's bytes besides its data: header 2, id, length, error, checksum.
constexpr std::size_t kStatusOverhead = 6;

// Server side (the emulator): a reply from `id` with its error byte.
std::vector<std::uint8_t> statusPacket(std::uint8_t id, std::uint8_t error,
                                       std::span<const std::uint8_t> params);

struct Packet {
  std::uint8_t id = 0;
  std::uint8_t instructionOrError = 0;  // requests: the instruction; replies: the error byte
  std::vector<std::uint8_t> params;
};

enum class ParseStatus { Ok, NeedMore, BadChecksum, Malformed };

struct ParseResult {
  ParseStatus status = ParseStatus::NeedMore;
  std::size_t consumed = 0;
  Packet packet;
};

ParseResult parse(std::span<const std::uint8_t> bytes);

// Sign-magnitude: bit `signBit` is the sign, the bits below it the magnitude.
std::uint16_t encodeSignMagnitude(int value, int signBit);
int decodeSignMagnitude(std::uint16_t raw, int signBit);

std::string describeError(std::uint8_t error);  // "overload, overheat"

}  // namespace flywheel::feetech

namespace flywheel {

class FeetechProtocol final : public ServoProtocol {
 public:
  BusProtocol kind() const override { return BusProtocol::Feetech; }
  std::vector<std::uint8_t> ping(std::uint8_t id) const override;
  std::vector<std::uint8_t> read(std::uint8_t id, std::uint16_t address, std::uint16_t length) const override;
  std::vector<std::uint8_t> write(std::uint8_t id, std::uint16_t address,
                                  std::span<const std::uint8_t> data) const override;
  std::vector<std::uint8_t> syncRead(std::span<const std::uint8_t> ids, std::uint16_t address,
                                     std::uint16_t length) const override;
  std::vector<std::uint8_t> syncWrite(std::span<const std::uint8_t> ids, std::uint16_t address,
                                      std::uint16_t length,
                                      std::span<const std::uint8_t> data) const override;
  StatusParse parseStatus(std::span<const std::uint8_t> bytes) const override;
  std::size_t statusOverhead() const override { return feetech::kStatusOverhead; }
  // Every error bit is a condition the servo reports while it goes on working: none refuses.
  ServoAlert describeAlert(std::uint8_t error) const override;
  // A ping reply carries no data: the model number is read from Model_Number (address 3) after it.
  std::size_t pingReplyParams() const override { return 0; }
  std::optional<Register> modelNumberRegister() const override { return Register{3, 2}; }
  bool locksEeprom() const override { return true; }
  std::uint16_t idAddress() const override { return 5; }
};

}  // namespace flywheel
