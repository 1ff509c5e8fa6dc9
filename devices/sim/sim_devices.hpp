// The simulated rig's arms and cameras behind the same Arm and Camera interfaces as real hardware.
#pragma once

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <thread>

#include "core/clock.hpp"
#include "core/frame_slot.hpp"
#include "core/hardware.hpp"
#include "devices/sim/renderer.hpp"
#include "devices/sim/sim_world.hpp"

namespace flywheel::sim {

class SimArm final : public Arm {
 public:
  SimArm(SimWorld& world, std::size_t armIndex, const ArmConfig& config);
  std::string name() const override { return config_.name; }
  std::size_t jointCount() const override { return config_.joints.size(); }
  void connect() override { connected_ = true; }
  void disconnect() override { connected_ = false; }
  bool isConnected() const override { return connected_; }
  JointState read() override { return world_.armState(index_); }
  void write(const JointVector& goal) override { world_.setGoal(index_, goal); }
  void setTorque(bool enabled) override { world_.setTorque(index_, enabled); }

 private:
  SimWorld& world_;
  std::size_t index_;
  const ArmConfig& config_;
  std::atomic<bool> connected_{false};
};

// Renders the scene at its own fps: on its own thread against a real clock, or on demand (renderDue)
// when the rig runs on a manual clock, so that faster-than-real-time runs see every frame in order.
class SimCamera final : public Camera {
 public:
  SimCamera(const SimWorld& world, const CameraConfig& config, int attachedFollower, const Clock& clock);
  ~SimCamera() override;
  std::string name() const override { return config_.name; }
  void open() override;
  void close() override;
  CameraFrame latest() const override;
  double measuredFps() const override;
  void renderDue(double now);  // manual-clock mode: render if a frame is due by `now`
  void renderNow(double now);  // manual-clock mode, loop stopped: a frame of the scene as it is now

 private:
  void renderOne(double captureTime);
  void threadMain();

  const SimWorld& world_;
  CameraConfig config_;
  int attachedFollower_;  // index among the followers, or -1 for a fixed camera
  const Clock& clock_;
  SceneRenderer renderer_;
  double nextFrameTime_ = -1.0;

  FrameSlot frames_;

  std::thread thread_;
  std::mutex wakeMutex_;
  std::condition_variable wake_;
  bool stopping_ = false;
};

// Owns the world, arms and cameras of a simulated rig, and steps them for the control loop.
class SimRig final : public Simulation {
 public:
  SimRig(const RigConfig& rig, const Clock& clock);
  void advance(double seconds) override;
  void renderCamerasNow();  // manual clock only, with the loop stopped
  SimWorld& world() { return world_; }
  std::vector<std::unique_ptr<SimArm>>& arms() { return arms_; }
  std::vector<std::unique_ptr<SimCamera>>& cameras() { return cameras_; }

 private:
  SimWorld world_;
  const Clock& clock_;
  std::vector<std::unique_ptr<SimArm>> arms_;
  std::vector<std::unique_ptr<SimCamera>> cameras_;
};

}  // namespace flywheel::sim
