#include "core/config.hpp"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "core/bundled_rigs.hpp"

namespace flywheel {
namespace {

// Walks a YAML tree remembering the dotted path, so every error names file, line and field.
class Field {
 public:
  Field(const YAML::Node& node, std::string path, const std::string& file)
      : node_(node), path_(std::move(path)), file_(file) {}

  [[noreturn]] void fail(const std::string& problem) const {
    std::ostringstream out;
    out << file_;
    if (node_.IsDefined() && node_.Mark().line >= 0) out << ":" << node_.Mark().line + 1;
    out << ": " << (path_.empty() ? "(top level)" : path_) << ": " << problem;
    throw ConfigError(out.str());
  }

  bool has(const std::string& key) const { return node_.IsMap() && node_[key].IsDefined(); }

  Field child(const std::string& key) const {
    if (!node_.IsMap()) fail("must be a mapping of fields");
    YAML::Node value = node_[key];
    if (!value.IsDefined() || value.IsNull()) absent(key).fail("is required but missing");
    return Field(value, childPathOf(key), file_);
  }

  // A field that is not there, reported at its parent's line.
  Field absent(const std::string& key) const { return Field(node_, childPathOf(key), file_); }

  std::vector<Field> items() const {
    if (!node_.IsSequence()) fail("must be a list");
    std::vector<Field> result;
    for (std::size_t i = 0; i < node_.size(); ++i)
      result.emplace_back(node_[i], path_ + "[" + std::to_string(i) + "]", file_);
    return result;
  }

  template <typename T>
  T as(const char* expected) const {
    if (!node_.IsScalar()) fail(std::string("must be ") + expected);
    try {
      return node_.as<T>();
    } catch (const YAML::Exception&) {
      fail(std::string("must be ") + expected + ", got '" + node_.Scalar() + "'");
    }
  }
  std::string text() const { return as<std::string>("text"); }
  double number() const {
    double value = as<double>("a number");
    if (!std::isfinite(value)) fail("must be a finite number");
    return value;
  }
  int integer() const { return as<int>("an integer"); }
  bool boolean() const { return as<bool>("true or false"); }

  double numberOr(const std::string& key, double fallback) const {
    return has(key) ? child(key).number() : fallback;
  }
  std::string textOr(const std::string& key, const std::string& fallback) const {
    return has(key) ? child(key).text() : fallback;
  }
  template <std::size_t N>
  std::array<double, N> vector() const {
    auto list = items();
    if (list.size() != N) fail("must be a list of " + std::to_string(N) + " numbers");
    std::array<double, N> result{};
    for (std::size_t i = 0; i < N; ++i)
      result[i] = list[i].number();
    return result;
  }

  const std::string& path() const { return path_; }

 private:
  std::string childPathOf(const std::string& key) const { return path_.empty() ? key : path_ + "." + key; }

