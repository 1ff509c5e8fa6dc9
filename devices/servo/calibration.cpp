#include "devices/servo/calibration.hpp"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <numbers>

#include "core/config.hpp"
#include "core/hardware.hpp"

namespace flywheel {

namespace fs = std::filesystem;

double ArmCalibration::toJoint(std::size_t j, int raw, bool gripper, int resolution) const {
  const JointCalibration& c = joints.at(j);
  if (gripper) {
    const double span = std::max(1, c.max - c.min);
    const double open = c.direction > 0 ? (raw - c.min) / span : (c.max - raw) / span;
    return std::clamp(open, 0.0, 1.0);
  }
  return c.direction * (raw - c.home) * 2.0 * std::numbers::pi / resolution;
}

int ArmCalibration::toRaw(std::size_t j, double value, bool gripper, int resolution) const {
  const JointCalibration& c = joints.at(j);
  double raw;
  if (gripper) {
    const double open = std::clamp(value, 0.0, 1.0) * (c.max - c.min);
    raw = c.direction > 0 ? c.min + open : c.max - open;
  } else {
    raw = c.home + c.direction * value * resolution / (2.0 * std::numbers::pi);
  }
  return std::clamp(static_cast<int>(std::lround(raw)), c.min, c.max);
}

std::string calibrationFolder() {
  if (const char* dir = std::getenv("FLYWHEEL_CONFIG_DIR"); dir && *dir)
    return (fs::path(dir) / "calibration").string();
  const char* home = std::getenv("HOME");
  return (fs::path(home && *home ? home : ".") / ".config/flywheel/calibration").string();
}

std::string calibrationPath(const std::string& adapter, const std::string& arm) {
  std::string key = adapter + "-" + arm;
  std::replace_if(
      key.begin(), key.end(),
      [](char c) { return !std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_'; }, '_');
  return (fs::path(calibrationFolder()) / (key + ".yaml")).string();
}

std::optional<ArmCalibration> loadCalibration(const std::string& path) {
  if (!fs::exists(path)) return std::nullopt;
  try {
    YAML::Node root = YAML::LoadFile(path);
    ArmCalibration c;
    c.arm = root["arm"].as<std::string>();
    c.adapter = root["adapter"].as<std::string>();
    c.model = root["model"].as<std::string>("");
    for (const auto& j : root["joints"])
      c.joints.push_back({j["name"].as<std::string>(), j["home"].as<int>(), j["min"].as<int>(),
                          j["max"].as<int>(), j["direction"].as<int>()});
    return c;
  } catch (const YAML::Exception& e) {
    throw ConfigError(path + ": damaged calibration file: " + e.what() + " (run flywheel calibrate again)");
  }
}

void saveCalibration(const ArmCalibration& c, const std::string& path, bool overwrite) {
  if (fs::exists(path)) {
    if (!overwrite)
      throw DeviceError(
          path + ": a calibration exists for this arm; pass --force to replace it (the old file is kept)");
    auto stamp =
        std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch())
            .count();
    fs::copy_file(path, path + ".bak-" + std::to_string(stamp), fs::copy_options::overwrite_existing);
  }
  fs::create_directories(fs::path(path).parent_path());
  YAML::Emitter out;
  out << YAML::BeginMap << YAML::Key << "arm" << YAML::Value << c.arm << YAML::Key << "adapter" << YAML::Value
      << c.adapter << YAML::Key << "model" << YAML::Value << c.model << YAML::Key << "joints" << YAML::Value
      << YAML::BeginSeq;
  for (const JointCalibration& j : c.joints)
    out << YAML::Flow << YAML::BeginMap << YAML::Key << "name" << YAML::Value << j.name << YAML::Key << "home"
        << YAML::Value << j.home << YAML::Key << "min" << YAML::Value << j.min << YAML::Key << "max"
        << YAML::Value << j.max << YAML::Key << "direction" << YAML::Value << j.direction << YAML::EndMap;
  out << YAML::EndSeq << YAML::EndMap;
  const std::string temporary = path + ".tmp";
  {
    std::ofstream file(temporary);
    file << out.c_str() << "\n";
    if (!file) throw DeviceError(temporary + ": cannot write the calibration");
  }
  fs::rename(temporary, path);  // never a half-written calibration
}

CalibrationRecorder::CalibrationRecorder(std::vector<std::string> jointNames, std::vector<int> ids,
                                         std::vector<int> directions)
    : names_(std::move(jointNames)), ids_(std::move(ids)), directions_(std::move(directions)) {}

CalibrationRecorder::CalibrationRecorder(const ArmConfig& arm) {
  for (const JointConfig& joint : arm.joints) {
    names_.push_back(joint.name);
    ids_.push_back(joint.id);
    directions_.push_back(static_cast<int>(joint.direction));
  }
}

void CalibrationRecorder::setHome(const std::vector<int>& raw) {
  home_ = raw;
  min_ = raw;
  max_ = raw;
}

void CalibrationRecorder::observe(const std::vector<int>& raw) {
  for (std::size_t j = 0; j < raw.size() && j < min_.size(); ++j) {
    min_[j] = std::min(min_[j], raw[j]);
    max_[j] = std::max(max_[j], raw[j]);
  }
}

std::vector<JointCalibration> CalibrationRecorder::finish(int minimumTravel) const {
  if (home_.empty()) throw DeviceError("calibration: no home pose was recorded");
  std::vector<JointCalibration> joints;
  for (std::size_t j = 0; j < names_.size(); ++j) {
    if (max_[j] - min_[j] < minimumTravel)
      throw DeviceError("calibration: joint '" + names_[j] + "' (servo " + std::to_string(ids_[j]) +
                        ") moved only " + std::to_string(max_[j] - min_[j]) +
                        " ticks; move it through its whole range");
    joints.push_back({names_[j], home_[j], min_[j], max_[j], directions_.at(j)});
  }
  return joints;
}

}  // namespace flywheel
