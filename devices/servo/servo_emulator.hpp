// A chain of emulated servos behind a pseudo-terminal, answering real Dynamixel 2.0 or Feetech STS bytes:
// a stateful control table per id, positions moving toward their goals at a realistic speed when torque is
// on, and injected faults (dropped replies, corrupt checksums, garbage bytes, unplugging).
// Tests and demos drive the studio's real bus code through it.
//
// Replies are paced as on a real half-duplex bus: 10 bits per byte at the baud rate the client set on the
// line, each servo's Return Delay Time (2 us units, factory 250 = 500 us) after the request or the previous
// reply, sync-read replies one after another in the request's id order. A packet is handed over when its
// last byte would have arrived (as a USB adapter delivers it). A dropped reply is lost on the wire: its
// slot passes in silence and the later replies keep their times. A request that arrives while replies are
// still queued collides with them: it is garbled and goes unanswered, and the servos finish their replies.
#pragma once

#include <atomic>
#include <chrono>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "devices/servo/control_table.hpp"

namespace flywheel {

struct FaultInjection {
  double dropReply = 0.0;        // probability per reply
  double corruptChecksum = 0.0;  // probability per reply
  double garbageBytes = 0.0;     // probability per reply of noise before it
  unsigned seed = 1;
};

struct EmulatorStats {
  std::uint64_t requests = 0, replies = 0, dropped = 0, corrupted = 0, garbage = 0;
  std::uint64_t collisions = 0;  // requests sent while servos were still replying: garbled, unanswered
};

class ServoEmulator {
 public:
  ServoEmulator(BusProtocol protocol, const ServoModel& model, std::vector<std::uint8_t> ids,
                FaultInjection faults = {});
  ~ServoEmulator();
  ServoEmulator(const ServoEmulator&) = delete;
  ServoEmulator& operator=(const ServoEmulator&) = delete;

  // Opens the pseudo-terminal and starts answering. With `linkPath`, a symlink there points to it (as udev's
  // /dev/serial/by-id links do) and survives unplug/replug. Returns the path to open.
  std::string start(const std::string& linkPath = "");
  void stop();
  void unplug();  // the adapter disappears: the client's next read or write fails
  void replug();  // a new pseudo-terminal behind the same link
  const std::string& path() const { return path_; }

  // A hand moving a servo whose torque is off (a leader arm): raw position over time, per id.
  void setHandMotion(std::function<double(std::uint8_t id, double seconds)> motion);
  // The hand demos and emulated rigs use: each servo sways slowly about the middle of its range.
  static std::function<double(std::uint8_t id, double seconds)> swayingHand(int resolution);
  void setPresentPosition(std::uint8_t id, int raw);
  // A hand grabs a servo and holds it at `raw`, overpowering its torque (a human taking over a leader
  // that follows the robot); nullopt lets go.
  void holdByHand(std::uint8_t id, std::optional<int> raw);
  void setFaults(const FaultInjection& faults);
  int presentPosition(std::uint8_t id) const;
  int goalPosition(std::uint8_t id) const;
  bool torqueEnabled(std::uint8_t id) const;
  std::uint32_t readRegister(std::uint8_t id, std::uint16_t address, std::uint8_t size) const;
  EmulatorStats stats() const;

 private:
  using Clock = std::chrono::steady_clock;
  // A reply on its way: handed to the client at `due`; empty bytes: a lost reply's silent slot.
  struct Transmission {
    Clock::time_point due;
    std::vector<std::uint8_t> bytes;
  };
  struct Servo {
    std::uint8_t id;
    std::vector<std::uint8_t> table;
    double position;  // raw ticks, continuous
    double velocity = 0.0;
  };
  void threadMain();
  void openPty();
  void receive(const std::uint8_t* data, std::size_t size, Clock::time_point at);
  void sendDue(Clock::time_point now);
  bool talking() const;  // replies still queued: the line is the servos'
  Clock::duration wireTime(std::size_t bytes) const;
  void handleRequest(std::uint8_t id, std::uint8_t instruction, const std::vector<std::uint8_t>& params);
  void reply(const Servo& servo, std::uint8_t error, const std::vector<std::uint8_t>& params);
  void queue(const Servo& servo, std::vector<std::uint8_t> packet, bool lost);
  void step(double dt, double now);
  Servo* find(std::uint8_t id);
  const Servo* find(std::uint8_t id) const;
  std::uint32_t get(const Servo& servo, const Register& reg) const;
  void set(Servo& servo, const Register& reg, std::uint32_t value);
  int decodePosition(std::uint32_t raw) const;
  std::uint32_t encodeSigned(int value, const Register& reg, int signBit) const;
  bool writableWhileLocked(std::uint16_t address) const;

  BusProtocol protocol_;
  const ServoModel& model_;
  std::vector<Servo> servos_;
  FaultInjection faults_;
  std::mt19937 random_;
  std::function<double(std::uint8_t, double)> hand_;
  std::map<std::uint8_t, int> heldByHand_;  // id → the raw position a hand holds it at

  int master_ = -1;
  int slaveKeeper_ = -1;  // held open so the master does not see a hang-up between clients
  std::string ptsPath_, linkPath_, path_;
  std::vector<std::uint8_t> pending_;
  std::deque<Transmission> outbox_;
  int baud_ = 1000000;            // what the client set on the line
  Clock::time_point lineFreeAt_;  // the end of the last transmission, the host's or a servo's
  Clock::time_point requestEnd_;  // when the request being answered finished on the wire
  mutable std::mutex mutex_;
  std::thread thread_;
  std::atomic<bool> stopping_{false};
  EmulatorStats stats_;
};

}  // namespace flywheel
