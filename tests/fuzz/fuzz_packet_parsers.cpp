// libFuzzer target: random bytes into both servo packet parsers, read the way the bus reads a stream.
// Whatever parses must survive a rebuild and parse to the same packet.
#include <cstdint>
#include <cstdlib>
#include <span>

#include "devices/servo/dynamixel_protocol.hpp"
#include "devices/servo/feetech_protocol.hpp"

using namespace flywheel;

namespace {

void require(bool condition) {
  if (!condition) std::abort();
}

void fuzzDynamixel(std::span<const std::uint8_t> rest) {
  while (!rest.empty()) {
    auto result = dynamixel::parse(rest);
    require(result.consumed <= rest.size());
    if (result.status == dynamixel::ParseStatus::Ok) {
      const auto& p = result.packet;
      auto rebuilt = p.instruction == dynamixel::kStatus
                         ? dynamixel::statusPacket(p.id, p.error, p.params)
                         : dynamixel::buildPacket(p.id, p.instruction, p.params);
      auto again = dynamixel::parse(rebuilt);
      require(again.status == dynamixel::ParseStatus::Ok && again.consumed == rebuilt.size());
      require(again.packet.params == p.params && again.packet.id == p.id && again.packet.error == p.error);
    }
    if (result.consumed == 0) break;
    rest = rest.subspan(result.consumed);
  }
}

void fuzzFeetech(std::span<const std::uint8_t> rest) {
  while (!rest.empty()) {
    auto result = feetech::parse(rest);
    require(result.consumed <= rest.size());
    if (result.status == feetech::ParseStatus::Ok) {
      const auto& p = result.packet;
      auto rebuilt = feetech::buildPacket(p.id, p.instructionOrError, p.params);
      auto again = feetech::parse(rebuilt);
      require(again.status == feetech::ParseStatus::Ok && again.packet.params == p.params);
    }
    if (result.consumed == 0) break;
    rest = rest.subspan(result.consumed);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::span<const std::uint8_t> bytes(data, size);
  fuzzDynamixel(bytes);
  fuzzFeetech(bytes);
  for (int shift = 0; shift < 8; ++shift)  // sign-magnitude must round trip for every value it can hold
    if (size >= 2) {
      int value = static_cast<std::int16_t>(data[0] | (data[1] << 8)) >> shift;
      const int signBit = 15 - shift;
      if (std::abs(value) < (1 << signBit))
        require(feetech::decodeSignMagnitude(feetech::encodeSignMagnitude(value, signBit), signBit) == value);
    }
  return 0;
}
