// Text the studio stores (tasks, notes, tags, operator names, segment texts, names in rig files) must be
// valid UTF-8: HDF5 string attributes and the JSON label blocks are declared UTF-8, and a readable error
// before anything is written beats a half-written episode. One check, used by every entry point.
#pragma once

#include <cstdint>
#include <cstdio>
#include <stdexcept>
#include <string>
#include <string_view>

namespace flywheel {

// Empty when `text` is well-formed UTF-8 (RFC 3629: no overlong forms, no surrogates, nothing above
// U+10FFFF); otherwise where it breaks, e.g. "byte 4 (0xff) is not valid UTF-8".
inline std::string utf8Problem(std::string_view text) {
  const auto* bytes = reinterpret_cast<const std::uint8_t*>(text.data());
  const std::size_t size = text.size();
  std::size_t i = 0;
  while (i < size) {
    const std::uint8_t lead = bytes[i];
    std::size_t length = 0;
    std::uint8_t low = 0x80, high = 0xBF;  // allowed range of the second byte
    if (lead < 0x80) {
      ++i;
      continue;
    } else if (lead >= 0xC2 && lead <= 0xDF) {
      length = 2;
    } else if (lead >= 0xE0 && lead <= 0xEF) {
      length = 3;
      if (lead == 0xE0) low = 0xA0;   // overlong
      if (lead == 0xED) high = 0x9F;  // UTF-16 surrogates
    } else if (lead >= 0xF0 && lead <= 0xF4) {
      length = 4;
      if (lead == 0xF0) low = 0x90;   // overlong
      if (lead == 0xF4) high = 0x8F;  // above U+10FFFF
    }
    bool ok = length > 0 && i + length <= size;
    for (std::size_t k = 1; ok && k < length; ++k) {
      const std::uint8_t b = bytes[i + k];
      ok = k == 1 ? (b >= low && b <= high) : (b >= 0x80 && b <= 0xBF);
    }
    if (!ok) {
      char where[64];
      std::snprintf(where, sizeof where, "byte %zu (0x%02x) is not valid UTF-8", i + 1, lead);
      return where;
    }
    i += length;
  }
  return "";
}

// Throws std::invalid_argument naming `what` (an option or field) when `text` is not valid UTF-8.
inline void requireUtf8(std::string_view what, std::string_view text) {
  if (std::string problem = utf8Problem(text); !problem.empty())
    throw std::invalid_argument(std::string(what) + ": " + problem + "; text must be UTF-8");
}

}  // namespace flywheel
