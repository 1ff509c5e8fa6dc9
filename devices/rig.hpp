// A rig built from its configuration: the arms and cameras it names, connected and ready for a loop.
#pragma once

#include <map>
#include <memory>
#include <optional>

#include "core/clock.hpp"
#include "core/config.hpp"
#include "core/control_loop.hpp"
#include "devices/servo/servo_bus.hpp"

namespace flywheel {

namespace sim {
class SimRig;
class SimWorld;
}  // namespace sim
class OpenCvCamera;
class ServoArm;
class ServoBus;
class ServoEmulator;

// What the devices went through, in one snapshot: the window's status bar and the commands' summaries
// print it. The loop's rate and the take's repeated frames are not here: ControlLoop::stats() and the
// recorder count those.
struct BusHealth {
  std::string port;  // the bus's port (a /dev/pts/N behind an emulator)
  BusCounters counters;
  std::uint64_t errors() const { return counters.timeouts + counters.corruptReplies; }
};

struct ArmHealth {
  std::string name;
  bool connected = false;
  std::optional<BusHealth> bus;  // empty for a simulated arm
};

struct CameraHealth {
  std::string name;
  double measuredFps = 0.0;
  std::string error;  // why it stopped delivering frames; empty while it works
};

struct RigHealth {
  std::vector<ArmHealth> arms;  // in the rig file's order
  std::vector<CameraHealth> cameras;
  std::uint64_t busErrors() const;  // timeouts and corrupt replies, summed over the arms' buses
};

// "bus of 'follower' (/dev/ttyUSB0): 1200 transactions, 0 timeouts, 0 corrupt replies, 0 retries, 0 failed"
// and "; last error: ..." when there was one. Empty for a simulated arm.
std::string describeBus(const ArmHealth& arm);

class Rig {
 public:
  // Throws DeviceError when the configuration names hardware this build cannot drive.
  Rig(RigConfig config, const Clock& clock);
  ~Rig();
  Rig(const Rig&) = delete;
  Rig& operator=(const Rig&) = delete;

  const RigConfig& config() const { return config_; }
  RigDevices devices() const;  // for a ControlLoop
  // Connects every arm and opens every camera: leaders go limp (a hand moves them), followers hold torque.
  // Disconnect closes the cameras and lets go of every arm's port; connect works again after it, and
  // disconnecting twice is harmless. Neither may run while a loop drives the rig.
  void connect();
  void disconnect();
  // Safe from any thread while a loop runs.
  RigHealth health() const;
  std::vector<Camera*> cameras() const;
  sim::SimWorld* simWorld() const;  // nullptr unless simulated
  ServoEmulator* emulatorFor(
      const std::string& armName) const;                 // nullptr unless the arm's port is "emulator"
  ServoArm* servoArm(const std::string& armName) const;  // nullptr for simulated arms
  // Things the operator should fix that do not stop the rig: an FTDI latency timer above 1 ms, a real arm
  // with no calibration file, a port without a USB serial number to key its calibration by. The commands
  // print them and the window shows them in its banner.
  const std::vector<std::string>& warnings() const { return warnings_; }
  // Where this arm's calibration lives: keyed by its USB adapter's serial number (or port name).
  std::string calibrationPathFor(const std::string& armName) const;
  // Manual clock, loop stopped: simulated cameras show the scene as it is now (after a reset).
  void refreshSimulatedCameras();

 private:
  void buildServoArms();

  RigConfig config_;
  std::unique_ptr<sim::SimRig> sim_;
  std::vector<std::unique_ptr<ServoEmulator>> emulators_;  // for arms whose port is "emulator"
  std::vector<std::unique_ptr<ServoArm>> servoArms_;
  std::vector<std::unique_ptr<OpenCvCamera>> openCvCameras_;
  std::map<std::string, std::string> calibrationPaths_;  // arm name -> file
  std::vector<std::string> warnings_;
  std::vector<Arm*> arms_;  // rig.arms order
  std::vector<Camera*> cameras_;
};

}  // namespace flywheel
