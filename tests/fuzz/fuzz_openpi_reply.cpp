// libFuzzer target: whatever a policy server sends back (msgpack, numpy arrays as maps) is decoded or
// refused with a PolicyError, never a crash, an overflow or a read past the buffer.
#include <cstddef>
#include <cstdint>
#include <string>

#include "policy/openpi_wire.hpp"
#include "policy/policy.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string bytes(reinterpret_cast<const char*>(data), size);
  try {
    flywheel::openpi::Reply reply = flywheel::openpi::decodeReply(bytes);
    if (reply.actions.values.size() != static_cast<std::size_t>(reply.actions.horizon) * reply.actions.joints)
      __builtin_trap();  // a decoded chunk must hold exactly [H, J] values
  } catch (const flywheel::PolicyError&) {
  }
  try {
    flywheel::openpi::describeMetadata(bytes);
  } catch (const flywheel::PolicyError&) {
  }
  return 0;
}
