// The few verbs the control loop needs from hardware, in the manner of ros2_control's read/write cycle.
// devices/ implements them for servo buses, cameras and the simulated rig.
#pragma once

#include <stdexcept>
#include <string>

#include "core/types.hpp"

namespace flywheel {

class Arm {
 public:
  virtual ~Arm() = default;
  virtual std::string name() const = 0;
  virtual std::size_t jointCount() const = 0;
  // connect, disconnect, connect again works; disconnect twice is harmless. A disconnected arm has let go of
  // its port; its servos keep whatever torque they had (the loop's stop behaviour set it).
  virtual void connect() = 0;  // throws DeviceError with a clear message
  virtual void disconnect() = 0;
  virtual bool isConnected() const = 0;
  virtual JointState read() = 0;                    // calibrated: radians, gripper 0..1
  virtual void write(const JointVector& goal) = 0;  // calibrated goal positions
  virtual void setTorque(bool enabled) = 0;
};

class Camera {
 public:
  virtual ~Camera() = default;
  virtual std::string name() const = 0;
  virtual void open() = 0;
  virtual void close() = 0;
  virtual CameraFrame latest() const = 0;  // newest frame with its capture timestamp; never blocks
  virtual double measuredFps() const = 0;
  // Why the camera stopped delivering frames (unplugged, the file ended); empty while it works. A stopped
  // camera's last frame must not pass for a live one.
  virtual std::string error() const { return {}; }
};

// A rig whose physics must be advanced by the loop (the simulated rig). Real hardware moves by itself.
class Simulation {
 public:
  virtual ~Simulation() = default;
  virtual void advance(double seconds) = 0;
};

struct DeviceError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

}  // namespace flywheel
