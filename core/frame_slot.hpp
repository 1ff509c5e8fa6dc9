// The latest-frame handoff every camera uses: the grabbing thread publishes, anyone reads the newest frame
// without waiting, and the rate frames actually arrive at is measured.
#pragma once

#include <mutex>

#include "core/types.hpp"

namespace flywheel {

class FrameSlot {
 public:
  void publish(Image image, double captureTime) {
    std::lock_guard lock(mutex_);
    if (latest_.sequence > 0 && captureTime > latest_.captureTime) {
      const double instant = 1.0 / (captureTime - latest_.captureTime);
      fps_ = fps_ == 0.0 ? instant : 0.9 * fps_ + 0.1 * instant;
    }
    latest_ = {std::move(image), captureTime, latest_.sequence + 1};
  }
  CameraFrame latest() const {
    std::lock_guard lock(mutex_);
    return latest_;
  }
  double measuredFps() const {
    std::lock_guard lock(mutex_);
    return fps_;
  }

 private:
  mutable std::mutex mutex_;
  CameraFrame latest_;
  double fps_ = 0.0;
};

}  // namespace flywheel
