#include "devices/sim/sim_devices.hpp"

#include <chrono>
#include <cmath>

namespace flywheel::sim {

SimArm::SimArm(SimWorld& world, std::size_t armIndex, const ArmConfig& config)
    : world_(world), index_(armIndex), config_(config) {}

SimCamera::SimCamera(const SimWorld& world, const CameraConfig& config, int attachedFollower,
                     const Clock& clock)
    : world_(world),
      config_(config),
      attachedFollower_(attachedFollower),
      clock_(clock),
      renderer_(config.width, config.height, config.view.fovDeg) {}

SimCamera::~SimCamera() {
  close();
}

void SimCamera::open() {
  const double now = clock_.now();
  renderOne(now);  // a first frame at once, so nobody sees an empty camera
  nextFrameTime_ = now + 1.0 / config_.fps;
  if (!clock_.isRealTime() || thread_.joinable()) return;
  stopping_ = false;
  thread_ = std::thread([this] { threadMain(); });
}

void SimCamera::close() {
  {
    std::lock_guard lock(wakeMutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void SimCamera::threadMain() {
  const auto period = std::chrono::duration<double>(1.0 / config_.fps);
  auto next = std::chrono::steady_clock::now();
  std::unique_lock lock(wakeMutex_);
  while (!stopping_) {
    next += std::chrono::duration_cast<std::chrono::steady_clock::duration>(period);
    if (wake_.wait_until(lock, next, [this] { return stopping_; })) break;
    lock.unlock();
    renderOne(clock_.now());
    lock.lock();
  }
}

void SimCamera::renderDue(double now) {
  while (nextFrameTime_ <= now + 1e-9) {
    renderOne(nextFrameTime_);
    nextFrameTime_ += 1.0 / config_.fps;
  }
}

void SimCamera::renderNow(double now) {
  renderOne(now);
  nextFrameTime_ = now + 1.0 / config_.fps;
}

void SimCamera::renderOne(double captureTime) {
  SceneSnapshot scene = world_.snapshot();
  CameraView view;
  bool fixed = attachedFollower_ < 0;
  if (fixed) {
    const auto& v = config_.view;
    view = lookAt({v.position[0], v.position[1], v.position[2]}, {v.lookAt[0], v.lookAt[1], v.lookAt[2]});
  } else {
    ArmSnapshot& carrier = scene.arms.at(static_cast<std::size_t>(attachedFollower_));
    view = wristView(carrier.pose);
    carrier.drawHand = false;
  }
  cv::Mat rgb;
  renderer_.render(scene, view, fixed, rgb);

  Image image{rgb.cols, rgb.rows,
              std::shared_ptr<const std::uint8_t[]>(rgb.data, [keep = rgb](const std::uint8_t*) {})};
  frames_.publish(std::move(image), captureTime);
}

CameraFrame SimCamera::latest() const {
  return frames_.latest();
}

double SimCamera::measuredFps() const {
  return frames_.measuredFps();
}

SimRig::SimRig(const RigConfig& rig, const Clock& clock) : world_(rig), clock_(clock) {
  std::vector<std::string> followerNames;
  for (std::size_t i = 0; i < rig.arms.size(); ++i) {
    arms_.push_back(std::make_unique<SimArm>(world_, i, rig.arms[i]));
    if (rig.arms[i].role == ArmRole::Follower) followerNames.push_back(rig.arms[i].name);
  }
  for (const CameraConfig& cam : rig.cameras) {
    // Real cameras beside a simulated arm are the rig's to build.
    if (cam.sourceKind() != CameraSourceKind::Simulated) continue;
    int attached = -1;
    for (std::size_t f = 0; f < followerNames.size(); ++f)
      if (followerNames[f] == cam.view.attachToArm) attached = static_cast<int>(f);
    if (!cam.view.attachToArm.empty() && attached < 0)
      throw DeviceError("camera '" + cam.name +
                        "': a simulated wrist camera must ride on a follower arm, not '" +
                        cam.view.attachToArm + "'");
    cameras_.push_back(std::make_unique<SimCamera>(world_, cam, attached, clock));
  }
}

void SimRig::advance(double seconds) {
  world_.advance(seconds);
  if (clock_.isRealTime()) return;
  // On a manual clock the loop advances time after this call: frames due by then are rendered now.
  const double frameTime = clock_.now() + seconds;
  for (auto& camera : cameras_)
    camera->renderDue(frameTime);
}

}  // namespace flywheel::sim

namespace flywheel::sim {
void SimRig::renderCamerasNow() {
  if (clock_.isRealTime()) return;  // camera threads own their renderers
  for (auto& camera : cameras_)
    camera->renderNow(clock_.now());
}
}  // namespace flywheel::sim
