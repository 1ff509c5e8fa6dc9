// Camera frames as policies take them: letterboxed to a square (or any) size without distortion, CHW.
#pragma once

#include <cstdint>
#include <vector>

#include "core/types.hpp"

namespace flywheel {

// openpi's resize_with_pad: scale to fit height x width keeping the aspect ratio, centre, pad with black.
// Returns [3, height, width] uint8, RGB. An empty image gives black.
std::vector<std::uint8_t> resizeWithPadChw(const Image& image, int height, int width);

}  // namespace flywheel
