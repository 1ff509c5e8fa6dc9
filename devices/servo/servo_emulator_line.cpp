// The emulator's side of the wire: its thread reads requests from the pseudo-terminal, and queues and
// paces the replies as a half-duplex bus carries them (see servo_emulator.hpp for the model).
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <algorithm>
#include <thread>

#include "devices/serial/serial_port.hpp"
#include "devices/servo/dynamixel_protocol.hpp"
#include "devices/servo/feetech_protocol.hpp"
#include "devices/servo/servo_emulator.hpp"

namespace flywheel {

// A reply starts its servo's return delay after the request, or after the reply before it (a sync read's
// servos answer one after another), and arrives when its last byte has crossed the wire.
void ServoEmulator::queue(const Servo& servo, std::vector<std::uint8_t> packet, bool lost) {
  const auto delay = std::chrono::microseconds(2 * get(servo, model_.returnDelay));
  const auto start = std::max(lineFreeAt_, requestEnd_) + delay;
  lineFreeAt_ = start + wireTime(packet.size());
  if (lost) packet.clear();  // its slot passes in silence
  outbox_.push_back({lineFreeAt_, std::move(packet)});
}

ServoEmulator::Clock::duration ServoEmulator::wireTime(std::size_t bytes) const {
  return std::chrono::nanoseconds(static_cast<std::int64_t>(bytes) * 10 * 1000000000LL / baud_);
}

bool ServoEmulator::talking() const {
  return std::any_of(outbox_.begin(), outbox_.end(), [](const Transmission& t) { return !t.bytes.empty(); });
}

void ServoEmulator::sendDue(Clock::time_point now) {
  while (!outbox_.empty() && outbox_.front().due <= now) {
    const std::vector<std::uint8_t>& bytes = outbox_.front().bytes;
    if (!bytes.empty() && master_ >= 0 && ::write(master_, bytes.data(), bytes.size()) > 0) ++stats_.replies;
    outbox_.pop_front();
  }
}

// Requests are parsed as they arrive; replies leave at their due times. The thread sleeps until the next
// due time with a 1 us timer slack, and every deadline is absolute: pacing does not drift at 1 Mbps.
// Servos never stall, so the thread asks for real-time priority (best effort): at normal priority a busy
// machine would hold replies back for milliseconds, which no real bus does. It sleeps between packets and
// backs off when the line reports ready with nothing to read, so it cannot starve the machine.
void ServoEmulator::threadMain() {
  prctl(PR_SET_TIMERSLACK, 1000UL);
  sched_param param{};
  param.sched_priority = 60;  // above a paced control loop (50): the servos answer whatever the host does
  pthread_setschedparam(pthread_self(), SCHED_FIFO, &param);
  bool idleWake = false;
  auto last = Clock::now();
  std::uint8_t buffer[1024];
  while (!stopping_) {
    int fd;
    Clock::time_point wake = Clock::now() + std::chrono::milliseconds(1);
    {
      std::lock_guard lock(mutex_);
      fd = master_;
      if (!outbox_.empty()) wake = std::min(wake, outbox_.front().due);
    }
    const auto left = std::max<std::int64_t>(
        0, std::chrono::duration_cast<std::chrono::nanoseconds>(wake - Clock::now()).count());
    const timespec timeout{static_cast<time_t>(left / 1000000000), static_cast<long>(left % 1000000000)};
    if (fd >= 0) {
      if (idleWake) std::this_thread::sleep_for(std::chrono::microseconds(200));
      pollfd p{fd, POLLIN, 0};
      idleWake = ::ppoll(&p, 1, &timeout, nullptr) > 0;  // cleared below when bytes were read
    } else {
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    std::lock_guard lock(mutex_);
    const auto arrived = Clock::now();
    step(std::chrono::duration<double>(arrived - last).count(),
         std::chrono::duration<double>(arrived.time_since_epoch()).count());
    last = arrived;
    sendDue(arrived);  // replies whose last byte crossed the wire before whatever came in now
    if (master_ < 0) continue;
    ssize_t n = ::read(master_, buffer, sizeof buffer);
    if (n > 0) receive(buffer, static_cast<std::size_t>(n), arrived);
    idleWake = idleWake && n <= 0;
  }
}

void ServoEmulator::receive(const std::uint8_t* data, std::size_t size, Clock::time_point at) {
  if (const int baud = SerialPort::lineBaud(master_); baud > 0) baud_ = baud;
  pending_.insert(pending_.end(), data, data + size);
  while (!pending_.empty()) {
    std::size_t consumed;
    bool complete = false;
    std::uint8_t id = 0, instruction = 0;
    std::vector<std::uint8_t> params;
    if (protocol_ == BusProtocol::Dynamixel) {
      auto result = dynamixel::parse(pending_);
      consumed = result.consumed;
      if (result.status == dynamixel::ParseStatus::Ok) {
        complete = true;
        id = result.packet.id, instruction = result.packet.instruction,
        params = std::move(result.packet.params);
      } else if (result.status == dynamixel::ParseStatus::NeedMore && consumed == 0) {
        break;
      }
    } else {
      auto result = feetech::parse(pending_);
      consumed = result.consumed;
      if (result.status == feetech::ParseStatus::Ok) {
        complete = true;
        id = result.packet.id, instruction = result.packet.instructionOrError;
        params = std::move(result.packet.params);
      } else if (result.status == feetech::ParseStatus::NeedMore && consumed == 0) {
        break;
      }
    }
    pending_.erase(pending_.begin(), pending_.begin() + static_cast<long>(consumed));
    if (!complete) continue;
    if (talking()) {  // sent over the servos' replies: neither side hears the other, the request is lost
      ++stats_.collisions;
      continue;
    }
    outbox_.clear();  // at most the silent slots of lost replies are left
    // The host's bytes follow its earlier ones on the wire (a sync write, then a sync read).
    requestEnd_ = std::max(at, requestEnd_) + wireTime(consumed);
    lineFreeAt_ = requestEnd_;
    handleRequest(id, instruction, params);
  }
}

}  // namespace flywheel
