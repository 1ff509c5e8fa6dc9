// A POSIX serial port in raw mode for servo buses: any baud rate (1, 2, 3, 4 Mbps included), reads with
// deadlines through poll(), low-latency settings, and a clear error when the adapter disappears.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/hardware.hpp"

namespace flywheel {

struct SerialError : DeviceError {
  using DeviceError::DeviceError;
};

// The adapter went away (unplugged, or the emulator closed): every later call fails the same way.
struct SerialDisconnected : SerialError {
  using SerialError::SerialError;
};

class SerialPort {
 public:
  using Clock = std::chrono::steady_clock;

  SerialPort() = default;
  ~SerialPort();
  SerialPort(const SerialPort&) = delete;
  SerialPort& operator=(const SerialPort&) = delete;

  void open(const std::string& path, int baud);  // throws SerialError naming the port
  void close();
  bool isOpen() const { return fd_ >= 0; }
  const std::string& path() const { return path_; }

  void write(const std::vector<std::uint8_t>& bytes);
  // Appends what arrives until at least `wanted` bytes were appended or `deadline` passed; returns the count
  // (which may exceed `wanted`: whatever was waiting is taken in one read).
  std::size_t readUntil(std::vector<std::uint8_t>& into, std::size_t wanted, Clock::time_point deadline);
  void discardInput();  // drops stale bytes before a new transaction
  // Reads and drops what arrives until `deadline`, and after it until nothing has arrived for `quiet` (at
  // most until `limit`): the replies of a failed transaction still on their way. Returns the bytes dropped.
  std::size_t drainUntilQuiet(Clock::time_point deadline, Clock::duration quiet, Clock::time_point limit);
  // The baud rate set on a tty (on a pseudo-terminal's master: the one its client set), 0 when unknown.
  static int lineBaud(int fd);

  // FTDI adapters buffer for latency_timer ms (16 by default): above 1 ms a 500 Hz loop cannot work.
  // Returns a message with the exact fix, or nothing when the port is fine or not an FTDI adapter.
  static std::optional<std::string> latencyTimerWarning(const std::string& path,
                                                        const std::string& sysfsRoot = "/sys");

 private:
  std::size_t takeWaiting(std::vector<std::uint8_t>& into);  // what has arrived, without waiting

  int fd_ = -1;
  std::string path_;
  Clock::time_point lastReceived_{};  // when bytes last came in
};

}  // namespace flywheel