  YAML::Node node_;
  std::string path_;
  const std::string& file_;
};

JointConfig parseJoint(const Field& f) {
  JointConfig joint;
  joint.name = f.child("name").text();
  joint.id = f.has("id") ? f.child("id").integer() : 0;
  if (joint.id < 0 || joint.id > 252) f.child("id").fail("must be a servo id in 0..252");
  joint.min = f.child("min").number();
  joint.max = f.child("max").number();
  if (joint.min >= joint.max)
    f.child("max").fail("must be greater than min (" + std::to_string(joint.max) +
                        " <= " + std::to_string(joint.min) + ")");
  joint.offset = f.numberOr("offset", 0.0);
  joint.direction = f.numberOr("direction", 1.0);
  if (joint.direction != 1.0 && joint.direction != -1.0) f.child("direction").fail("must be 1 or -1");
  if (joint.isGripper() && (joint.min < 0.0 || joint.max > 1.0))
    f.child("min").fail("a gripper is normalised: min and max must lie in 0..1");
  return joint;
}

ArmConfig parseArm(const Field& f) {
  ArmConfig arm;
  arm.name = f.child("name").text();
  std::string role = f.child("role").text();
  if (role == "leader")
    arm.role = ArmRole::Leader;
  else if (role == "follower")
    arm.role = ArmRole::Follower;
  else
    f.child("role").fail("must be 'leader' or 'follower', got '" + role + "'");
  arm.bus = f.child("bus").text();
  if (arm.bus != "sim" && arm.bus != "dynamixel" && arm.bus != "feetech")
    f.child("bus").fail("must be 'sim', 'dynamixel' or 'feetech', got '" + arm.bus + "'");
  arm.port = f.textOr("port", "");
  if (arm.bus != "sim" && arm.port.empty()) f.absent("port").fail("is required for a servo bus");
  arm.baud = f.has("baud") ? f.child("baud").integer() : 1000000;
  arm.model = f.textOr("model", "");
  if (arm.bus != "sim" && arm.model.empty())
    f.absent("model").fail("is required for a servo bus (e.g. xl430-w250, sts3215)");
  if (arm.baud <= 0) f.child("baud").fail("must be positive");
  std::set<std::string> names;
  std::set<int> ids;
  for (const Field& jf : f.child("joints").items()) {
    JointConfig joint = parseJoint(jf);
    if (!names.insert(joint.name).second) jf.child("name").fail("duplicate joint name '" + joint.name + "'");
    if (arm.bus != "sim" && !ids.insert(joint.id).second)
      jf.child("id").fail("duplicate servo id " + std::to_string(joint.id));
    arm.joints.push_back(joint);
  }
  if (arm.joints.empty()) f.child("joints").fail("must list at least one joint");
  if (f.has("mount")) {
    Field m = f.child("mount");
    arm.mount = {m.numberOr("x", 0.0), m.numberOr("y", 0.0), m.numberOr("yaw_deg", 0.0)};
  }
  return arm;
}

CameraConfig parseCamera(const Field& f) {
  CameraConfig cam;
  cam.name = f.child("name").text();
  cam.source = f.child("source").text();
  const bool known = cam.source == "sim" || cam.source.starts_with("/dev/video") ||
                     cam.source.starts_with("file:") || cam.source.starts_with("gst:") ||
                     (!cam.source.empty() && std::all_of(cam.source.begin(), cam.source.end(), ::isdigit));
  if (!known)
    f.child("source").fail("unknown camera source '" + cam.source +
                           "' (use sim, /dev/videoN, a device index, file:PATH or gst:PIPELINE)");
  cam.fourcc = f.textOr("fourcc", "");
  if (!cam.fourcc.empty() && cam.fourcc.size() != 4)
    f.child("fourcc").fail("must be four characters, e.g. MJPG");
  cam.width = f.child("width").integer();
  cam.height = f.child("height").integer();
  if (cam.width < 16 || cam.width > 4096) f.child("width").fail("must be in 16..4096");
  if (cam.height < 16 || cam.height > 4096) f.child("height").fail("must be in 16..4096");
  cam.fps = f.child("fps").number();
  if (cam.fps <= 0.0 || cam.fps > 240.0) f.child("fps").fail("must be in (0, 240]");
  if (f.has("view")) {
    Field v = f.child("view");
    if (v.has("attach")) {
      cam.view.attachToArm = v.child("attach").text();
    } else {
      cam.view.position = v.child("position").vector<3>();
      cam.view.lookAt = v.child("look_at").vector<3>();
    }
    cam.view.fovDeg = v.numberOr("fov_deg", 60.0);
    if (cam.view.fovDeg < 10.0 || cam.view.fovDeg > 150.0) v.child("fov_deg").fail("must be in 10..150");
  } else if (cam.source == "sim") {
    f.child("view").fail("is required for a simulated camera");
  }
  return cam;
}

void checkRates(const Field& root, RigConfig& rig) {
  if (rig.controlRateHz < 1.0 || rig.controlRateHz > 2000.0)
    root.child("control_rate_hz").fail("must be in 1..2000");
  if (rig.recordRateHz <= 0.0 || rig.recordRateHz > rig.controlRateHz)
    root.child("record_rate_hz").fail("must be positive and at most control_rate_hz");
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

}  // namespace

bool RigConfig::isSimulated() const {
  for (const auto& arm : arms)
    if (arm.bus != "sim") return false;
  for (const auto& cam : cameras)
    if (cam.source != "sim") return false;
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
  YAML::Node document;
  try {
    document = YAML::Load(yamlText);
  } catch (const YAML::Exception& e) {
    throw ConfigError(displayName + ":" + std::to_string(e.mark.line + 1) + ": not valid YAML: " + e.msg);
  }
  Field root(document, "", displayName);
  if (!document.IsMap()) root.fail("the file must be a YAML mapping (name, arms, cameras, ...)");

  RigConfig rig;
  rig.name = root.child("name").text();
  rig.description = root.textOr("description", "");
  rig.controlRateHz = root.numberOr("control_rate_hz", 50.0);
  rig.recordRateHz = root.numberOr("record_rate_hz", rig.controlRateHz);
  checkRates(root, rig);

  std::set<std::string> armNames;
  for (const Field& af : root.child("arms").items()) {
    ArmConfig arm = parseArm(af);
    if (!armNames.insert(arm.name).second) af.child("name").fail("duplicate arm name '" + arm.name + "'");
    if (!rig.arms.empty() && (arm.bus == "sim") != (rig.arms.front().bus == "sim"))
      af.child("bus").fail("simulated and real arms cannot share a rig");
    rig.arms.push_back(arm);
  }
  if (rig.followers().empty()) root.child("arms").fail("needs at least one arm with role follower");

  if (root.has("pairs"))
    for (const Field& pf : root.child("pairs").items())
      rig.pairs.push_back({pf.child("leader").text(), pf.child("follower").text()});
  checkPairs(root, rig);

  std::set<std::string> cameraNames;
  if (root.has("cameras"))
    for (const Field& cf : root.child("cameras").items()) {
      CameraConfig cam = parseCamera(cf);
      if (!cameraNames.insert(cam.name).second)
        cf.child("name").fail("duplicate camera name '" + cam.name + "'");
      if (cam.source == "sim" && rig.arms.front().bus != "sim")
        cf.child("source").fail("a simulated camera needs simulated arms");
      if (!cam.view.attachToArm.empty() && !rig.findArm(cam.view.attachToArm))
        cf.child("view").child("attach").fail("no arm named '" + cam.view.attachToArm + "'");
      rig.cameras.push_back(cam);
    }

  if (root.has("safety")) {
    Field s = root.child("safety");
    rig.safety.maxJointSpeed = s.numberOr("max_joint_speed", rig.safety.maxJointSpeed);
    if (rig.safety.maxJointSpeed <= 0.0) s.child("max_joint_speed").fail("must be positive (rad/s)");
    std::string onStop = s.textOr("on_stop", "hold");
    if (onStop == "hold")
      rig.safety.onStop = StopBehaviour::Hold;
    else if (onStop == "limp")
      rig.safety.onStop = StopBehaviour::Limp;
    else
      s.child("on_stop").fail("must be 'hold' or 'limp', got '" + onStop + "'");
    if (s.has("max_failed_ticks")) rig.safety.maxFailedTicks = s.child("max_failed_ticks").integer();
    if (rig.safety.maxFailedTicks < 1) s.child("max_failed_ticks").fail("must be at least 1");
  }
  if (root.has("takeover")) {
    Field t = root.child("takeover");
    if (t.has("mirror_leaders")) rig.takeover.mirrorLeaders = t.child("mirror_leaders").boolean();
    rig.takeover.threshold = t.numberOr("threshold", rig.takeover.threshold);
    if (rig.takeover.threshold <= 0.0) t.child("threshold").fail("must be positive (rad)");
    if (t.has("confirm_ticks")) rig.takeover.confirmTicks = t.child("confirm_ticks").integer();
    if (rig.takeover.confirmTicks < 1) t.child("confirm_ticks").fail("must be at least 1");
    rig.takeover.handBackSeconds = t.numberOr("hand_back_seconds", rig.takeover.handBackSeconds);
    if (rig.takeover.handBackSeconds < 0.0) t.child("hand_back_seconds").fail("must not be negative");
    rig.takeover.leaderLagSeconds = t.numberOr("leader_lag_seconds", rig.takeover.leaderLagSeconds);
    if (rig.takeover.leaderLagSeconds < 0.0) t.child("leader_lag_seconds").fail("must not be negative");
  }
  if (root.has("sim")) {
    Field s = root.child("sim");
    if (s.has("seed")) rig.sim.seed = static_cast<unsigned>(s.child("seed").integer());
    if (s.has("bin_center")) rig.sim.binCenter = s.child("bin_center").vector<2>();
    if (s.has("cube_region")) {
      rig.sim.cubeRegion = s.child("cube_region").vector<4>();
      if (rig.sim.cubeRegion[0] >= rig.sim.cubeRegion[1] || rig.sim.cubeRegion[2] >= rig.sim.cubeRegion[3])
        s.child("cube_region").fail("must be [x_min, x_max, y_min, y_max] with min < max");
    }
  }
  rig.sourcePath = displayName;
  rig.sourceText = yamlText;
  return rig;
}

RigConfig loadRigConfig(const std::string& nameOrPath) {
  if (const std::string* bundled = findBundledRig(nameOrPath))
    return parseRigConfig(*bundled, nameOrPath + " (bundled)");
  namespace fs = std::filesystem;
  if (!fs::exists(nameOrPath))
    throw ConfigError(nameOrPath + ": no such rig file (bundled rigs: " + bundledRigNames() + ")");
  std::ifstream in(nameOrPath);
  if (!in) throw ConfigError(nameOrPath + ": cannot be read");
  std::stringstream text;
  text << in.rdbuf();
  return parseRigConfig(text.str(), nameOrPath);
}

}  // namespace flywheel
