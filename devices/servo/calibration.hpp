// Calibration maps a servo's raw ticks to the studio's joint units: radians about a home position, with a
// direction, and a range the goal is clamped to; grippers are normalised over their range (0 closed, 1 open).
// Stored per arm in a YAML file keyed by the USB adapter's serial number.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "core/config.hpp"

namespace flywheel {

struct JointCalibration {
  std::string name;
  int home = 2048;  // raw ticks at the joint's zero (the middle of its range)
  int min = 0;      // raw range the goal may use
  int max = 4095;
  int direction = 1;
};

struct ArmCalibration {
  std::string arm;
  std::string adapter;  // serial number of the USB adapter, or the port name
  std::string model;
  std::vector<JointCalibration> joints;

  // joint units <-> raw ticks
  double toJoint(std::size_t j, int raw, bool gripper, int resolution) const;
  int toRaw(std::size_t j, double value, bool gripper, int resolution) const;  // clamped to the range
};

// ~/.config/flywheel/calibration (or $FLYWHEEL_CONFIG_DIR/calibration)
std::string calibrationFolder();
std::string calibrationPath(const std::string& adapter, const std::string& arm);
std::optional<ArmCalibration> loadCalibration(const std::string& path);  // throws ConfigError when damaged
// Refuses to replace an existing file unless `overwrite`; then the old one is kept as <file>.bak-<time>.
void saveCalibration(const ArmCalibration& calibration, const std::string& path, bool overwrite);

// Collects a calibration from raw positions: the pose held as home, then the extremes seen while the
// operator moves each joint through its range.
class CalibrationRecorder {
 public:
  CalibrationRecorder(std::vector<std::string> jointNames, std::vector<int> ids, std::vector<int> directions);
  explicit CalibrationRecorder(const ArmConfig& arm);  // the arm's joint names, servo ids and directions
  void setHome(const std::vector<int>& raw);
  void observe(const std::vector<int>& raw);
  bool hasHome() const { return !home_.empty(); }
  const std::vector<int>& lowest() const { return min_; }  // raw extremes seen since the home pose
  const std::vector<int>& highest() const { return max_; }
  // Throws with the joint's name and id when a joint barely moved.
  std::vector<JointCalibration> finish(int minimumTravel = 200) const;

 private:
  std::vector<std::string> names_;
  std::vector<int> ids_, directions_;
  std::vector<int> home_, min_, max_;
};

}  // namespace flywheel
