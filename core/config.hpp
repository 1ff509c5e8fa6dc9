// Rig configuration: arms, leader->follower pairings, cameras, rates. Loaded from YAML and validated
// up front so that nothing starts on a bad file.
#pragma once

#include <array>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace flywheel {

// "rig.yaml:12: arms[0].joints[3].max: must be greater than min (0.5 <= 1.2)"
struct ConfigError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// The rig file's words as kinds, which every decision uses; nameOf gives the word back for messages. Role
// and bus are read once, on load. A port and a camera source keep their text (a path, a serial number, a
// pipeline), and their kind is read from it by the parser's own rules (ArmConfig::portKind, sourceKind).
enum class ArmRole { Leader, Follower };
enum class BusKind { Sim, Dynamixel, Feetech };  // "sim", "dynamixel", "feetech"
// What an arm's port names: nothing (a simulated arm), the built-in servo emulator ("emulator"), a device
// path ("/dev/ttyUSB0"), or a USB adapter's serial number ("FT8J0QI3").
enum class PortKind { Simulated, Emulator, DevicePath, UsbSerial };
// "sim"; "/dev/video0"; a V4L2 index "0"; "file:clip.mp4"; "gst:<pipeline>". Unknown is refused on load.
enum class CameraSourceKind { Simulated, VideoDevice, VideoIndex, File, GStreamer, Unknown };

const char* nameOf(ArmRole role);
const char* nameOf(BusKind bus);
const char* nameOf(PortKind port);
const char* nameOf(CameraSourceKind source);

struct JointConfig {
  std::string name;
  int id = 0;        // servo id on the bus
  double min = 0.0;  // limits, radians (gripper: 0..1, 0 closed, 1 open)
  double max = 0.0;
  double offset = 0.0;     // calibration: joint = direction * (raw - offset)
  double direction = 1.0;  // +1 or -1
  bool isGripper() const { return name == "gripper" || name.ends_with("_gripper"); }
};

// Where a simulated arm stands on the table. Real arms ignore it.
struct MountConfig {
  double x = 0.0, y = 0.0, yawDeg = 0.0;
};

struct ArmConfig {
  std::string name;
  ArmRole role = ArmRole::Follower;
  BusKind bus = BusKind::Sim;
  std::string port;  // as written (the Setup view writes it back): see PortKind; empty for sim
  int baud = 1000000;
  std::string
      model;  // servo model on a bus: xl330-m077, xl330-m288, xl430-w250, xm430-w350, xm540-w270, sts3215
  int returnDelayUs = 0;  // the servos' Return Delay Time, written on connect (factory: 500 us)
  std::vector<JointConfig> joints;
  MountConfig mount;

  // Read from `port` on each call, so that a port set after loading (a test's link, the bench's pty) is
  // never judged by the text it replaced.
  PortKind portKind() const;
};

struct PairConfig {
  std::string leader;
  std::string follower;
};

// A simulated camera either stands still (position + look_at) or rides on an arm's wrist (attach).
struct SimViewConfig {
  std::array<double, 3> position{0.0, 0.0, 1.0};
  std::array<double, 3> lookAt{0.3, 0.0, 0.0};
  double fovDeg = 60.0;
  std::string attachToArm;  // non-empty: a wrist camera on that arm
};

struct CameraConfig {
  std::string name;
  // "sim"; a V4L2 device ("/dev/video0" or an index "0"); "file:clip.mp4" (played at its fps);
  // "gst:<GStreamer pipeline ending in appsink>".
  std::string source;
  std::string fourcc;  // V4L2 pixel format to ask for, e.g. "MJPG"
  int width = 640;
  int height = 480;
  double fps = 30.0;
  SimViewConfig view;

  CameraSourceKind sourceKind() const;  // read from `source` on each call, as ArmConfig::portKind
  std::string sourceTarget() const;     // what the source opens: the path, index or pipeline, no prefix
};

