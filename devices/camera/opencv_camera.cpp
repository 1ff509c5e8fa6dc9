#include "devices/camera/opencv_camera.hpp"

#include <chrono>
#include <opencv2/imgproc.hpp>
#include <opencv2/videoio.hpp>

namespace flywheel {

OpenCvCamera::OpenCvCamera(CameraConfig config, const Clock& clock, double stallSeconds)
    : config_(std::move(config)),
      clock_(clock),
      stallSeconds_(stallSeconds),
      capture_(std::make_unique<cv::VideoCapture>()) {}

OpenCvCamera::~OpenCvCamera() {
  close();
}

void OpenCvCamera::open() {
  const CameraSourceKind kind = config_.sourceKind();
  const std::string target = config_.sourceTarget();
  bool opened = false;
  isFile_ = kind == CameraSourceKind::File;
  if (kind == CameraSourceKind::File) {
    opened = capture_->open(target, cv::CAP_ANY);
    fileFps_ = opened ? capture_->get(cv::CAP_PROP_FPS) : 0.0;
    if (!(fileFps_ > 0.0 && fileFps_ < 1000.0)) fileFps_ = config_.fps;
  } else if (kind == CameraSourceKind::GStreamer) {
    opened = capture_->open(target, cv::CAP_GSTREAMER);
  } else if (kind == CameraSourceKind::VideoDevice || kind == CameraSourceKind::VideoIndex) {
    opened = kind == CameraSourceKind::VideoDevice ? capture_->open(target, cv::CAP_V4L2)
                                                   : capture_->open(std::stoi(target), cv::CAP_V4L2);
    if (opened) {
      if (config_.fourcc.size() == 4)
        capture_->set(cv::CAP_PROP_FOURCC, cv::VideoWriter::fourcc(config_.fourcc[0], config_.fourcc[1],
                                                                   config_.fourcc[2], config_.fourcc[3]));
      capture_->set(cv::CAP_PROP_FRAME_WIDTH, config_.width);
      capture_->set(cv::CAP_PROP_FRAME_HEIGHT, config_.height);
      capture_->set(cv::CAP_PROP_FPS, config_.fps);
      capture_->set(cv::CAP_PROP_BUFFERSIZE, 1);  // the newest frame, not one queued seconds ago
    }
  }
  if (!opened) throw DeviceError("camera '" + config_.name + "': cannot open " + config_.source);
  stopping_ = false;
  thread_ = std::thread([this] { threadMain(); });
}

void OpenCvCamera::close() {
  stopping_ = true;
  if (thread_.joinable()) thread_.join();
  capture_->release();
}

void OpenCvCamera::fail(const std::string& why) {
  std::lock_guard lock(mutex_);
  if (error_.empty()) error_ = "camera '" + config_.name + "' (" + config_.source + ") " + why;
}

void OpenCvCamera::threadMain() {
  const auto framePeriod = std::chrono::duration<double>(1.0 / (isFile_ ? fileFps_ : config_.fps));
  auto nextFrame = std::chrono::steady_clock::now();
  double lastGood = clock_.now();
  std::uint64_t frames = 0;
  cv::Mat bgr;
  while (!stopping_) {
    if (isFile_) {  // a file plays at its own frame rate, as a camera would deliver it
      std::this_thread::sleep_until(nextFrame);
      nextFrame += std::chrono::duration_cast<std::chrono::steady_clock::duration>(framePeriod);
    }
    if (!capture_->read(bgr) || bgr.empty()) {
      if (isFile_) return fail("ended after " + std::to_string(frames) + " frames");
      if (clock_.now() - lastGood > stallSeconds_) return fail("stopped delivering frames (unplugged?)");
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
      continue;
    }
    const double captured = clock_.now();
    lastGood = captured;
    ++frames;
    cv::Mat rgb;
    cv::cvtColor(bgr, rgb, cv::COLOR_BGR2RGB);
    if (rgb.cols != config_.width || rgb.rows != config_.height)  // the dataset's size is the rig file's
      cv::resize(rgb, rgb, cv::Size(config_.width, config_.height), 0, 0, cv::INTER_AREA);
    frames_.publish({rgb.cols, rgb.rows,
                     std::shared_ptr<const std::uint8_t[]>(rgb.data, [keep = rgb](const std::uint8_t*) {})},
                    captured);
  }
}

CameraFrame OpenCvCamera::latest() const {
  return frames_.latest();
}

double OpenCvCamera::measuredFps() const {
  return frames_.measuredFps();
}

std::string OpenCvCamera::error() const {
  std::lock_guard lock(mutex_);
  return error_;
}

}  // namespace flywheel
