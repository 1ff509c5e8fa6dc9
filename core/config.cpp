#include "core/config.hpp"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "core/bundled_rigs.hpp"
#include "core/config_field.hpp"

namespace flywheel {
namespace {

// Each section's known keys sit next to its parser: a new field is one more entry in the list.
// Ranges are what a real rig can mean; anything outside is a typo or a unit mix-up, stopped here.
constexpr double kTwoPi = 6.283185307179586;
const Range kJointLimitRange{-kTwoPi, kTwoPi, "rad"};
const Range kMetresOnTable{-5.0, 5.0, "m"};

// The words of each kind, for parsing and for nameOf.
template <typename Kind>
struct Word {
  Kind kind;
  const char* word;
};
constexpr Word<ArmRole> kRoles[] = {{ArmRole::Leader, "leader"}, {ArmRole::Follower, "follower"}};
constexpr Word<BusKind> kBuses[] = {
    {BusKind::Sim, "sim"}, {BusKind::Dynamixel, "dynamixel"}, {BusKind::Feetech, "feetech"}};
constexpr Word<PortKind> kPortKinds[] = {{PortKind::Simulated, "simulated"},
                                         {PortKind::Emulator, "emulator"},
                                         {PortKind::DevicePath, "device path"},
                                         {PortKind::UsbSerial, "USB serial number"}};
constexpr Word<CameraSourceKind> kSourceKinds[] = {
    {CameraSourceKind::Simulated, "sim"},         {CameraSourceKind::VideoDevice, "V4L2 device"},
    {CameraSourceKind::VideoIndex, "V4L2 index"}, {CameraSourceKind::File, "file"},
    {CameraSourceKind::GStreamer, "GStreamer"},   {CameraSourceKind::Unknown, "unknown"}};

template <typename Kind, std::size_t N>
std::optional<Kind> kindOf(const Word<Kind> (&words)[N], const std::string& text) {
  for (const Word<Kind>& w : words)
    if (text == w.word) return w.kind;
  return std::nullopt;
}

template <typename Kind, std::size_t N>
const char* wordOf(const Word<Kind> (&words)[N], Kind kind) {
  for (const Word<Kind>& w : words)
    if (w.kind == kind) return w.word;
  return "?";
}

JointConfig parseJoint(const Field& f) {
  f.allowOnly({"name", "id", "min", "max", "offset", "direction"});
  JointConfig joint;
  joint.name = f.child("name").name();
  joint.id = f.has("id") ? static_cast<int>(f.child("id").integer({0, 252, "(servo id)"})) : 0;
  joint.min = f.child("min").number(kJointLimitRange);
  joint.max = f.child("max").number(kJointLimitRange);
  if (joint.min >= joint.max)
    f.child("max").fail("must be greater than min (" + std::to_string(joint.max) +
                        " <= " + std::to_string(joint.min) + ")");
  joint.offset = f.numberOr("offset", 0.0, {0, 65535, "raw servo steps"});
  joint.direction = f.has("direction") ? f.child("direction").number() : 1.0;
  if (joint.direction != 1.0 && joint.direction != -1.0) f.child("direction").fail("must be 1 or -1");
  if (joint.isGripper() && (joint.min < 0.0 || joint.max > 1.0))
    f.child("min").fail("a gripper is normalised: min and max must lie in 0..1");
  return joint;
}

ArmConfig parseArm(const Field& f) {
  f.allowOnly({"name", "role", "bus", "port", "baud", "model", "return_delay_us", "joints", "mount"});
  ArmConfig arm;
  arm.name = f.child("name").name();
  const std::string role = f.child("role").text();
  if (auto kind = kindOf(kRoles, role))
    arm.role = *kind;
  else
    f.child("role").fail("must be 'leader' or 'follower', got '" + role + "'");
  const std::string bus = f.child("bus").text();
  if (auto kind = kindOf(kBuses, bus))
    arm.bus = *kind;
  else
    f.child("bus").fail("must be 'sim', 'dynamixel' or 'feetech', got '" + bus + "'");
  const bool servos = arm.bus != BusKind::Sim;
  arm.port = f.textOr("port", "");
  if (servos && arm.port.empty()) f.absent("port").fail("is required for a servo bus");
  // Dynamixel X and Feetech STS buses run from 9600 baud to 4.5 Mbps.
  arm.baud = f.has("baud") ? static_cast<int>(f.child("baud").integer({9600, 4500000, "baud"})) : 1000000;
  arm.model = f.textOr("model", "");
  if (servos && arm.model.empty())
    f.absent("model").fail("is required for a servo bus (e.g. xl430-w250, sts3215)");
  // The servos' Return Delay Time, set on connect: 0 .. 508 us in steps of 2 us on both protocols.
  if (f.has("return_delay_us")) {
    arm.returnDelayUs = static_cast<int>(f.child("return_delay_us").integer({0, 508, "us"}));
    if (arm.returnDelayUs % 2 != 0)
      f.child("return_delay_us").fail("must be even (the servos count in 2 us)");
  }
  std::set<std::string> names;
  std::set<int> ids;
  for (const Field& jf : f.child("joints").items()) {
    JointConfig joint = parseJoint(jf);
    if (!names.insert(joint.name).second) jf.child("name").fail("duplicate joint name '" + joint.name + "'");
    if (servos && !ids.insert(joint.id).second)
      jf.child("id").fail("duplicate servo id " + std::to_string(joint.id));
    arm.joints.push_back(joint);
  }
  if (arm.joints.empty()) f.child("joints").fail("must list at least one joint");
  if (f.has("mount")) {
    Field m = f.child("mount");
    m.allowOnly({"x", "y", "yaw_deg"});
    arm.mount = {m.numberOr("x", 0.0, kMetresOnTable), m.numberOr("y", 0.0, kMetresOnTable),
                 m.numberOr("yaw_deg", 0.0, {-360, 360, "degrees"})};
  }
  return arm;
}

CameraConfig parseCamera(const Field& f) {
  f.allowOnly({"name", "source", "fourcc", "width", "height", "fps", "view"});
  CameraConfig cam;
  cam.name = f.child("name").name();
  cam.source = f.child("source").text();
  if (cam.sourceKind() == CameraSourceKind::Unknown)
    f.child("source").fail("unknown camera source '" + cam.source +
                           "' (use sim, /dev/videoN, a device index, file:PATH or gst:PIPELINE)");
  cam.fourcc = f.textOr("fourcc", "");
  if (!cam.fourcc.empty() && cam.fourcc.size() != 4)
    f.child("fourcc").fail("must be four characters, e.g. MJPG");
  cam.width = static_cast<int>(f.child("width").integer({16, 4096, "pixels"}));
  cam.height = static_cast<int>(f.child("height").integer({16, 4096, "pixels"}));
  cam.fps = f.child("fps").number({0, 240, "frames/s", true});
  if (f.has("view")) {
    Field v = f.child("view");
    v.allowOnly({"attach", "position", "look_at", "fov_deg"});
    if (v.has("attach")) {
      if (v.has("position") || v.has("look_at"))
        v.child("attach").fail(
            "a wrist camera moves with its arm: give attach or position/look_at, not both");
      cam.view.attachToArm = v.child("attach").name();
    } else {
      cam.view.position = v.child("position").vector<3>({-10, 10, "m"});
      cam.view.lookAt = v.child("look_at").vector<3>({-10, 10, "m"});
    }
    cam.view.fovDeg = v.numberOr("fov_deg", 60.0, {10, 150, "degrees"});
  } else if (cam.sourceKind() == CameraSourceKind::Simulated) {
    f.child("view").fail("is required for a simulated camera");
  }
  return cam;
}

void checkRates(const Field& root, RigConfig& rig) {
  if (rig.recordRateHz > rig.controlRateHz)
    root.child("record_rate_hz").fail("must be at most control_rate_hz");
  double ratio = rig.controlRateHz / rig.recordRateHz;
  if (std::abs(ratio - std::round(ratio)) > 1e-9)
    root.child("record_rate_hz")
        .fail("must divide control_rate_hz evenly (" + std::to_string(rig.controlRateHz) + " / " +
              std::to_string(rig.recordRateHz) + " is not a whole number)");
}

void checkPairs(const Field& root, const RigConfig& rig) {
  auto pairFields = root.has("pairs") ? root.child("pairs").items() : std::vector<Field>{};
  std::set<std::string> pairedFollowers;
  for (std::size_t i = 0; i < rig.pairs.size(); ++i) {
    const PairConfig& pair = rig.pairs[i];
    const ArmConfig* leader = rig.findArm(pair.leader);
    const ArmConfig* follower = rig.findArm(pair.follower);
    if (!leader) pairFields[i].child("leader").fail("no arm named '" + pair.leader + "'");
    if (!follower) pairFields[i].child("follower").fail("no arm named '" + pair.follower + "'");
    if (leader->role != ArmRole::Leader)
      pairFields[i].child("leader").fail("arm '" + pair.leader + "' has role follower");
    if (follower->role != ArmRole::Follower)
      pairFields[i].child("follower").fail("arm '" + pair.follower + "' has role leader");
    if (leader->joints.size() != follower->joints.size())
      pairFields[i].fail("leader has " + std::to_string(leader->joints.size()) + " joints, follower " +
                         std::to_string(follower->joints.size()));
    if (!pairedFollowers.insert(pair.follower).second)
      pairFields[i].child("follower").fail("arm '" + pair.follower + "' is paired twice");
  }
}

SafetyConfig parseSafety(const Field& s) {
  s.allowOnly({"max_joint_speed", "on_stop", "max_failed_ticks"});
  SafetyConfig safety;
  safety.maxJointSpeed = s.numberOr("max_joint_speed", safety.maxJointSpeed, {0, 50, "rad/s", true});
  std::string onStop = s.textOr("on_stop", "hold");
  if (onStop == "hold")
    safety.onStop = StopBehaviour::Hold;
  else if (onStop == "limp")
    safety.onStop = StopBehaviour::Limp;
  else
    s.child("on_stop").fail("must be 'hold' or 'limp', got '" + onStop + "'");
  if (s.has("max_failed_ticks"))
    safety.maxFailedTicks = static_cast<int>(s.child("max_failed_ticks").integer({1, 1000, "ticks"}));
  return safety;
}

TakeoverConfig parseTakeover(const Field& t) {
  t.allowOnly({"mirror_leaders", "threshold", "confirm_ticks", "hand_back_seconds", "leader_lag_seconds"});
  TakeoverConfig takeover;
  if (t.has("mirror_leaders")) takeover.mirrorLeaders = t.child("mirror_leaders").boolean();
  takeover.threshold = t.numberOr("threshold", takeover.threshold, {0, 3.2, "rad", true});
  if (t.has("confirm_ticks"))
    takeover.confirmTicks = static_cast<int>(t.child("confirm_ticks").integer({1, 1000, "ticks"}));
  takeover.handBackSeconds = t.numberOr("hand_back_seconds", takeover.handBackSeconds, {0, 10, "s"});
  takeover.leaderLagSeconds = t.numberOr("leader_lag_seconds", takeover.leaderLagSeconds, {0, 5, "s"});
  return takeover;
}

// A named bin's name is the word an instruction uses: lowercase letters only, so that it matches a word
// of the prompt as split by the tokeniser.
SimBin parseSimBin(const Field& f) {
  f.allowOnly({"name", "center"});
  SimBin bin;
  bin.name = f.child("name").name();
  if (bin.name.size() > 32 || !std::all_of(bin.name.begin(), bin.name.end(), [](char c) {
        return c >= 'a' && c <= 'z';
      }))
    f.child("name").fail("must be one lowercase word of letters a-z (the word an instruction uses), got '" +
                         bin.name + "'");
  bin.center = f.child("center").vector<2>(kMetresOnTable);
  return bin;
}

std::vector<SimBin> parseSimBins(const Field& list) {
  std::vector<SimBin> bins;
  for (const Field& f : list.items()) {
    bins.push_back(parseSimBin(f));
    for (std::size_t i = 0; i + 1 < bins.size(); ++i)
      if (bins[i].name == bins.back().name) f.child("name").fail("duplicate bin name '" + bins[i].name + "'");
  }
  if (bins.size() < 2 || bins.size() > 8) list.fail("must list 2 to 8 bins, each {name, center}");
  return bins;
}

SimConfig parseSim(const Field& s) {
  s.allowOnly({"seed", "bin_center", "cube_region", "bins"});
  SimConfig sim;
  if (s.has("seed")) sim.seed = static_cast<unsigned>(s.child("seed").integer({0, 4294967295.0}));
  if (s.has("bin_center")) sim.binCenter = s.child("bin_center").vector<2>(kMetresOnTable);
  if (s.has("cube_region")) {
    sim.cubeRegion = s.child("cube_region").vector<4>(kMetresOnTable);
    if (sim.cubeRegion[0] >= sim.cubeRegion[1] || sim.cubeRegion[2] >= sim.cubeRegion[3])
      s.child("cube_region").fail("must be [x_min, x_max, y_min, y_max] with min < max");
  }
  if (s.has("bins")) {
    if (s.has("bin_center")) s.child("bins").fail("give either bin_center (one bin) or bins, not both");
    sim.bins = parseSimBins(s.child("bins"));
  }
  return sim;
}

// Shares are fractions 0..1; a bad_rate above check_rate would leave no "check" band and is refused.
QualityThresholds parseQuality(const Field& q) {
  q.allowOnly({"bad_rate", "check_rate", "check_window_rate", "check_jitter_s", "check_repeated",
               "bad_repeated", "check_frame_age_s", "check_dropped_ticks", "check_failed_ticks",
               "check_idle_s", "idle_motion", "check_human_share"});
  QualityThresholds t;
  const Range share{0, 1}, seconds{0, 3600, "s"};
  t.badRate = q.numberOr("bad_rate", t.badRate, share);
  t.checkRate = q.numberOr("check_rate", t.checkRate, share);
  if (t.badRate > t.checkRate) q.child("bad_rate").fail("must not exceed check_rate");
  t.checkWindowRate = q.numberOr("check_window_rate", t.checkWindowRate, share);
  t.checkJitter = q.numberOr("check_jitter_s", t.checkJitter, seconds);
  t.checkRepeated = q.numberOr("check_repeated", t.checkRepeated, share);
  t.badRepeated = q.numberOr("bad_repeated", t.badRepeated, share);
  t.checkFrameAge = q.numberOr("check_frame_age_s", t.checkFrameAge, seconds);
  if (q.has("check_dropped_ticks"))
    t.checkDroppedTicks = static_cast<int>(q.child("check_dropped_ticks").integer({0, 1e9, "ticks"}));
  if (q.has("check_failed_ticks"))
    t.checkFailedTicks = static_cast<int>(q.child("check_failed_ticks").integer({0, 1e9, "ticks"}));
  t.checkIdle = q.numberOr("check_idle_s", t.checkIdle, seconds);
  t.idleMotion = q.numberOr("idle_motion", t.idleMotion, {0, 3.2, "rad", true});
  t.checkHumanShare = q.numberOr("check_human_share", t.checkHumanShare, share);
  return t;
}

}  // namespace

const char* nameOf(ArmRole role) {
  return wordOf(kRoles, role);
}
const char* nameOf(BusKind bus) {
  return wordOf(kBuses, bus);
}
const char* nameOf(PortKind port) {
  return wordOf(kPortKinds, port);
}
const char* nameOf(CameraSourceKind source) {
  return wordOf(kSourceKinds, source);
}

PortKind ArmConfig::portKind() const {
  if (bus == BusKind::Sim) return PortKind::Simulated;
  if (port == "emulator") return PortKind::Emulator;
  return port.starts_with("/") ? PortKind::DevicePath : PortKind::UsbSerial;
}

CameraSourceKind CameraConfig::sourceKind() const {
  if (source == "sim") return CameraSourceKind::Simulated;
  if (source.starts_with("/dev/video")) return CameraSourceKind::VideoDevice;
  if (source.starts_with("file:")) return CameraSourceKind::File;
  if (source.starts_with("gst:")) return CameraSourceKind::GStreamer;
  if (!source.empty() && std::all_of(source.begin(), source.end(), ::isdigit))
    return CameraSourceKind::VideoIndex;
  return CameraSourceKind::Unknown;
}

std::string CameraConfig::sourceTarget() const {
  switch (sourceKind()) {
    case CameraSourceKind::File:
      return source.substr(5);  // after "file:"
    case CameraSourceKind::GStreamer:
      return source.substr(4);  // after "gst:"
    default:
      return source;
  }
}

bool RigConfig::isSimulated() const {
  for (const auto& arm : arms)
    if (arm.bus != BusKind::Sim) return false;
  for (const auto& cam : cameras)
    if (cam.sourceKind() != CameraSourceKind::Simulated) return false;
  return true;
}

const ArmConfig* RigConfig::findArm(const std::string& armName) const {
  for (const auto& arm : arms)
    if (arm.name == armName) return &arm;
  return nullptr;
}

std::vector<const ArmConfig*> RigConfig::followers() const {
  std::vector<const ArmConfig*> result;
  for (const auto& arm : arms)
    if (arm.role == ArmRole::Follower) result.push_back(&arm);
  return result;
}

std::size_t RigConfig::followerJointCount() const {
  std::size_t count = 0;
  for (const auto* arm : followers())
    count += arm->joints.size();
  return count;
}

int RigConfig::recordDecimation() const {
  return static_cast<int>(std::lround(controlRateHz / recordRateHz));
}

RigConfig parseRigConfig(const std::string& yamlText, const std::string& displayName) {
  requireUtf8Text(yamlText, displayName);
  YAML::Node document;
  try {
    document = YAML::Load(yamlText);
  } catch (const YAML::Exception& e) {
    throw ConfigError(displayName + ":" + std::to_string(e.mark.line + 1) + ": not valid YAML: " + e.msg);
  }
  Field root(document, "", displayName);
  if (!document.IsMap()) root.fail("the file must be a YAML mapping (name, arms, cameras, ...)");
  root.allowOnly({"name", "description", "control_rate_hz", "record_rate_hz", "arms", "pairs", "cameras",
                  "safety", "takeover", "sim", "quality"});

  RigConfig rig;
  rig.name = root.child("name").name();
  rig.description = root.textOr("description", "");
  rig.controlRateHz = root.numberOr("control_rate_hz", 50.0, {1, 2000, "Hz"});
  rig.recordRateHz = root.numberOr("record_rate_hz", rig.controlRateHz, {0, 2000, "Hz", true});
  checkRates(root, rig);

  std::set<std::string> armNames;
  for (const Field& af : root.child("arms").items()) {
    ArmConfig arm = parseArm(af);
    if (!armNames.insert(arm.name).second) af.child("name").fail("duplicate arm name '" + arm.name + "'");
    if (!rig.arms.empty() && (arm.bus == BusKind::Sim) != (rig.arms.front().bus == BusKind::Sim))
      af.child("bus").fail("simulated and real arms cannot share a rig");
    rig.arms.push_back(arm);
  }
  if (rig.followers().empty()) root.child("arms").fail("needs at least one arm with role follower");

  if (root.has("pairs"))
    for (const Field& pf : root.child("pairs").items()) {
      pf.allowOnly({"leader", "follower"});
      rig.pairs.push_back({pf.child("leader").text(), pf.child("follower").text()});
    }
  checkPairs(root, rig);

  std::set<std::string> cameraNames;
  if (root.has("cameras"))
    for (const Field& cf : root.child("cameras").items()) {
      CameraConfig cam = parseCamera(cf);
      if (!cameraNames.insert(cam.name).second)
        cf.child("name").fail("duplicate camera name '" + cam.name + "'");
      if (cam.sourceKind() == CameraSourceKind::Simulated && rig.arms.front().bus != BusKind::Sim)
        cf.child("source").fail("a simulated camera needs simulated arms");
      if (!cam.view.attachToArm.empty() && !rig.findArm(cam.view.attachToArm))
        cf.child("view").child("attach").fail("no arm named '" + cam.view.attachToArm + "'");
      rig.cameras.push_back(cam);
    }

  if (root.has("safety")) rig.safety = parseSafety(root.child("safety"));
  if (root.has("takeover")) rig.takeover = parseTakeover(root.child("takeover"));
  if (root.has("sim")) rig.sim = parseSim(root.child("sim"));
  if (root.has("quality")) rig.quality = parseQuality(root.child("quality"));
  rig.sourcePath = displayName;
  rig.sourceText = yamlText;
  return rig;
}

RigConfig loadRigConfig(const std::string& nameOrPath) {
  if (const std::string* bundled = findBundledRig(nameOrPath))
    return parseRigConfig(*bundled, nameOrPath + " (bundled)");
  namespace fs = std::filesystem;
  std::error_code error;
  const fs::file_status status = fs::status(nameOrPath, error);
  if (!fs::exists(status))
    throw ConfigError(nameOrPath + ": no such rig file (bundled rigs: " + bundledRigNames() + ")");
  if (fs::is_directory(status))
    throw ConfigError(nameOrPath + ": is a directory, not a rig file (give the path of a .yaml file)");
  if (!fs::is_regular_file(status)) throw ConfigError(nameOrPath + ": is not a regular file");
  // A rig file is a few kilobytes; a much bigger one is the wrong file.
  constexpr std::uintmax_t kMaxRigBytes = 1 << 20;
  if (const std::uintmax_t size = fs::file_size(nameOrPath, error); !error && size > kMaxRigBytes)
    throw ConfigError(nameOrPath + ": is " + std::to_string(size) +
                      " bytes; a rig file is at most 1 MiB (is this the right file?)");
  std::ifstream in(nameOrPath);
  if (!in) throw ConfigError(nameOrPath + ": cannot be read");
  std::stringstream text;
  text << in.rdbuf();
  if (in.bad()) throw ConfigError(nameOrPath + ": cannot be read");
  return parseRigConfig(text.str(), nameOrPath);
}

}  // namespace flywheel
