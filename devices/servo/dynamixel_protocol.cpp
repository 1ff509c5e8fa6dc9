#include "devices/servo/dynamixel_protocol.hpp"

#include <array>

namespace flywheel::dynamixel {

namespace {

constexpr std::array<std::uint8_t, 4> kHeader{0xFF, 0xFF, 0xFD, 0x00};

std::array<std::uint16_t, 256> makeCrcTable() {
  std::array<std::uint16_t, 256> table{};
  for (unsigned i = 0; i < 256; ++i) {
    std::uint16_t crc = static_cast<std::uint16_t>(i << 8);
    for (int bit = 0; bit < 8; ++bit)
      crc = static_cast<std::uint16_t>(crc & 0x8000 ? (crc << 1) ^ 0x8005 : crc << 1);
    table[i] = crc;
  }
  return table;
}

void pushWord(std::vector<std::uint8_t>& out, std::uint16_t value) {
  out.push_back(static_cast<std::uint8_t>(value & 0xFF));
  out.push_back(static_cast<std::uint8_t>(value >> 8));
}

// FF FF FD inside the instruction and parameters would read as a header: a FD byte is added after it.
std::vector<std::uint8_t> stuff(std::span<const std::uint8_t> payload) {
  std::vector<std::uint8_t> out;
  out.reserve(payload.size() + payload.size() / 3 + 1);
  for (std::size_t i = 0; i < payload.size(); ++i) {
    out.push_back(payload[i]);
    std::size_t n = out.size();
    if (n >= 3 && out[n - 3] == 0xFF && out[n - 2] == 0xFF && out[n - 1] == 0xFD) out.push_back(0xFD);
  }
  return out;
}

std::vector<std::uint8_t> unstuff(std::span<const std::uint8_t> stuffed) {
  std::vector<std::uint8_t> out;
  out.reserve(stuffed.size());
  for (std::size_t i = 0; i < stuffed.size(); ++i) {
    std::size_t n = out.size();
    if (stuffed[i] == 0xFD && n >= 3 && out[n - 3] == 0xFF && out[n - 2] == 0xFF && out[n - 1] == 0xFD)
      continue;
    out.push_back(stuffed[i]);
  }
  return out;
}

std::vector<std::uint8_t> framed(std::uint8_t id, std::span<const std::uint8_t> payload) {
  std::vector<std::uint8_t> stuffed = stuff(payload);
  std::vector<std::uint8_t> packet(kHeader.begin(), kHeader.end());
  packet.push_back(id);
  pushWord(packet, static_cast<std::uint16_t>(stuffed.size() + 2));  // payload + CRC
  packet.insert(packet.end(), stuffed.begin(), stuffed.end());
  pushWord(packet, crc16(packet));
  return packet;
}

}  // namespace

std::uint16_t crc16(std::span<const std::uint8_t> bytes) {
  static const auto table = makeCrcTable();
  std::uint16_t crc = 0;
  for (std::uint8_t b : bytes)
    crc = static_cast<std::uint16_t>((crc << 8) ^ table[((crc >> 8) ^ b) & 0xFF]);
  return crc;
}

std::vector<std::uint8_t> buildPacket(std::uint8_t id, std::uint8_t instruction,
                                      std::span<const std::uint8_t> params) {
  std::vector<std::uint8_t> payload{instruction};
  payload.insert(payload.end(), params.begin(), params.end());
  return framed(id, payload);
}

std::vector<std::uint8_t> statusPacket(std::uint8_t id, std::uint8_t error,
                                       std::span<const std::uint8_t> params) {
  std::vector<std::uint8_t> payload{kStatus, error};
  payload.insert(payload.end(), params.begin(), params.end());
  return framed(id, payload);
}

std::vector<std::uint8_t> ping(std::uint8_t id) {
  return buildPacket(id, kPing, {});
}

std::vector<std::uint8_t> read(std::uint8_t id, std::uint16_t address, std::uint16_t length) {
  std::vector<std::uint8_t> params;
  pushWord(params, address);
  pushWord(params, length);
  return buildPacket(id, kRead, params);
}

std::vector<std::uint8_t> write(std::uint8_t id, std::uint16_t address, std::span<const std::uint8_t> data) {
  std::vector<std::uint8_t> params;
  pushWord(params, address);
  params.insert(params.end(), data.begin(), data.end());
  return buildPacket(id, kWrite, params);
}

std::vector<std::uint8_t> syncRead(std::span<const std::uint8_t> ids, std::uint16_t address,
                                   std::uint16_t length) {
  std::vector<std::uint8_t> params;
  pushWord(params, address);
  pushWord(params, length);
  params.insert(params.end(), ids.begin(), ids.end());
  return buildPacket(kBroadcastId, kSyncRead, params);
}

std::vector<std::uint8_t> syncWrite(std::span<const std::uint8_t> ids, std::uint16_t address,
                                    std::uint16_t length, std::span<const std::uint8_t> data) {
  std::vector<std::uint8_t> params;
  pushWord(params, address);
  pushWord(params, length);
  for (std::size_t i = 0; i < ids.size(); ++i) {
    params.push_back(ids[i]);
    auto first = data.begin() + static_cast<long>(i * length);
    params.insert(params.end(), first, first + length);
  }
  return buildPacket(kBroadcastId, kSyncWrite, params);
}

std::vector<std::uint8_t> bulkRead(std::span<const BulkReadItem> items) {
  std::vector<std::uint8_t> params;
  for (const BulkReadItem& item : items) {
    params.push_back(item.id);
    pushWord(params, item.address);
    pushWord(params, item.length);
  }
  return buildPacket(kBroadcastId, kBulkRead, params);
}

ParseResult parse(std::span<const std::uint8_t> bytes) {
  ParseResult result;
  std::size_t start = 0;
  // Skip to the first header; keep a partial header at the end for the next call.
  while (start + kHeader.size() <= bytes.size() && !(bytes[start] == 0xFF && bytes[start + 1] == 0xFF &&
                                                     bytes[start + 2] == 0xFD && bytes[start + 3] == 0x00))
    ++start;
  if (start + 7 > bytes.size()) {
    result.consumed = start;  // garbage so far; the header (if any) is still incomplete
    return result;
  }
  const std::size_t length = bytes[start + 5] | (bytes[start + 6] << 8);
  if (length < 3) {
    result.status = ParseStatus::Malformed;
    result.consumed = start + kHeader.size();
    return result;
  }
  const std::size_t total = 7 + length;
  if (start + total > bytes.size()) {
    result.consumed = start;
    return result;
  }
  auto packet = bytes.subspan(start, total);
  const std::uint16_t expected = static_cast<std::uint16_t>(packet[total - 2] | (packet[total - 1] << 8));
  if (crc16(packet.first(total - 2)) != expected) {
    result.status = ParseStatus::BadCrc;
    result.consumed = start + total;
    return result;
  }
  std::vector<std::uint8_t> payload = unstuff(packet.subspan(7, length - 2));
  if (payload.empty()) {
    result.status = ParseStatus::Malformed;
    result.consumed = start + total;
    return result;
  }
  result.packet.id = packet[4];
  result.packet.instruction = payload[0];
  std::size_t paramsFrom = 1;
  if (payload[0] == kStatus) {
    if (payload.size() < 2) {
      result.status = ParseStatus::Malformed;
      result.consumed = start + total;
      return result;
    }
    result.packet.error = payload[1];
    paramsFrom = 2;
  }
  result.packet.params.assign(payload.begin() + static_cast<long>(paramsFrom), payload.end());
  result.status = ParseStatus::Ok;
  result.consumed = start + total;
  return result;
}

const char* errorName(std::uint8_t errorNumber) {
  switch (errorNumber & 0x7F) {
    case 0:
      return "no error";
    case 1:
      return "result fail";
    case 2:
      return "instruction error";
    case 3:
      return "CRC error";
    case 4:
      return "data range error";
    case 5:
      return "data length error";
    case 6:
      return "data limit error";
    case 7:
      return "access error";
    default:
      return "unknown error";
  }
}

}  // namespace flywheel::dynamixel

