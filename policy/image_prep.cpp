#include "policy/image_prep.hpp"

#include <algorithm>
#include <cmath>
#include <opencv2/imgproc.hpp>

namespace flywheel {

std::vector<std::uint8_t> resizeWithPadChw(const Image& image, int height, int width) {
  const std::size_t plane = static_cast<std::size_t>(height) * static_cast<std::size_t>(width);
  std::vector<std::uint8_t> chw(3 * plane, 0);
  if (image.empty()) return chw;
  const double scale =
      std::min(static_cast<double>(width) / image.width, static_cast<double>(height) / image.height);
  const int fittedWidth = std::max(1, static_cast<int>(std::lround(image.width * scale)));
  const int fittedHeight = std::max(1, static_cast<int>(std::lround(image.height * scale)));
  const cv::Mat source(image.height, image.width, CV_8UC3, const_cast<std::uint8_t*>(image.pixels.get()));
  cv::Mat fitted;
  cv::resize(source, fitted, cv::Size(fittedWidth, fittedHeight), 0, 0,
             scale < 1.0 ? cv::INTER_AREA : cv::INTER_LINEAR);
  const int top = (height - fittedHeight) / 2, left = (width - fittedWidth) / 2;
  for (int y = 0; y < fittedHeight; ++y) {
    const std::uint8_t* row = fitted.ptr<std::uint8_t>(y);
    for (int x = 0; x < fittedWidth; ++x) {
      const std::size_t at = static_cast<std::size_t>(top + y) * width + static_cast<std::size_t>(left + x);
      for (int c = 0; c < 3; ++c)
        chw[c * plane + at] = row[x * 3 + c];
    }
  }
  return chw;
}

}  // namespace flywheel
