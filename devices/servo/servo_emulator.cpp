#include "devices/servo/servo_emulator.hpp"

#include <fcntl.h>
#include <stdlib.h>
#include <termios.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <stdexcept>

#include "core/hardware.hpp"
#include "devices/servo/dynamixel_protocol.hpp"
#include "devices/servo/feetech_protocol.hpp"

namespace flywheel {

namespace {

constexpr double kTimeConstant = 0.04;              // seconds: how quickly a servo closes on its goal
constexpr double kMaxSpeed = 5000.0;                // ticks per second, about 7.7 rad/s
constexpr std::uint8_t kAccessError = 7;            // Dynamixel: EEPROM written while torque is on
constexpr std::uint32_t kFactoryReturnDelay = 250;  // 2 us units: 500 us, on the X series and the STS

double nowSeconds() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

std::uint16_t word(const std::vector<std::uint8_t>& p, std::size_t at) {
  return static_cast<std::uint16_t>(p[at] | (p[at + 1] << 8));
}

}  // namespace

ServoEmulator::ServoEmulator(BusProtocol protocol, const ServoModel& model, std::vector<std::uint8_t> ids,
                             FaultInjection faults)
    : protocol_(protocol), model_(model), faults_(faults), random_(faults.seed) {
  const bool dxl = protocol == BusProtocol::Dynamixel;
  for (std::uint8_t id : ids) {
    Servo servo{id, std::vector<std::uint8_t>(dxl ? 700 : 128, 0), model.resolution / 2.0};
    if (dxl) {
      set(servo, {0, 2}, model.modelNumber);
      set(servo, {6, 1}, 52);  // firmware
      set(servo, {7, 1}, id);
      set(servo, {8, 1}, 3);   // 1 Mbps
      set(servo, {11, 1}, 3);  // position control
      set(servo, {48, 4}, static_cast<std::uint32_t>(model.resolution - 1));
      set(servo, {52, 4}, 0);
    } else {
      set(servo, {3, 2}, model.modelNumber);
      set(servo, {5, 1}, id);
      set(servo, {6, 1}, 0);  // 1 Mbps
      set(servo, {9, 2}, 0);
      set(servo, {11, 2}, static_cast<std::uint32_t>(model.resolution - 1));
      set(servo, model.lock, 1);  // EEPROM locked, as shipped
    }
    set(servo, model.returnDelay, kFactoryReturnDelay);
    set(servo, model.goalPosition, static_cast<std::uint32_t>(model.resolution / 2));
    servos_.push_back(std::move(servo));
  }
  step(0.0, nowSeconds());
}

ServoEmulator::~ServoEmulator() {
  stop();
}

void ServoEmulator::openPty() {
  int master = posix_openpt(O_RDWR | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
  if (master < 0 || grantpt(master) != 0 || unlockpt(master) != 0)
    throw DeviceError("emulator: cannot open a pseudo-terminal");
  ptsPath_ = ptsname(master);
  int slave = ::open(ptsPath_.c_str(), O_RDWR | O_NOCTTY | O_CLOEXEC);
  termios tio{};
  tcgetattr(slave, &tio);
  cfmakeraw(&tio);
  tcsetattr(slave, TCSANOW, &tio);
  master_ = master;
  slaveKeeper_ = slave;
  path_ = ptsPath_;
  if (!linkPath_.empty()) {
    std::string temporary = linkPath_ + ".new";
    std::filesystem::remove(temporary);
    std::filesystem::create_symlink(ptsPath_, temporary);
    std::filesystem::rename(temporary, linkPath_);  // atomic: the link never dangles half-way
    path_ = linkPath_;
  }
}

std::string ServoEmulator::start(const std::string& linkPath) {
  std::lock_guard lock(mutex_);
  linkPath_ = linkPath;
  openPty();
  stopping_ = false;
  thread_ = std::thread([this] { threadMain(); });
  return path_;
}

void ServoEmulator::stop() {
  stopping_ = true;
  if (thread_.joinable()) thread_.join();
  unplug();
  if (!linkPath_.empty()) std::filesystem::remove(linkPath_);
}

void ServoEmulator::unplug() {
  std::lock_guard lock(mutex_);
  if (master_ >= 0) ::close(master_);
  if (slaveKeeper_ >= 0) ::close(slaveKeeper_);
  master_ = slaveKeeper_ = -1;
  pending_.clear();
  outbox_.clear();
}

void ServoEmulator::replug() {
  std::lock_guard lock(mutex_);
  if (master_ < 0) openPty();
}

void ServoEmulator::setHandMotion(std::function<double(std::uint8_t, double)> motion) {
  std::lock_guard lock(mutex_);
  hand_ = std::move(motion);
}

std::function<double(std::uint8_t, double)> ServoEmulator::swayingHand(int resolution) {
  return [resolution](std::uint8_t id, double seconds) {
    return resolution / 2.0 + resolution * 0.06 * std::sin(2.0 * M_PI * 0.25 * seconds + 0.7 * id);
  };
}

void ServoEmulator::setFaults(const FaultInjection& faults) {
  std::lock_guard lock(mutex_);
  faults_ = faults;
  random_.seed(faults.seed);
}

void ServoEmulator::setPresentPosition(std::uint8_t id, int raw) {
  std::lock_guard lock(mutex_);
  if (Servo* servo = find(id)) {
    servo->position = raw;
    set(*servo, model_.presentPosition, encodeSigned(raw, model_.presentPosition, model_.positionSignBit));
  }
}

void ServoEmulator::holdByHand(std::uint8_t id, std::optional<int> raw) {
  std::lock_guard lock(mutex_);
  if (raw)
    heldByHand_[id] = *raw;
  else
    heldByHand_.erase(id);
}

int ServoEmulator::presentPosition(std::uint8_t id) const {
  std::lock_guard lock(mutex_);
  const Servo* servo = find(id);
  return servo ? decodePosition(get(*servo, model_.presentPosition)) : 0;
}

int ServoEmulator::goalPosition(std::uint8_t id) const {
  std::lock_guard lock(mutex_);
  const Servo* servo = find(id);
  return servo ? decodePosition(get(*servo, model_.goalPosition)) : 0;
}

bool ServoEmulator::torqueEnabled(std::uint8_t id) const {
  std::lock_guard lock(mutex_);
  const Servo* servo = find(id);
  return servo && get(*servo, model_.torqueEnable) != 0;
}

std::uint32_t ServoEmulator::readRegister(std::uint8_t id, std::uint16_t address, std::uint8_t size) const {
  std::lock_guard lock(mutex_);
  const Servo* servo = find(id);
  return servo ? get(*servo, {address, size}) : 0;
}

EmulatorStats ServoEmulator::stats() const {
  std::lock_guard lock(mutex_);
  return stats_;
}

ServoEmulator::Servo* ServoEmulator::find(std::uint8_t id) {
  for (Servo& s : servos_)
    if (s.id == id) return &s;
  return nullptr;
}

const ServoEmulator::Servo* ServoEmulator::find(std::uint8_t id) const {
  return const_cast<ServoEmulator*>(this)->find(id);
}

std::uint32_t ServoEmulator::get(const Servo& servo, const Register& reg) const {
  std::uint32_t value = 0;
  for (int i = reg.size - 1; i >= 0; --i)
    value = (value << 8) | servo.table[reg.address + i];
  return value;
}

void ServoEmulator::set(Servo& servo, const Register& reg, std::uint32_t value) {
  for (int i = 0; i < reg.size; ++i)
    servo.table[reg.address + i] = static_cast<std::uint8_t>((value >> (8 * i)) & 0xFF);
}

int ServoEmulator::decodePosition(std::uint32_t raw) const {
  if (model_.positionSignBit > 0)
    return feetech::decodeSignMagnitude(static_cast<std::uint16_t>(raw), model_.positionSignBit);
  return static_cast<std::int32_t>(raw);
}

std::uint32_t ServoEmulator::encodeSigned(int value, const Register& reg, int signBit) const {
  if (signBit > 0) return feetech::encodeSignMagnitude(value, signBit);
  std::uint32_t mask = reg.size >= 4 ? 0xFFFFFFFFu : (1u << (8 * reg.size)) - 1;
  return static_cast<std::uint32_t>(value) & mask;
}

// The physics of every servo since the last call: torque on, close on the goal; torque off, follow the hand.
void ServoEmulator::step(double dt, double now) {
  for (Servo& servo : servos_) {
    const double before = servo.position;
    double error = 0.0;
    if (auto held = heldByHand_.find(servo.id); held != heldByHand_.end()) {
      error = decodePosition(get(servo, model_.goalPosition)) - held->second;  // the servo strains against it
      servo.position = held->second;
    } else if (get(servo, model_.torqueEnable) != 0) {
      error = decodePosition(get(servo, model_.goalPosition)) - servo.position;
      double velocity = std::clamp(error / kTimeConstant, -kMaxSpeed, kMaxSpeed);
      servo.position += velocity * dt;
    } else if (hand_) {
      servo.position = hand_(servo.id, now);
    }
    servo.velocity = dt > 0 ? (servo.position - before) / dt : 0.0;
    const int rawPosition = static_cast<int>(std::lround(servo.position));
    set(servo, model_.presentPosition,
        encodeSigned(rawPosition, model_.presentPosition, model_.positionSignBit));
    const double velocityUnits = servo.velocity * (2.0 * M_PI / model_.resolution) / model_.velocityUnit;
    set(servo, model_.presentVelocity,
        encodeSigned(static_cast<int>(std::lround(velocityUnits)), model_.presentVelocity,
                     model_.velocitySignBit));
    const int effort = static_cast<int>(std::clamp(error * 0.8, -1000.0, 1000.0));
    set(servo, model_.presentEffort, encodeSigned(effort, model_.presentEffort, model_.effortSignBit));
  }
}

void ServoEmulator::reply(const Servo& servo, std::uint8_t error, const std::vector<std::uint8_t>& params) {
  std::uniform_real_distribution<double> chance(0.0, 1.0);
  const bool drop = chance(random_) < faults_.dropReply;
  std::vector<std::uint8_t> packet = protocol_ == BusProtocol::Dynamixel
                                         ? dynamixel::statusPacket(servo.id, error, params)
                                         : feetech::statusPacket(servo.id, error, params);
  if (chance(random_) < faults_.corruptChecksum) {
    packet.back() ^= 0x5A;
    ++stats_.corrupted;
  }
  if (chance(random_) < faults_.garbageBytes) {
    std::vector<std::uint8_t> noise{0x00, 0x7F, 0xFF, 0x13, 0xFD};  // a header fragment included
    packet.insert(packet.begin(), noise.begin(), noise.end());
    ++stats_.garbage;
  }
  if (drop) ++stats_.dropped;
  queue(servo, std::move(packet), drop);
}

bool ServoEmulator::writableWhileLocked(std::uint16_t address) const {
  return address >= 40;
}

void ServoEmulator::handleRequest(std::uint8_t id, std::uint8_t instruction,
                                  const std::vector<std::uint8_t>& params) {
  ++stats_.requests;
  const bool dxl = protocol_ == BusProtocol::Dynamixel;
  const std::size_t addressBytes = dxl ? 2 : 1;
  auto address = [&](std::size_t at) -> std::uint16_t { return dxl ? word(params, at) : params[at]; };
  auto readReply = [&](Servo& servo, std::uint16_t addr, std::uint16_t length) {
    if (addr + length > servo.table.size()) return reply(servo, dxl ? 4 : 0, {});  // data range error
    reply(servo, 0,
          std::vector<std::uint8_t>(servo.table.begin() + addr, servo.table.begin() + addr + length));
  };
  auto writeTable = [&](Servo& servo, std::uint16_t addr, const std::uint8_t* data,
                        std::size_t length) -> std::uint8_t {
    if (addr + length > servo.table.size()) return dxl ? 4 : 0;
    if (dxl && addr < 64 && get(servo, model_.torqueEnable) != 0) return kAccessError;
    if (!dxl && !writableWhileLocked(addr) && get(servo, model_.lock) != 0)
      return 0;  // ignored, as the STS does
    std::copy(data, data + length, servo.table.begin() + addr);
    return 0;
  };

  switch (instruction) {
    case dynamixel::kPing:  // same code on both protocols
      if (Servo* servo = find(id)) {
        if (dxl)
          reply(*servo, 0,
                {static_cast<std::uint8_t>(model_.modelNumber & 0xFF),
                 static_cast<std::uint8_t>(model_.modelNumber >> 8), 52});
        else
          reply(*servo, 0, {});
      }
      return;
    case dynamixel::kRead:
      if (Servo* servo = find(id); servo && params.size() >= 2 * addressBytes)
        readReply(*servo, address(0), dxl ? word(params, 2) : params[1]);
      return;
    case dynamixel::kWrite:
      if (Servo* servo = find(id); servo && params.size() > addressBytes) {
        std::uint8_t error =
            writeTable(*servo, address(0), params.data() + addressBytes, params.size() - addressBytes);
        reply(*servo, error, {});
        servo->id = servo->table[dxl ? 7 : 5];  // a new id answers from the next packet on
      }
      return;
    case dynamixel::kSyncRead: {
      if (params.size() < 2 * addressBytes) return;
      const std::uint16_t addr = address(0), length = dxl ? word(params, 2) : params[1];
      for (std::size_t i = 2 * addressBytes; i < params.size(); ++i)
        if (Servo* servo = find(params[i])) readReply(*servo, addr, length);
      return;
    }
    case dynamixel::kSyncWrite: {
      if (params.size() < 2 * addressBytes) return;
      const std::uint16_t addr = address(0), length = dxl ? word(params, 2) : params[1];
      for (std::size_t i = 2 * addressBytes; length > 0 && i + 1 + length <= params.size(); i += length + 1)
        if (Servo* servo = find(params[i])) writeTable(*servo, addr, params.data() + i + 1, length);
      return;
    }
    case dynamixel::kBulkRead:
      if (!dxl) return;
      for (std::size_t i = 0; i + 5 <= params.size(); i += 5)
        if (Servo* servo = find(params[i])) readReply(*servo, word(params, i + 1), word(params, i + 3));
      return;
    default:
      return;  // unknown instructions go unanswered
  }
}

}  // namespace flywheel
