#include "devices/servo/servo_bus.hpp"

#include <algorithm>

namespace flywheel {

namespace {

// A timeout or a corrupt reply: worth one retry.
struct TransientError : std::runtime_error {
  TransientError(const std::string& message, int servoId, bool corrupt)
      : std::runtime_error(message), servoId(servoId), corrupt(corrupt) {}
  int servoId;
  bool corrupt;
};

}  // namespace

ServoBus::ServoBus(BusProtocol protocol, std::string port, int baud, BusTiming timing)
    : protocol_(makeServoProtocol(protocol)), portName_(std::move(port)), baud_(baud), timing_(timing) {}

void ServoBus::open() {
  std::lock_guard lock(mutex_);
  port_.open(portName_, baud_);
  pending_.clear();
}

void ServoBus::close() {
  std::lock_guard lock(mutex_);
  port_.close();
}

bool ServoBus::isOpen() const {
  std::lock_guard lock(mutex_);
  return port_.isOpen();
}

BusCounters ServoBus::counters() const {
  std::lock_guard lock(mutex_);
  return counters_;
}

void ServoBus::setReturnDelay(std::chrono::microseconds delay) {
  std::lock_guard lock(mutex_);
  returnDelay_ = std::max(returnDelay_.value_or(delay), delay);  // arms sharing a bus: the longest
}

SerialPort::Clock::duration ServoBus::wireTime(std::size_t bytes) const {
  return std::chrono::nanoseconds(static_cast<std::int64_t>(bytes) * 10 * 1000000000LL / baud_);
}

// Waits until the failed transaction's replies are due to be over (request and replies on the wire at
// the baud rate, each after its return delay), then until nothing has arrived for one more reply's time
// and a USB adapter's 1 ms latency; drops what came meanwhile. Never longer than one reply timeout more.
void ServoBus::settle(std::size_t requestBytes, std::size_t replies, std::size_t replyParams) {
  const std::size_t replyBytes = replyParams + protocol_->statusOverhead();
  const auto oneReply = returnDelay_.value_or(std::chrono::microseconds(508)) + wireTime(replyBytes);
  const auto due = sentAt_ + wireTime(requestBytes) + static_cast<long>(replies) * oneReply;
  port_.drainUntilQuiet(due, oneReply + std::chrono::milliseconds(1), due + timing_.replyTimeout);
  pending_.clear();
}

std::vector<ServoBus::Reply> ServoBus::attempt(const std::vector<std::uint8_t>& request,
                                               std::span<const std::uint8_t> replyIds) {
  port_.discardInput();
  pending_.clear();
  sentAt_ = SerialPort::Clock::now();
  port_.write(request);
  std::vector<Reply> replies;
  auto deadline = SerialPort::Clock::now() + timing_.replyTimeout;
  while (replies.size() < replyIds.size()) {
    const std::uint8_t expected = replyIds[replies.size()];
    StatusParse result = protocol_->parseStatus(pending_);
    pending_.erase(pending_.begin(), pending_.begin() + static_cast<long>(result.consumed));
    if (result.outcome == StatusParse::Outcome::Corrupt) throw TransientError(result.problem, expected, true);
    if (result.outcome == StatusParse::Outcome::Reply) {
      replies.push_back(std::move(result.reply));
      if (replies.back().id != expected)
        throw TransientError("reply from servo " + std::to_string(replies.back().id) + " out of turn",
                             expected, true);
      deadline = SerialPort::Clock::now() + timing_.perReply + timing_.replyTimeout / 2;
      continue;
    }
    if (port_.readUntil(pending_, 1, deadline) == 0 && SerialPort::Clock::now() >= deadline)
      throw TransientError("no reply (timeout)", expected, false);
  }
  return replies;
}

template <typename Work>
auto ServoBus::counted(Work&& work) -> decltype(work()) {
  std::lock_guard lock(mutex_);
  ++counters_.transactions;
  try {
    return work();
  } catch (const SerialError& e) {
    ++counters_.failures;
    counters_.lastError = e.what();
    if (dynamic_cast<const SerialDisconnected*>(&e)) port_.close();  // the next open() reconnects
    throw;
  }
}

std::vector<ServoBus::Reply> ServoBus::transact(const std::vector<std::uint8_t>& request,
                                                std::span<const std::uint8_t> replyIds,
                                                std::size_t replyParams, const char* what) {
  return counted([&] { return withRetry(request, replyIds, replyParams, what); });
}

// Called with the bus held. A SerialError (an adapter unplugged during an attempt or while settling)
// passes through to counted().
std::vector<ServoBus::Reply> ServoBus::withRetry(const std::vector<std::uint8_t>& request,
                                                 std::span<const std::uint8_t> replyIds,
                                                 std::size_t replyParams, const char* what) {
  for (int attemptNumber = 0;; ++attemptNumber) {
    try {
      return attempt(request, replyIds);
    } catch (const TransientError& e) {
      (e.corrupt ? counters_.corruptReplies : counters_.timeouts)++;
      // Retried or given up, the next request must not be sent over this one's later replies.
      if (timing_.settleBeforeRetry) settle(request.size(), replyIds.size(), replyParams);
      if (attemptNumber < timing_.retries) {
        ++counters_.retries;
        continue;
      }
      ++counters_.failures;
      counters_.lastError = "servo " + std::to_string(e.servoId) + " on " + portName_ + ": " + e.what() +
                            " during " + what + ", after " + std::to_string(timing_.retries) + " retry";
      throw BusError(counters_.lastError, e.servoId);
    }
  }
}

void ServoBus::checkServoError(const Reply& reply) {
  if (reply.error == 0) return;
  const ServoAlert alert = protocol_->describeAlert(reply.error);
  std::lock_guard lock(mutex_);
  ++counters_.servoAlerts;
  counters_.lastError =
      "servo " + std::to_string(reply.id) + " on " + portName_ + " reports: " + alert.problem;
  if (alert.refused) throw BusError(counters_.lastError, reply.id);
}

std::uint16_t ServoBus::ping(std::uint8_t id) {
  const std::uint8_t ids[] = {id};
  auto replies = transact(protocol_->ping(id), ids, protocol_->pingReplyParams(), "ping");
  if (const std::optional<Register> at = protocol_->modelNumberRegister()) {
    auto model = read(id, at->address, at->size);  // the ping reply had no data (Feetech)
    return static_cast<std::uint16_t>(model[0] | (model[1] << 8));
  }
  checkServoError(replies[0]);
  if (replies[0].params.size() < 2) throw BusError("servo " + std::to_string(id) + ": short ping reply", id);
  return static_cast<std::uint16_t>(replies[0].params[0] | (replies[0].params[1] << 8));
}

std::vector<std::uint8_t> ServoBus::read(std::uint8_t id, std::uint16_t address, std::uint16_t length) {
  const std::uint8_t ids[] = {id};
  auto replies = transact(protocol_->read(id, address, length), ids, length, "read");
  checkServoError(replies[0]);
  if (replies[0].params.size() != length)
    throw BusError("servo " + std::to_string(id) + " on " + portName_ + ": read returned " +
                       std::to_string(replies[0].params.size()) + " bytes, expected " +
                       std::to_string(length),
                   id);
  return replies[0].params;
}

void ServoBus::write(std::uint8_t id, std::uint16_t address, std::span<const std::uint8_t> data) {
  const std::uint8_t ids[] = {id};
  auto replies = transact(protocol_->write(id, address, data), ids, 0, "write");
  checkServoError(replies[0]);
}

void ServoBus::writeEeprom(std::uint8_t id, std::uint16_t address, std::span<const std::uint8_t> data,
                           const ServoModel& model) {
  if (!protocol_->locksEeprom()) return write(id, address, data);  // Dynamixel: no Lock register
  const std::uint8_t unlocked[] = {0}, locked[] = {1};
  write(id, model.lock.address, unlocked);
  write(id, address, data);
  // A new id takes effect at once: lock the servo under the id it now answers to.
  const std::uint8_t nowId = address == protocol_->idAddress() && data.size() == 1 ? data[0] : id;
  write(nowId, model.lock.address, locked);
}

std::vector<std::vector<std::uint8_t>> ServoBus::syncRead(std::span<const std::uint8_t> ids,
                                                          std::uint16_t address, std::uint16_t length) {
  auto replies = transact(protocol_->syncRead(ids, address, length), ids, length, "sync read");
  std::vector<std::vector<std::uint8_t>> data;
  for (Reply& reply : replies) {
    checkServoError(reply);
    if (reply.params.size() != length)
      throw BusError("servo " + std::to_string(reply.id) + " on " + portName_ + ": sync read returned " +
                         std::to_string(reply.params.size()) + " bytes, expected " + std::to_string(length),
                     reply.id);
    data.push_back(std::move(reply.params));
  }
  return data;
}

void ServoBus::syncWrite(std::span<const std::uint8_t> ids, std::uint16_t address, std::uint16_t length,
                         std::span<const std::uint8_t> data) {
  const auto request = protocol_->syncWrite(ids, address, length, data);
  counted([&] { port_.write(request); });  // broadcast: no replies to wait for, so nothing to retry
}

}  // namespace flywheel
