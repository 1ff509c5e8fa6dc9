#include "devices/servo/feetech_protocol.hpp"

#include <cstdlib>
#include <optional>

namespace flywheel::feetech {

std::uint8_t checksum(std::span<const std::uint8_t> bytes) {
  unsigned sum = 0;
  for (std::uint8_t b : bytes)
    sum += b;
  return static_cast<std::uint8_t>(~sum & 0xFF);
}

std::vector<std::uint8_t> buildPacket(std::uint8_t id, std::uint8_t instruction,
                                      std::span<const std::uint8_t> params) {
  std::vector<std::uint8_t> packet;
  packet.reserve(params.size() + 6);
  for (std::uint8_t b : {std::uint8_t{0xFF}, std::uint8_t{0xFF}, id,
                         static_cast<std::uint8_t>(params.size() + 2), instruction})
    packet.push_back(b);
  for (std::uint8_t b : params)
    packet.push_back(b);
  packet.push_back(checksum(std::span(packet).subspan(2)));
  return packet;
}

std::vector<std::uint8_t> statusPacket(std::uint8_t id, std::uint8_t error,
                                       std::span<const std::uint8_t> params) {
  return buildPacket(id, error,
                     params);  // a reply has the same frame with the error byte in place of the instruction
}

std::vector<std::uint8_t> ping(std::uint8_t id) {
  return buildPacket(id, kPing, {});
}

std::vector<std::uint8_t> read(std::uint8_t id, std::uint8_t address, std::uint8_t length) {
  const std::uint8_t params[] = {address, length};
  return buildPacket(id, kRead, params);
}

std::vector<std::uint8_t> write(std::uint8_t id, std::uint8_t address, std::span<const std::uint8_t> data) {
  std::vector<std::uint8_t> params{address};
  params.insert(params.end(), data.begin(), data.end());
  return buildPacket(id, kWrite, params);
}

std::vector<std::uint8_t> syncRead(std::span<const std::uint8_t> ids, std::uint8_t address,
                                   std::uint8_t length) {
  std::vector<std::uint8_t> params{address, length};
  params.insert(params.end(), ids.begin(), ids.end());
  return buildPacket(kBroadcastId, kSyncRead, params);
}

std::vector<std::uint8_t> syncWrite(std::span<const std::uint8_t> ids, std::uint8_t address,
                                    std::uint8_t length, std::span<const std::uint8_t> data) {
  std::vector<std::uint8_t> params{address, length};
  for (std::size_t i = 0; i < ids.size(); ++i) {
    params.push_back(ids[i]);
    auto first = data.begin() + static_cast<long>(i * length);
    params.insert(params.end(), first, first + length);
  }
  return buildPacket(kBroadcastId, kSyncWrite, params);
}

// Noise can look like a header (FF FF then an id) with a length running past the real packet, so every
// candidate header is tried: the first complete packet with a valid checksum wins.
ParseResult parse(std::span<const std::uint8_t> bytes) {
  ParseResult result;
  std::optional<std::size_t> firstIncomplete, firstCorruptEnd;
  for (std::size_t start = 0; start + 2 < bytes.size(); ++start) {
    if (!(bytes[start] == 0xFF && bytes[start + 1] == 0xFF && bytes[start + 2] != 0xFF)) continue;
    if (start + 4 > bytes.size()) {
      if (!firstIncomplete) firstIncomplete = start;
      break;
    }
    const std::size_t length = bytes[start + 3];
    if (length < 2) continue;
    const std::size_t total = 4 + length;
    if (start + total > bytes.size()) {
      if (!firstIncomplete) firstIncomplete = start;
      continue;
    }
    auto packet = bytes.subspan(start, total);
    if (checksum(packet.subspan(2, total - 3)) != packet[total - 1]) {
      if (!firstCorruptEnd) firstCorruptEnd = start + total;
      continue;
    }
    result.packet.id = packet[2];
    result.packet.instructionOrError = packet[4];
    result.packet.params.assign(packet.begin() + 5, packet.end() - 1);
    result.status = ParseStatus::Ok;
    result.consumed = start + total;
    return result;
  }
  if (firstCorruptEnd && (!firstIncomplete || *firstCorruptEnd <= *firstIncomplete)) {
    result.status = ParseStatus::BadChecksum;
    result.consumed = *firstCorruptEnd;
    return result;
  }
  // Keep a possible packet start; the last two bytes may be the first of a header.
  if (firstIncomplete)
    result.consumed = *firstIncomplete;
  else
    result.consumed = bytes.size() >= 2 ? bytes.size() - 2 : 0;
  return result;
}

std::uint16_t encodeSignMagnitude(int value, int signBit) {
  const unsigned magnitude = static_cast<unsigned>(std::abs(value)) & ((1u << signBit) - 1);
  return static_cast<std::uint16_t>(value < 0 ? magnitude | (1u << signBit) : magnitude);
}

int decodeSignMagnitude(std::uint16_t raw, int signBit) {
  const int magnitude = raw & ((1 << signBit) - 1);
  return raw & (1 << signBit) ? -magnitude : magnitude;
}

std::string describeError(std::uint8_t error) {
  static const char* names[] = {"input voltage", "angle sensor", "overheat", "over current",
                                "bit 4",         "overload",     "bit 6",    "bit 7"};
  std::string text;
  for (int bit = 0; bit < 8; ++bit)
    if (error & (1 << bit)) text += (text.empty() ? "" : ", ") + std::string(names[bit]);
  return text.empty() ? "no error" : text;
}

}  // namespace flywheel::feetech

namespace flywheel {

namespace {
std::uint8_t byte(std::uint16_t value) {
  return static_cast<std::uint8_t>(value);
}
}  // namespace

std::vector<std::uint8_t> FeetechProtocol::ping(std::uint8_t id) const {
  return feetech::ping(id);
}

std::vector<std::uint8_t> FeetechProtocol::read(std::uint8_t id, std::uint16_t address,
                                                std::uint16_t length) const {
  return feetech::read(id, byte(address), byte(length));
}

std::vector<std::uint8_t> FeetechProtocol::write(std::uint8_t id, std::uint16_t address,
                                                 std::span<const std::uint8_t> data) const {
  return feetech::write(id, byte(address), data);
}

std::vector<std::uint8_t> FeetechProtocol::syncRead(std::span<const std::uint8_t> ids, std::uint16_t address,
                                                    std::uint16_t length) const {
  return feetech::syncRead(ids, byte(address), byte(length));
}

std::vector<std::uint8_t> FeetechProtocol::syncWrite(std::span<const std::uint8_t> ids, std::uint16_t address,
                                                     std::uint16_t length,
                                                     std::span<const std::uint8_t> data) const {
  return feetech::syncWrite(ids, byte(address), byte(length), data);
}

StatusParse FeetechProtocol::parseStatus(std::span<const std::uint8_t> bytes) const {
  feetech::ParseResult result = feetech::parse(bytes);
  StatusParse out;
  out.consumed = result.consumed;
  if (result.status == feetech::ParseStatus::BadChecksum) {
    out.outcome = StatusParse::Outcome::Corrupt;
    out.problem = "corrupt reply (checksum error)";
  } else if (result.status == feetech::ParseStatus::Ok) {
    out.outcome = StatusParse::Outcome::Reply;
    out.reply = {result.packet.id, result.packet.instructionOrError, std::move(result.packet.params)};
  }
  return out;
}

ServoAlert FeetechProtocol::describeAlert(std::uint8_t error) const {
  return {feetech::describeError(error), false};
}

}  // namespace flywheel