namespace flywheel {

std::vector<std::uint8_t> DynamixelProtocol::ping(std::uint8_t id) const {
  return dynamixel::ping(id);
}

std::vector<std::uint8_t> DynamixelProtocol::read(std::uint8_t id, std::uint16_t address,
                                                  std::uint16_t length) const {
  return dynamixel::read(id, address, length);
}

std::vector<std::uint8_t> DynamixelProtocol::write(std::uint8_t id, std::uint16_t address,
                                                   std::span<const std::uint8_t> data) const {
  return dynamixel::write(id, address, data);
}

std::vector<std::uint8_t> DynamixelProtocol::syncRead(std::span<const std::uint8_t> ids,
                                                      std::uint16_t address, std::uint16_t length) const {
  return dynamixel::syncRead(ids, address, length);
}

std::vector<std::uint8_t> DynamixelProtocol::syncWrite(std::span<const std::uint8_t> ids,
                                                       std::uint16_t address, std::uint16_t length,
                                                       std::span<const std::uint8_t> data) const {
  return dynamixel::syncWrite(ids, address, length, data);
}

StatusParse DynamixelProtocol::parseStatus(std::span<const std::uint8_t> bytes) const {
  dynamixel::ParseResult result = dynamixel::parse(bytes);
  StatusParse out;
  out.consumed = result.consumed;
  if (result.status == dynamixel::ParseStatus::BadCrc) {
    out.outcome = StatusParse::Outcome::Corrupt;
    out.problem = "corrupt reply (CRC error)";
  } else if (result.status == dynamixel::ParseStatus::Ok && result.packet.instruction == dynamixel::kStatus) {
    out.outcome = StatusParse::Outcome::Reply;
    out.reply = {result.packet.id, result.packet.error, std::move(result.packet.params)};
  }
  return out;
}

ServoAlert DynamixelProtocol::describeAlert(std::uint8_t error) const {
  const bool refused = (error & 0x7F) != 0;  // an error number: the instruction was refused
  return {refused ? dynamixel::errorName(error) : "hardware error alert (read Hardware Error Status, 70)",
          refused};
}

}  // namespace flywheel
