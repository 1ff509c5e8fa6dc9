// Step-by-step calibration of one servo arm, the same procedure as `flywheel calibrate`: torque off, hold
// the middle pose, sweep every joint through its range while the extremes are shown live, save.
#pragma once

#include <QDialog>
#include <QLabel>
#include <QPushButton>
#include <QTableWidget>
#include <QTimer>
#include <memory>

#include "devices/servo/calibration.hpp"
#include "devices/servo/servo_arm.hpp"

namespace flywheel::gui {

class CalibrationDialog : public QDialog {
  Q_OBJECT
 public:
  CalibrationDialog(ServoArm& arm, const ArmConfig& config, std::string path, QWidget* parent = nullptr);

 private:
  void recordHome();
  void sample();
  void finish();

  ServoArm& arm_;
  const ArmConfig& config_;
  std::string path_;
  CalibrationRecorder recorder_;
  QLabel* step_ = nullptr;
  QTableWidget* table_ = nullptr;
  QPushButton* homeButton_ = nullptr;
  QPushButton* finishButton_ = nullptr;
  QTimer timer_;
};

}  // namespace flywheel::gui