enum class StopBehaviour { Hold, Limp };

struct SafetyConfig {
  double maxJointSpeed = 4.0;  // rad/s; the maximum step per tick is maxJointSpeed / control rate
  StopBehaviour onStop = StopBehaviour::Hold;  // followers on exit, error or Ctrl-C
  int maxFailedTicks = 5;  // consecutive ticks with a bus error before the loop stops the followers
};

// Human takeover while a policy runs: how a grab of the leader arm is noticed and how control returns.
struct TakeoverConfig {
  bool mirrorLeaders = true;       // leaders (torque on) follow their followers while the policy drives
  double threshold = 0.3;          // rad (gripper units): leader pushed this far from where it should be
  int confirmTicks = 3;            // consecutive control ticks beyond the threshold before taking over
  double handBackSeconds = 1.0;    // blend from the human's last command to the policy's actions
  double leaderLagSeconds = 0.15;  // a mirrored leader may trail its moving goal by this long
};

// What makes an episode "check" or "bad" (recorder/episode_quality.hpp); a rig file's `quality:` section.
// Rates are fractions of the episode's nominal fps: ALOHA drops a take under 42 of 50 Hz (0.84).
struct QualityThresholds {
  double badRate = 0.84;         // mean rate under this share of nominal: bad
  double checkRate = 0.95;       // mean rate under this share: check
  double checkWindowRate = 0.5;  // any 1-second window under this share (a stall): check
  double checkJitter = 0.010;    // s, jitter p99 above it: check
  double checkRepeated = 0.2;    // a camera repeating more than this share of its frames: check
  double badRepeated = 0.9;      // ... more than this (a frozen camera): bad
  double checkFrameAge = 0.25;   // s, a frame older than this when recorded: check
  int checkDroppedTicks = 0;     // more writer drops than this: check
  int checkFailedTicks = 0;      // more failed bus ticks than this: check
  double checkIdle = 3.0;        // s of idle head or tail above it: check
  double idleMotion = 0.02;      // rad (gripper units): a joint this far from where it rested has moved
  double checkHumanShare = 0.5;  // policy runs: more ticks under human control than this share: check
};

// A named bin of a task with several: its name is the word an instruction uses ("... the left bin").
struct SimBin {
  std::string name;  // one lowercase word of letters a-z
  std::array<double, 2> center{0.2, 0.3};
};

struct SimConfig {
  unsigned seed = 1;
  std::array<double, 2> binCenter{0.2, 0.3};                  // metres on the table
  std::array<double, 4> cubeRegion{0.26, 0.40, -0.14, 0.08};  // x min, x max, y min, y max
  // Empty: one bin at binCenter, any instruction. Two or more: the instruction names the bin that counts
  // (devices/sim/sim_world.hpp); binCenter is then unused.
  std::vector<SimBin> bins;
};

struct RigConfig {
  std::string name;
  std::string description;
  double controlRateHz = 50.0;
  double recordRateHz = 50.0;
  std::vector<ArmConfig> arms;
  std::vector<PairConfig> pairs;
  std::vector<CameraConfig> cameras;
  SafetyConfig safety;
  TakeoverConfig takeover;
  SimConfig sim;
  QualityThresholds quality;
  std::string sourcePath;  // where it was loaded from
  std::string sourceText;  // the YAML as written, stored in every episode

  bool isSimulated() const;
  const ArmConfig* findArm(const std::string& name) const;
  std::vector<const ArmConfig*> followers() const;
  std::size_t followerJointCount() const;
  int recordDecimation() const;  // control ticks per recorded tick
};

// Throws ConfigError naming the file, the line, the field and the problem.
RigConfig parseRigConfig(const std::string& yamlText, const std::string& displayName);
// A bundled rig name ("sim", "sim-aloha") or a path to a YAML file.
RigConfig loadRigConfig(const std::string& nameOrPath);

}  // namespace flywheel
