// Train… from Review & Label: the output file (by default <dataset>/models/policy-<date>.pt), how long
// (epochs or minutes) and, under Advanced, the horizon, cameras, image size and seed, defaulting as
// `flywheel train` does. Training runs on a worker thread (TrainJob): a bar for the epoch and one for the
// whole run, the loss curve, a line per epoch and the skipped episodes with why. Cancel keeps the best
// model so far. At the end the dialog says where the model is and its held-out loss, and "Use in Run
// Policy" hands the file on (usePolicy).
#pragma once

#include <QComboBox>
#include <QDialog>
#include <QElapsedTimer>
#include <QLabel>
#include <QLineEdit>
#include <QPlainTextEdit>
#include <QProgressBar>
#include <QPushButton>
#include <QSpinBox>
#include <QStringList>
#include <QToolButton>
#include <memory>

#include "training/trainer.hpp"

namespace flywheel::gui {

class LossCurve;
class TrainJob;
struct TrainData;

class TrainDialog : public QDialog {
  Q_OBJECT
 public:
  // episodes: the episode files to train on; dataset: the folder the default output goes under.
  TrainDialog(const QStringList& episodes, const QString& dataset, QWidget* parent = nullptr);
  ~TrainDialog() override;

  static QString defaultOutput(const QString& dataset);  // <dataset>/models/policy-<yyyy-MM-dd-HHmm>.pt

  void start();
  void cancel();
  bool running() const;
  QString modelPath() const { return modelPath_; }  // set once a model was saved

  QLineEdit* outputEdit() const { return output_; }
  QSpinBox* lengthBox() const { return length_; }
  QComboBox* unitBox() const { return unit_; }  // "epochs" or "minutes"
  QSpinBox* horizonBox() const { return horizon_; }
  QLineEdit* camerasEdit() const { return cameras_; }
  QSpinBox* imageHeightBox() const { return imageHeight_; }
  QSpinBox* imageWidthBox() const { return imageWidth_; }
  QSpinBox* seedBox() const { return seed_; }
  QToolButton* advancedButton() const { return advancedButton_; }
  QPushButton* startButton() const { return startButton_; }
  QPushButton* cancelButton() const { return cancelButton_; }
  QPushButton* useButton() const { return useButton_; }
  QProgressBar* epochBar() const { return epochBar_; }
  QProgressBar* overallBar() const { return overallBar_; }
  LossCurve* lossCurve() const { return curve_; }
  QPlainTextEdit* log() const { return log_; }
  QLabel* resultLabel() const { return result_; }

 Q_SIGNALS:
  void usePolicy(const QString& path);

 public Q_SLOTS:
  void reject() override;  // Esc or the window's close while training: cancels, and stays to report

 private:
  void buildUi();
  QWidget* buildSettings();
  QWidget* buildAdvanced();
  void browse();
  void setRunning(bool on);
  void onData(const TrainData& data);
  void onProgress(const TrainProgress& progress);
  void onFinished(const TrainResult& result);
  void onFailed(const QString& message);

  QStringList episodes_;
  QString dataset_;
  QString modelPath_;
  std::unique_ptr<TrainJob> job_;
  QElapsedTimer clock_;

  QLabel* summary_ = nullptr;
  QWidget* settings_ = nullptr;
  QLineEdit* output_ = nullptr;
  QSpinBox* length_ = nullptr;
  QComboBox* unit_ = nullptr;
  QToolButton* advancedButton_ = nullptr;
  QWidget* advanced_ = nullptr;
  QSpinBox* horizon_ = nullptr;
  QLineEdit* cameras_ = nullptr;
  QSpinBox* imageHeight_ = nullptr;
  QSpinBox* imageWidth_ = nullptr;
  QSpinBox* seed_ = nullptr;
  QLabel* epochLabel_ = nullptr;
  QProgressBar* epochBar_ = nullptr;
  QProgressBar* overallBar_ = nullptr;
  LossCurve* curve_ = nullptr;
  QPlainTextEdit* log_ = nullptr;
  QLabel* result_ = nullptr;
  QPushButton* startButton_ = nullptr;
  QPushButton* cancelButton_ = nullptr;
  QPushButton* useButton_ = nullptr;
  QPushButton* closeButton_ = nullptr;
};

}  // namespace flywheel::gui
