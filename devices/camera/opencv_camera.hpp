// A camera through OpenCV's VideoCapture: V4L2 devices (by path or index, with a pixel format, size and
// fps), video files played at their own rate, and GStreamer pipelines. It grabs on its own thread and
// keeps the newest frame with the time it was captured; when frames stop coming it says so.
#pragma once

#include <atomic>
#include <mutex>
#include <thread>

#include "core/clock.hpp"
#include "core/config.hpp"
#include "core/frame_slot.hpp"
#include "core/hardware.hpp"

namespace cv {
class VideoCapture;
}

namespace flywheel {

class OpenCvCamera final : public Camera {
 public:
  OpenCvCamera(CameraConfig config, const Clock& clock, double stallSeconds = 1.0);
  ~OpenCvCamera() override;
  std::string name() const override { return config_.name; }
  void open() override;  // throws DeviceError naming the camera and its source
  void close() override;
  CameraFrame latest() const override;
  double measuredFps() const override;
  std::string error() const override;

 private:
  void threadMain();
  void fail(const std::string& why);

  CameraConfig config_;
  const Clock& clock_;
  double stallSeconds_;
  std::unique_ptr<cv::VideoCapture> capture_;
  bool isFile_ = false;
  double fileFps_ = 0.0;
  std::thread thread_;
  std::atomic<bool> stopping_{false};
  FrameSlot frames_;
  mutable std::mutex mutex_;  // guards error_
  std::string error_;
};

}  // namespace flywheel
