// Teleoperate and record: live cameras, leader against follower per joint, what moves the robot, and the
// take workflow (start, save, re-record, discard, a reset countdown between takes) with LeRobot-style keys.
#pragma once

#include <QLabel>
#include <QLineEdit>
#include <QPushButton>
#include <QSpinBox>
#include <QWidget>

#include "app/studio.hpp"
#include "recorder/dataset_folder.hpp"

namespace flywheel::gui {

class CameraTile;
class JointPanel;

class RecordView : public QWidget {
  Q_OBJECT
 public:
  RecordView(Studio& studio, const DatasetFolder& dataset, QWidget* parent = nullptr);

  void refresh();  // at screen rate, from the window's timer
  bool takeInProgress() const;
  // The window is closing mid-take: save it (true) or throw it away (false).
  void closeTake(bool save);

  QPushButton* recordButton() const { return startButton_; }
  QPushButton* stopButton() const { return saveButton_; }
  QPushButton* rerecordButton() const { return rerecordButton_; }
  QPushButton* discardButton() const { return discardButton_; }
  QSpinBox* secondsBox() const { return secondsBox_; }
  QSpinBox* episodesBox() const { return episodesBox_; }
  QSpinBox* resetBox() const { return resetBox_; }
  QLineEdit* taskEdit() const { return taskEdit_; }
  QString lastSavedEpisode() const { return lastSaved_; }
  const std::vector<CameraTile*>& cameraTiles() const { return tiles_; }

 Q_SIGNALS:
  void message(const QString& text);  // for the status bar
  void failed(const QString& text);   // a take could not be recorded

 private:
  enum class Phase { Idle, Recording, Resetting };
  void buildUi();
  void start();
  void save();
  void rerecord();
  void discard();
  void stopSeries();
  void beginTake();
  void finishTake();
  void updateControls();
  void updateIndicator();

  Studio& studio_;
  const DatasetFolder& dataset_;
  Phase phase_ = Phase::Idle;
  int takeNumber_ = 0;  // 1-based within the series
  int seriesLength_ = 0;
  unsigned nextSeed_;
  double resetEndsAt_ = 0.0;
  QString lastSaved_;

  std::vector<CameraTile*> tiles_;
  JointPanel* joints_ = nullptr;
  QLabel* indicator_ = nullptr;
  QLabel* progress_ = nullptr;
  QLabel* countdown_ = nullptr;
  QLineEdit* taskEdit_ = nullptr;
  QSpinBox* secondsBox_ = nullptr;
  QSpinBox* episodesBox_ = nullptr;
  QSpinBox* resetBox_ = nullptr;
  QPushButton* startButton_ = nullptr;
  QPushButton* saveButton_ = nullptr;
  QPushButton* rerecordButton_ = nullptr;
  QPushButton* discardButton_ = nullptr;
};

}  // namespace flywheel::gui
