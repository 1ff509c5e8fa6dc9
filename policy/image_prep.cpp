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
  // Exact halvings by area averaging (OpenCV's fast path) keep the shrink antialiased; the rest is
  // bilinear. A single INTER_AREA resize by a fractional factor costs ~8x more (2.1 ms for 640x480 → 224).
  cv::Mat fitted = source;
  while (fitted.cols >= 2 * fittedWidth && fitted.rows >= 2 * fittedHeight) {
    cv::Mat half;
    cv::resize(fitted, half, cv::Size(fitted.cols / 2, fitted.rows / 2), 0, 0, cv::INTER_AREA);
    fitted = half;
  }
  if (fitted.cols != fittedWidth || fitted.rows != fittedHeight) {
    cv::Mat resized;
    cv::resize(fitted, resized, cv::Size(fittedWidth, fittedHeight), 0, 0, cv::INTER_LINEAR);
    fitted = resized;
  }
  // Split the channels straight into the padded planes: each plane's window is where the picture goes.
  const int top = (height - fittedHeight) / 2, left = (width - fittedWidth) / 2;
  std::vector<cv::Mat> planes;
  for (int c = 0; c < 3; ++c) {
    cv::Mat whole(height, width, CV_8UC1, chw.data() + static_cast<std::size_t>(c) * plane);
    planes.push_back(whole(cv::Rect(left, top, fittedWidth, fittedHeight)));
  }
  cv::split(fitted, planes);
  return chw;
}

}  // namespace flywheel
