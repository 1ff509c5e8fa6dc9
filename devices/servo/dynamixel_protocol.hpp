// Dynamixel protocol 2.0 packets: build and parse, with the CRC-16 (polynomial 0x8005) over the whole
// packet and byte stuffing both ways. Pure functions over bytes: no I/O, fuzzed and tested on known vectors.
// DynamixelProtocol is the same packets behind the bus's ServoProtocol interface.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "devices/servo/servo_protocol.hpp"

namespace flywheel::dynamixel {

enum Instruction : std::uint8_t {
  kPing = 0x01,
  kRead = 0x02,
  kWrite = 0x03,
  kReboot = 0x08,
  kStatus = 0x55,
  kSyncRead = 0x82,
  kSyncWrite = 0x83,
  kBulkRead = 0x92,
};

constexpr std::uint8_t kBroadcastId = 0xFE;
constexpr std::uint8_t kAlertBit = 0x80;  // in a status packet's error byte: the servo has a hardware error

std::uint16_t crc16(std::span<const std::uint8_t> bytes);

// Header, id, length, instruction, parameters (stuffed), CRC.
std::vector<std::uint8_t> buildPacket(std::uint8_t id, std::uint8_t instruction,
                                      std::span<const std::uint8_t> params);

std::vector<std::uint8_t> ping(std::uint8_t id);
std::vector<std::uint8_t> read(std::uint8_t id, std::uint16_t address, std::uint16_t length);
std::vector<std::uint8_t> write(std::uint8_t id, std::uint16_t address, std::span<const std::uint8_t> data);
std::vector<std::uint8_t> syncRead(std::span<const std::uint8_t> ids, std::uint16_t address,
                                   std::uint16_t length);
// `data` holds `length` bytes per id, in the order of `ids`.
std::vector<std::uint8_t> syncWrite(std::span<const std::uint8_t> ids, std::uint16_t address,
                                    std::uint16_t length, std::span<const std::uint8_t> data);
struct BulkReadItem {
  std::uint8_t id;
  std::uint16_t address;
  std::uint16_t length;
};
std::vector<std::uint8_t> bulkRead(std::span<const BulkReadItem> items);

struct Packet {
  std::uint8_t id = 0;
  std::uint8_t instruction = 0;      // kStatus for replies
  std::uint8_t error = 0;            // status packets: error byte (alert bit and error number)
  std::vector<std::uint8_t> params;  // unstuffed; for status packets without the error byte
};

enum class ParseStatus {
  Ok,         // `packet` holds one packet; `consumed` bytes belong to it (and any garbage before it)
  NeedMore,   // a packet may be starting: wait for more bytes
  BadCrc,     // a whole packet arrived with a wrong CRC; `consumed` skips it
  Malformed,  // a length that cannot be; `consumed` skips the header
};

struct ParseResult {
  ParseStatus status = ParseStatus::NeedMore;
  std::size_t consumed = 0;
  Packet packet;
};

// Finds the first packet in `bytes`, skipping garbage before the header. Never reads past the span.
ParseResult parse(std::span<const std::uint8_t> bytes);

// A status packet's bytes besides its data: header 4, id, length 2, instruction, error, CRC 2.
constexpr std::size_t kStatusOverhead = 11;

// Server side (the emulator): a status packet answering `id`.
std::vector<std::uint8_t> statusPacket(std::uint8_t id, std::uint8_t error,
                                       std::span<const std::uint8_t> params);

const char* errorName(std::uint8_t errorNumber);  // "CRC error", "data range error", ...

}  // namespace flywheel::dynamixel

namespace flywheel {

class DynamixelProtocol final : public ServoProtocol {
 public:
  BusProtocol kind() const override { return BusProtocol::Dynamixel; }
  std::vector<std::uint8_t> ping(std::uint8_t id) const override;
  std::vector<std::uint8_t> read(std::uint8_t id, std::uint16_t address, std::uint16_t length) const override;
  std::vector<std::uint8_t> write(std::uint8_t id, std::uint16_t address,
                                  std::span<const std::uint8_t> data) const override;
  std::vector<std::uint8_t> syncRead(std::span<const std::uint8_t> ids, std::uint16_t address,
                                     std::uint16_t length) const override;
  std::vector<std::uint8_t> syncWrite(std::span<const std::uint8_t> ids, std::uint16_t address,
                                      std::uint16_t length,
                                      std::span<const std::uint8_t> data) const override;
  // Instruction packets (a request echoed on the line) are skipped: only status packets are replies.
  StatusParse parseStatus(std::span<const std::uint8_t> bytes) const override;
  std::size_t statusOverhead() const override { return dynamixel::kStatusOverhead; }
  // An error number refuses the instruction; the alert bit alone only flags a hardware error.
  ServoAlert describeAlert(std::uint8_t error) const override;
  std::size_t pingReplyParams() const override { return 3; }  // model number (2) and firmware version
  std::optional<Register> modelNumberRegister() const override { return std::nullopt; }
  bool locksEeprom() const override { return false; }  // refused while torque is on instead
  std::uint16_t idAddress() const override { return 7; }
};

}  // namespace flywheel
