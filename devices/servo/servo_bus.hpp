// One half-duplex servo bus on a serial port, speaking Dynamixel 2.0 or Feetech STS through the
// ServoProtocol chosen when the bus is built. Every transaction waits for its replies with a deadline, is
// retried once on a timeout or a corrupt reply, is counted, and fails with an error that names the servo
// id and the port. A retry waits for the bus to go quiet first: the failed transaction's other servos may
// still be replying, and a request sent over them collides. A sync write has no replies: it is counted
// and its serial errors booked as any other transaction's.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "devices/serial/serial_port.hpp"
#include "devices/servo/control_table.hpp"
#include "devices/servo/servo_protocol.hpp"

namespace flywheel {

struct BusError : DeviceError {
  BusError(const std::string& message, int servoId) : DeviceError(message), servoId(servoId) {}
  int servoId;  // -1 when no single servo is to blame
};

struct BusCounters {
  std::uint64_t transactions = 0;
  std::uint64_t timeouts = 0;        // replies that did not come in time
  std::uint64_t corruptReplies = 0;  // CRC / checksum errors
  std::uint64_t retries = 0;
  std::uint64_t failures = 0;     // transactions that failed after the retry
  std::uint64_t servoAlerts = 0;  // replies whose error byte flagged a servo problem
  std::string lastError;
};

struct BusTiming {
  std::chrono::microseconds replyTimeout{8000};  // for the first reply; each further reply adds perReply
  std::chrono::microseconds perReply{1500};
  int retries = 1;
  // After a failed attempt, let its replies finish and the line fall silent before the next request. Off
  // only to show what an immediate retry does on a half-duplex bus (tests).
  bool settleBeforeRetry = true;
};

class ServoBus {
 public:
  ServoBus(BusProtocol protocol, std::string port, int baud, BusTiming timing = {});
  void open();  // throws SerialError
  void close();
  bool isOpen() const;  // safe from any thread (the window asks while the loop transacts)
  BusProtocol protocol() const { return protocol_->kind(); }
  const std::string& portName() const { return portName_; }

  std::uint16_t ping(std::uint8_t id);  // the servo's model number
  std::vector<std::uint8_t> read(std::uint8_t id, std::uint16_t address, std::uint16_t length);
  void write(std::uint8_t id, std::uint16_t address, std::span<const std::uint8_t> data);  // acknowledged
  // EEPROM settings (id, limits, offsets): a Feetech servo must be unlocked first (Lock register) and is
  // locked again after; a Dynamixel servo refuses them while its torque is on.
  void writeEeprom(std::uint8_t id, std::uint16_t address, std::span<const std::uint8_t> data,
                   const ServoModel& model);
  // One request, one reply per id in order; returns `length` bytes per id.
  std::vector<std::vector<std::uint8_t>> syncRead(std::span<const std::uint8_t> ids, std::uint16_t address,
                                                  std::uint16_t length);
  // Broadcast, no replies; `data` holds `length` bytes per id.
  void syncWrite(std::span<const std::uint8_t> ids, std::uint16_t address, std::uint16_t length,
                 std::span<const std::uint8_t> data);

  BusCounters counters() const;
  // A servo's Return Delay Time, once known (set on connect): how long a failed transaction's replies may
  // still take is reckoned from the longest set on this bus. Until then the most a servo allows is assumed.
  void setReturnDelay(std::chrono::microseconds delay);

 private:
  using Reply = StatusReply;
  // Holds the bus for `work` and counts it as a transaction; a serial error is counted as a failure and
  // kept as the last error, and an unplugged adapter closes the port so that the next open() reconnects.
  template <typename Work>
  auto counted(Work&& work) -> decltype(work());
  // `replyParams`: the data bytes each reply carries, to reckon when the replies are due to be over.
  std::vector<Reply> transact(const std::vector<std::uint8_t>& request,
                              std::span<const std::uint8_t> replyIds, std::size_t replyParams,
                              const char* what);
  std::vector<Reply> withRetry(const std::vector<std::uint8_t>& request,
                               std::span<const std::uint8_t> replyIds, std::size_t replyParams,
                               const char* what);
  std::vector<Reply> attempt(const std::vector<std::uint8_t>& request,
                             std::span<const std::uint8_t> replyIds);
  void settle(std::size_t requestBytes, std::size_t replies, std::size_t replyParams);
  SerialPort::Clock::duration wireTime(std::size_t bytes) const;
  void checkServoError(const Reply& reply);

  std::unique_ptr<const ServoProtocol> protocol_;
  std::string portName_;
  int baud_;
  BusTiming timing_;
  std::optional<std::chrono::microseconds> returnDelay_;  // unknown: 508 us, the most either protocol allows
  SerialPort::Clock::time_point sentAt_{};                // when the last request was written
  SerialPort port_;
  std::vector<std::uint8_t> pending_;
  mutable std::mutex mutex_;  // one transaction at a time; counters read from other threads
  BusCounters counters_;
};

}  // namespace flywheel
