#include "app/gui/record_view.hpp"

#include <QDateTime>
#include <QFileInfo>
#include <QFormLayout>
#include <QGridLayout>
#include <QGroupBox>
#include <QHBoxLayout>
#include <QShortcut>
#include <QVBoxLayout>
#include <cmath>

#include "app/gui/camera_tile.hpp"
#include "app/gui/joint_panel.hpp"
#include "app/gui/view_parts.hpp"

namespace flywheel::gui {

namespace {
double nowSeconds() {
  return static_cast<double>(QDateTime::currentMSecsSinceEpoch()) / 1000.0;
}

}  // namespace

RecordView::RecordView(Studio& studio, const DatasetFolder& dataset, QWidget* parent)
    : QWidget(parent), studio_(studio), dataset_(dataset), nextSeed_(studio.config().sim.seed) {
  buildUi();
  updateControls();
}

void RecordView::buildUi() {
  auto* layout = new QHBoxLayout(this);
  tiles_ = addCameraGrid(layout, studio_.rig().cameras(), 3, this);

  auto* side = new QVBoxLayout();
  indicator_ = new QLabel(this);
  indicator_->setAlignment(Qt::AlignCenter);
  indicator_->setMinimumHeight(44);
  side->addWidget(indicator_);

  auto* recordBox = new QGroupBox("Record", this);
  auto* form = new QFormLayout(recordBox);
  taskEdit_ = new QLineEdit("pick up the cube and place it in the bin", recordBox);
  taskEdit_->setCursorPosition(0);
  secondsBox_ = new QSpinBox(recordBox);
  secondsBox_->setRange(1, 3600);
  secondsBox_->setValue(10);
  secondsBox_->setSuffix(" s");
  episodesBox_ = new QSpinBox(recordBox);
  episodesBox_->setRange(1, 1000);
  episodesBox_->setValue(1);
  resetBox_ = new QSpinBox(recordBox);
  resetBox_->setRange(0, 600);
  resetBox_->setValue(studio_.config().isSimulated() ? 2 : 5);
  resetBox_->setSuffix(" s");
  auto* folder = new QLabel(QString::fromStdString(dataset_.path()), recordBox);
  folder->setWordWrap(true);
  folder->setTextInteractionFlags(Qt::TextSelectableByMouse);
  form->addRow("Task", taskEdit_);
  form->addRow("Episode length", secondsBox_);
  form->addRow("Episodes", episodesBox_);
  form->addRow("Reset time", resetBox_);
  form->addRow("Dataset", folder);

  auto* buttons = new QGridLayout();
  startButton_ = keyButton("Record", "R", recordBox);
  startButton_->setObjectName("recordButton");
  saveButton_ = keyButton("Save", "S", recordBox);
  rerecordButton_ = keyButton("Re-record", "←", recordBox);
  discardButton_ = keyButton("Discard", "D", recordBox);
  buttons->addWidget(startButton_, 0, 0);
  buttons->addWidget(saveButton_, 0, 1);
  buttons->addWidget(rerecordButton_, 1, 0);
  buttons->addWidget(discardButton_, 1, 1);
  form->addRow(buttons);
  progress_ = new QLabel(recordBox);
  countdown_ = new QLabel(recordBox);
  countdown_->setStyleSheet("font-size: 18px; font-weight: bold; color: #d08a00");
  form->addRow(progress_);
  form->addRow(countdown_);
  auto* keys = new QLabel(
      "Keys: R record · S save (→ also saves) · ← re-record · D discard · Esc stop the series", recordBox);
  keys->setWordWrap(true);
  keys->setStyleSheet("color: palette(mid)");
  form->addRow(keys);
  side->addWidget(recordBox);

  joints_ = new JointPanel(studio_.config(), this);
  side->addWidget(joints_, 1);
  layout->addLayout(side, 1);

  connect(startButton_, &QPushButton::clicked, this, &RecordView::start);
  connect(saveButton_, &QPushButton::clicked, this, &RecordView::save);
  connect(rerecordButton_, &QPushButton::clicked, this, &RecordView::rerecord);
  connect(discardButton_, &QPushButton::clicked, this, &RecordView::discard);
  addViewShortcut(this, QKeySequence(Qt::Key_R), [this] {
    if (startButton_->isEnabled()) start();
  });
  addViewShortcut(this, QKeySequence(Qt::Key_S), [this] {
    if (saveButton_->isEnabled()) save();
  });
  addViewShortcut(this, QKeySequence(Qt::Key_Right), [this] {
    if (saveButton_->isEnabled()) save();
  });
  addViewShortcut(this, QKeySequence(Qt::Key_Left), [this] {
    if (rerecordButton_->isEnabled()) rerecord();
  });
  addViewShortcut(this, QKeySequence(Qt::Key_D), [this] {
    if (discardButton_->isEnabled()) discard();
  });
  addViewShortcut(this, QKeySequence(Qt::Key_Escape), [this] { stopSeries(); });
}

bool RecordView::takeInProgress() const {
  return phase_ == Phase::Recording;
}

void RecordView::start() {
  seriesLength_ = episodesBox_->value();
  takeNumber_ = 1;
  beginTake();
}

void RecordView::beginTake() {
  TakeOptions take;
  take.task = taskEdit_->text().toStdString();
  take.seed = nextSeed_++;
  take.maxTicks =
      static_cast<std::uint64_t>(std::llround(secondsBox_->value() * studio_.config().recordRateHz));
  try {
    std::string path = studio_.beginTake(dataset_, take);
    phase_ = Phase::Recording;
    Q_EMIT message(QString("Recording %1").arg(QFileInfo(QString::fromStdString(path)).fileName()));
  } catch (const std::exception& e) {
    phase_ = Phase::Idle;
    Q_EMIT failed(QString("Cannot record: %1").arg(e.what()));
  }
  updateControls();
}

void RecordView::finishTake() {
  try {
    EpisodeResult result = studio_.endTake();
    lastSaved_ = QString::fromStdString(result.path);
    const std::optional<bool>& success = result.success;  // the outcome stored in the file
    QString outcome = success ? (*success ? ", success" : ", failure") : QString();
    Q_EMIT message(QString("Saved %1: %2 ticks, %3 s%4, %5 dropped")
                       .arg(QFileInfo(lastSaved_).fileName())
                       .arg(result.stats.written)
                       .arg(result.seconds, 0, 'f', 1)
                       .arg(outcome)
                       .arg(result.stats.dropped));
    if (!result.complete) {  // a bus or camera error cut it short: the series stops here
      phase_ = Phase::Idle;
      Q_EMIT failed(QString("Take cut short, saved as incomplete: %1").arg(result.stopReason.c_str()));
      updateControls();
      return;
    }
  } catch (const std::exception& e) {
    phase_ = Phase::Idle;
    Q_EMIT failed(QString("Recording stopped: %1 (what was written is kept)").arg(e.what()));
    updateControls();
    return;
  }
  if (takeNumber_ < seriesLength_) {
    ++takeNumber_;
    phase_ = Phase::Resetting;
    resetEndsAt_ = nowSeconds() + resetBox_->value();
  } else {
    phase_ = Phase::Idle;
  }
  updateControls();
}

void RecordView::save() {
  if (phase_ == Phase::Recording)
    finishTake();
  else if (phase_ == Phase::Resetting)
    resetEndsAt_ = 0.0;  // skip the rest of the reset
}

void RecordView::rerecord() {
  if (phase_ != Phase::Recording) return;
  std::string path = studio_.discardTake();
  Q_EMIT message(
      QString("Discarded %1: recording it again").arg(QFileInfo(QString::fromStdString(path)).fileName()));
  phase_ = Phase::Resetting;
  resetEndsAt_ = nowSeconds() + resetBox_->value();
  updateControls();
}

void RecordView::discard() {
  if (phase_ != Phase::Recording) return;
  std::string path = studio_.discardTake();
  Q_EMIT message(QString("Discarded %1").arg(QFileInfo(QString::fromStdString(path)).fileName()));
  phase_ = Phase::Idle;
  updateControls();
}

void RecordView::stopSeries() {
  if (phase_ == Phase::Recording) {
    seriesLength_ = takeNumber_;  // the current take is the last: saved
    finishTake();
  }
  phase_ = Phase::Idle;
  updateControls();
}

void RecordView::closeTake(bool save) {
  if (phase_ != Phase::Recording) return;
  seriesLength_ = takeNumber_;
  if (save)
    finishTake();
  else
    discard();
}

void RecordView::updateControls() {
  const bool idle = phase_ == Phase::Idle, recording = phase_ == Phase::Recording;
  startButton_->setEnabled(idle);
  saveButton_->setEnabled(!idle);
  rerecordButton_->setEnabled(recording);
  discardButton_->setEnabled(recording);
  for (QWidget* w : std::initializer_list<QWidget*>{taskEdit_, secondsBox_, episodesBox_, resetBox_})
    w->setEnabled(idle);
  if (phase_ != Phase::Resetting) countdown_->clear();
}

void RecordView::updateIndicator() {
  const LoopStatus status = studio_.loop().status();
  QString text, colour;
  if (!status.error.empty()) {
    text = "STOPPED: followers " +
           QString(studio_.config().safety.onStop == StopBehaviour::Limp ? "released" : "holding");
    colour = "#b3261e";
  } else if (status.mode == ControlMode::Teleop || status.mode == ControlMode::Intervention) {
    text = "LEADER ▶ FOLLOWER   the operator moves the robot";
    colour = "#1f6f43";
  } else if (status.mode == ControlMode::Policy) {
    text = "POLICY ▶ FOLLOWER";
    colour = "#3557a8";
  } else {
    text = "IDLE   followers hold";
    colour = "#555";
  }
  indicator_->setText(text);
  indicator_->setStyleSheet(
      QString("background: %1; color: white; font-weight: bold; border-radius: 6px; padding: 6px")
          .arg(colour));
}

void RecordView::refresh() {
  for (CameraTile* tile : tiles_)
    tile->refresh();
  joints_->show(studio_.loop().status());
  updateIndicator();
  const double now = nowSeconds();
  if (phase_ == Phase::Recording) {
    if (std::string failure = studio_.recorder().failure();
        !failure.empty() || studio_.recorder().reachedLength()) {
      finishTake();
    } else {
      progress_->setText(
          QString("Episode %1 of %2 · %3 s of %4 s")
              .arg(takeNumber_)
              .arg(seriesLength_)
              .arg(studio_.recorder().ticksRecorded() / studio_.config().recordRateHz, 0, 'f', 1)
              .arg(secondsBox_->value()));
    }
  } else if (phase_ == Phase::Resetting) {
    const double left = resetEndsAt_ - now;
    if (left <= 0.0)
      beginTake();
    else {
      countdown_->setText(QString("Reset the scene: next take in %1 s").arg(std::ceil(left)));
      progress_->setText(QString("Episode %1 of %2 next").arg(takeNumber_).arg(seriesLength_));
    }
  } else {
    progress_->setText(lastSaved_.isEmpty()
                           ? QString("Not recording.")
                           : QString("Last saved: %1").arg(QFileInfo(lastSaved_).fileName()));
  }
}

}  // namespace flywheel::gui
