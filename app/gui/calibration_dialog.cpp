#include "app/gui/calibration_dialog.hpp"

#include <QFile>
#include <QHeaderView>
#include <QMessageBox>
#include <QVBoxLayout>

namespace flywheel::gui {

CalibrationDialog::CalibrationDialog(ServoArm& arm, const ArmConfig& config, std::string path,
                                     QWidget* parent)
    : QDialog(parent), arm_(arm), config_(config), path_(std::move(path)), recorder_(config) {
  setWindowTitle(QString("Calibrate %1").arg(QString::fromStdString(config.name)));
  auto* layout = new QVBoxLayout(this);
  step_ = new QLabel(this);
  step_->setWordWrap(true);
  layout->addWidget(step_);
  table_ = new QTableWidget(static_cast<int>(config.joints.size()), 4, this);
  table_->setHorizontalHeaderLabels({"Joint", "Now", "Lowest", "Highest"});
  table_->horizontalHeader()->setStretchLastSection(true);
  for (int j = 0; j < table_->rowCount(); ++j)
    table_->setItem(j, 0,
                    new QTableWidgetItem(QString("%1 (servo %2)")
                                             .arg(QString::fromStdString(config.joints[j].name))
                                             .arg(config.joints[j].id)));
  layout->addWidget(table_);
  homeButton_ = new QPushButton("1. Record the middle pose", this);
  finishButton_ = new QPushButton("2. Finish and save", this);
  finishButton_->setEnabled(false);
  layout->addWidget(homeButton_);
  layout->addWidget(finishButton_);
  connect(homeButton_, &QPushButton::clicked, this, &CalibrationDialog::recordHome);
  connect(finishButton_, &QPushButton::clicked, this, &CalibrationDialog::finish);
  connect(&timer_, &QTimer::timeout, this, &CalibrationDialog::sample);

  try {
    arm_.connect();
    arm_.setTorque(false);
    step_->setText(
        "Torque is off: move the arm by hand.\n1. Put every joint in the middle of its range (gripper "
        "closed), then record the middle pose.");
    timer_.start(50);
  } catch (const std::exception& e) {
    step_->setText(QString("Cannot reach the arm: %1").arg(e.what()));
    homeButton_->setEnabled(false);
  }
}

void CalibrationDialog::recordHome() {
  try {
    std::vector<int> raw = arm_.readRawPositions();
    recorder_.setHome(raw);
    homeButton_->setEnabled(false);
    finishButton_->setEnabled(true);
    step_->setText(
        "2. Move every joint through its whole range, the gripper fully open and closed. The lowest "
        "and highest positions fill in as you go.");
  } catch (const std::exception& e) {
    step_->setText(QString("Reading the arm failed: %1").arg(e.what()));
  }
}

void CalibrationDialog::sample() {
  try {
    std::vector<int> raw = arm_.readRawPositions();
    if (recorder_.hasHome()) recorder_.observe(raw);
    for (std::size_t j = 0; j < raw.size(); ++j) {
      if (recorder_.hasHome()) {
        table_->setItem(static_cast<int>(j), 2, new QTableWidgetItem(QString::number(recorder_.lowest()[j])));
        table_->setItem(static_cast<int>(j), 3,
                        new QTableWidgetItem(QString::number(recorder_.highest()[j])));
      }
      table_->setItem(static_cast<int>(j), 1, new QTableWidgetItem(QString::number(raw[j])));
    }
  } catch (const std::exception& e) {
    step_->setText(QString("Reading the arm failed: %1").arg(e.what()));
  }
}

void CalibrationDialog::finish() {
  try {
    ArmCalibration calibration{config_.name, "", arm_.model().name, recorder_.finish()};
    const bool exists = QFile::exists(QString::fromStdString(path_));
    if (exists &&
        QMessageBox::question(this, "Replace calibration?",
                              QString("%1 already holds a calibration. Replace it? The old one is kept as a "
                                      ".bak copy.")
                                  .arg(QString::fromStdString(path_))) != QMessageBox::Yes)
      return;
    saveCalibration(calibration, path_, exists);
    timer_.stop();
    QMessageBox::information(this, "Calibrated", QString("Saved %1").arg(QString::fromStdString(path_)));
    accept();
  } catch (const std::exception& e) {
    step_->setText(QString("Not saved: %1").arg(e.what()));
  }
}

}  // namespace flywheel::gui
