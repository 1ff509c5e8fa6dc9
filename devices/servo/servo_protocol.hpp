// What a servo bus needs from one vendor's protocol: the request packets it sends, how a reply is read
// back, what an error byte means, and the few places where the vendors' servos behave differently.
// One implementation per vendor (DynamixelProtocol, FeetechProtocol), chosen once when a bus is built;
// the bus itself never asks which vendor it speaks. Pure functions over bytes: no I/O.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "devices/servo/control_table.hpp"

namespace flywheel {

// One reply from one servo: its id, its error byte, and the data it carries.
struct StatusReply {
  std::uint8_t id = 0;
  std::uint8_t error = 0;
  std::vector<std::uint8_t> params;
};

struct StatusParse {
  enum class Outcome {
    Reply,    // `reply` holds a status packet
    Corrupt,  // a whole packet arrived damaged; `problem` says how
    Nothing,  // no reply yet: more bytes are needed, or the bytes consumed were not a reply
  };
  Outcome outcome = Outcome::Nothing;
  std::size_t consumed = 0;  // bytes to drop from the front of the input, garbage before a packet included
  StatusReply reply;
  const char* problem = "";  // Corrupt: "corrupt reply (CRC error)"
};

// What a servo's error byte says: a problem to report, and whether the instruction was refused.
struct ServoAlert {
  std::string problem;
  bool refused = false;
};

class ServoProtocol {
 public:
  virtual ~ServoProtocol() = default;
  virtual BusProtocol kind() const = 0;

  virtual std::vector<std::uint8_t> ping(std::uint8_t id) const = 0;
  virtual std::vector<std::uint8_t> read(std::uint8_t id, std::uint16_t address,
                                         std::uint16_t length) const = 0;
  virtual std::vector<std::uint8_t> write(std::uint8_t id, std::uint16_t address,
                                          std::span<const std::uint8_t> data) const = 0;
  virtual std::vector<std::uint8_t> syncRead(std::span<const std::uint8_t> ids, std::uint16_t address,
                                             std::uint16_t length) const = 0;
  // `data` holds `length` bytes per id, in the order of `ids`.
  virtual std::vector<std::uint8_t> syncWrite(std::span<const std::uint8_t> ids, std::uint16_t address,
                                              std::uint16_t length,
                                              std::span<const std::uint8_t> data) const = 0;

  // The first reply in `bytes`, skipping garbage; never reads past the span.
  virtual StatusParse parseStatus(std::span<const std::uint8_t> bytes) const = 0;
  // A reply's bytes besides its data, to reckon how long replies take on the wire.
  virtual std::size_t statusOverhead() const = 0;
  // Called only for a nonzero error byte.
  virtual ServoAlert describeAlert(std::uint8_t error) const = 0;

  // The data bytes a ping reply carries, and where the model number is when the ping reply does not hold
  // it (a register to read after the ping); no register: the reply's first two data bytes are the model.
  virtual std::size_t pingReplyParams() const = 0;
  virtual std::optional<Register> modelNumberRegister() const = 0;
  // Whether EEPROM writes need the Lock register cleared first and set again after, and the ID register
  // (a write to it changes the id the servo answers to).
  virtual bool locksEeprom() const = 0;
  virtual std::uint16_t idAddress() const = 0;
};

std::unique_ptr<const ServoProtocol> makeServoProtocol(BusProtocol protocol);

}  // namespace flywheel
