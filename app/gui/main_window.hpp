// The studio window: Setup, Teleoperate & Record, Run Policy and Review & Label views over one Studio
// (rig + loop + recorder),
// a red banner for whatever stopped, and a status bar with the loop, cameras, buses and disk.
#pragma once

#include <QLabel>
#include <QLineEdit>
#include <QMainWindow>
#include <QPushButton>
#include <QSpinBox>
#include <QTabWidget>
#include <QTimer>
#include <memory>

#include "app/gui/run_gui.hpp"
#include "app/studio.hpp"
#include "recorder/dataset_folder.hpp"

namespace flywheel::gui {

class CameraTile;
class RecordView;
class ReviewView;
class RunView;
class SetupView;

class MainWindow : public QMainWindow {
  Q_OBJECT
 public:
  MainWindow(RigConfig config, const QString& datasetFolder, QWidget* parent = nullptr);
  ~MainWindow() override;

  // For tests and scripts.
  QTabWidget* tabs() const { return tabs_; }
  RecordView* recordView() const { return record_; }
  SetupView* setupView() const { return setup_; }
  ReviewView* reviewView() const { return review_; }
  RunView* runView() const { return run_; }
  QLabel* errorBanner() const { return banner_; }
  Studio* studio() const { return studio_.get(); }
  QPushButton* recordButton() const;
  QPushButton* stopButton() const;
  QSpinBox* secondsBox() const;
  QSpinBox* episodesBox() const;
  QLineEdit* taskEdit() const;
  QString lastSavedEpisode() const;
  const std::vector<CameraTile*>& cameraTiles() const;

 protected:
  void closeEvent(QCloseEvent* event) override;

 private:
  void useRig(RigConfig config);
  void applyRig(const QString& text, const QString& displayName);
  void calibrate(const QString& arm);
  void refresh();
  void refreshStatusBar();
  void showError(const QString& text);

  std::unique_ptr<Studio> studio_;
  DatasetFolder dataset_;
  QTimer refreshTimer_;
  QTabWidget* tabs_ = nullptr;
  SetupView* setup_ = nullptr;
  RecordView* record_ = nullptr;
  RunView* run_ = nullptr;
  ReviewView* review_ = nullptr;  // lives across rig changes: it only needs the dataset
  QLabel* banner_ = nullptr;
  QLabel* loopLabel_ = nullptr;
  QLabel* camerasLabel_ = nullptr;
  QLabel* busLabel_ = nullptr;
  QLabel* diskLabel_ = nullptr;
  QString startupError_;
  int refreshCount_ = 0;
};

}  // namespace flywheel::gui
