// The studio window: live cameras, joints, and recording controls over a Studio (rig + loop + recorder).
#pragma once

#include <QLabel>
#include <QLineEdit>
#include <QMainWindow>
#include <QPushButton>
#include <QSpinBox>
#include <QTimer>
#include <memory>

#include "app/commands.hpp"
#include "app/studio.hpp"
#include "recorder/dataset_folder.hpp"

namespace flywheel::gui {

class CameraTile;
class JointPanel;

class MainWindow : public QMainWindow {
  Q_OBJECT
 public:
  MainWindow(RigConfig config, const QString& datasetFolder, QWidget* parent = nullptr);
  ~MainWindow() override;

  // For tests and scripts.
  QPushButton* recordButton() const { return recordButton_; }
  QPushButton* stopButton() const { return stopButton_; }
  QSpinBox* secondsBox() const { return secondsBox_; }
  QSpinBox* episodesBox() const { return episodesBox_; }
  QLineEdit* taskEdit() const { return taskEdit_; }
  QString lastSavedEpisode() const { return lastSaved_; }
  const std::vector<CameraTile*>& cameraTiles() const { return tiles_; }

 protected:
  void closeEvent(QCloseEvent* event) override;

 private:
  void buildUi();
  void startRecording();
  void stopRecording();
  void finishTake();
  void refresh();
  void setRecordingUi(bool recording);

  std::unique_ptr<Studio> studio_;
  DatasetFolder dataset_;
  QTimer refreshTimer_;
  std::vector<CameraTile*> tiles_;
  JointPanel* joints_ = nullptr;
  QLineEdit* taskEdit_ = nullptr;
  QSpinBox* secondsBox_ = nullptr;
  QSpinBox* episodesBox_ = nullptr;
  QPushButton* recordButton_ = nullptr;
  QPushButton* stopButton_ = nullptr;
  QLabel* takeLabel_ = nullptr;
  QLabel* loopLabel_ = nullptr;
  QLabel* diskLabel_ = nullptr;
  QString lastSaved_;
  int takesLeft_ = 0;
  int takeNumber_ = 0;
  unsigned nextSeed_ = 1;
};

}  // namespace flywheel::gui
