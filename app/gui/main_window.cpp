#include "app/gui/main_window.hpp"

#include <QApplication>
#include <QCloseEvent>
#include <QFileInfo>
#include <QFormLayout>
#include <QGridLayout>
#include <QGroupBox>
#include <QHBoxLayout>
#include <QMessageBox>
#include <QShortcut>
#include <QStatusBar>
#include <QStorageInfo>
#include <QVBoxLayout>
#include <cmath>

#include "app/commands.hpp"
#include "app/gui/camera_tile.hpp"
#include "app/gui/joint_panel.hpp"

namespace flywheel::gui {

MainWindow::MainWindow(RigConfig config, const QString& datasetFolder, QWidget* parent)
    : QMainWindow(parent),
      studio_(std::make_unique<Studio>(std::move(config))),
      dataset_(datasetFolder.toStdString()),
      nextSeed_(studio_->config().sim.seed) {
  buildUi();
  studio_->start(ControlMode::Teleop);
  connect(&refreshTimer_, &QTimer::timeout, this, &MainWindow::refresh);
  refreshTimer_.start(33);  // screen rate; cameras and loop run on their own threads
}

MainWindow::~MainWindow() {
  refreshTimer_.stop();
  studio_->stop();
}

void MainWindow::buildUi() {
  const RigConfig& rig = studio_->config();
  setWindowTitle(QString("Flywheel Studio — %1").arg(QString::fromStdString(rig.name)));

  auto* central = new QWidget(this);
  auto* layout = new QHBoxLayout(central);

  auto* cameraGrid = new QGridLayout();
  const auto cameras = studio_->rig().cameras();
  const int columns = cameras.size() > 2 ? 2 : static_cast<int>(cameras.size());
  for (std::size_t i = 0; i < cameras.size(); ++i) {
    auto* tile = new CameraTile(*cameras[i], central);
    tiles_.push_back(tile);
    cameraGrid->addWidget(tile, static_cast<int>(i) / std::max(columns, 1),
                          static_cast<int>(i) % std::max(columns, 1));
  }
  layout->addLayout(cameraGrid, 3);

  auto* side = new QVBoxLayout();
  auto* recordBox = new QGroupBox("Record", central);
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
  auto* folder = new QLabel(QString::fromStdString(dataset_.path()), recordBox);
  folder->setWordWrap(true);
  folder->setTextInteractionFlags(Qt::TextSelectableByMouse);
  form->addRow("Task", taskEdit_);
  form->addRow("Episode length", secondsBox_);
  form->addRow("Episodes", episodesBox_);
  form->addRow("Dataset", folder);
  auto* buttons = new QHBoxLayout();
  recordButton_ = new QPushButton("Record  (R)", recordBox);
  recordButton_->setObjectName("recordButton");
  stopButton_ = new QPushButton("Stop && save  (S)", recordBox);
  stopButton_->setEnabled(false);
  buttons->addWidget(recordButton_);
  buttons->addWidget(stopButton_);
  form->addRow(buttons);
  takeLabel_ = new QLabel("Teleoperating: the follower tracks the leader. Not recording.", recordBox);
  takeLabel_->setWordWrap(true);
  form->addRow(takeLabel_);
  side->addWidget(recordBox);

  joints_ = new JointPanel(rig, central);
  side->addWidget(joints_, 1);
  layout->addLayout(side, 1);
  setCentralWidget(central);

  loopLabel_ = new QLabel(this);
  diskLabel_ = new QLabel(this);
  statusBar()->addWidget(loopLabel_, 1);
  statusBar()->addPermanentWidget(diskLabel_);

  connect(recordButton_, &QPushButton::clicked, this, &MainWindow::startRecording);
  connect(stopButton_, &QPushButton::clicked, this, &MainWindow::stopRecording);
  new QShortcut(QKeySequence(Qt::Key_R), this, [this] {
    if (recordButton_->isEnabled()) startRecording();
  });
  new QShortcut(QKeySequence(Qt::Key_S), this, [this] {
    if (stopButton_->isEnabled()) stopRecording();
  });
  resize(1280, 800);
}

void MainWindow::setRecordingUi(bool recording) {
  recordButton_->setEnabled(!recording);
  stopButton_->setEnabled(recording);
  taskEdit_->setEnabled(!recording);
  secondsBox_->setEnabled(!recording);
  episodesBox_->setEnabled(!recording);
}

void MainWindow::startRecording() {
  if (takesLeft_ == 0) {
    takesLeft_ = episodesBox_->value();
    takeNumber_ = 0;
  }
  const auto ticks =
      static_cast<std::uint64_t>(std::llround(secondsBox_->value() * studio_->config().recordRateHz));
  try {
    TakeOptions take;
    take.task = taskEdit_->text().toStdString();
    take.seed = nextSeed_++;
    take.maxTicks = ticks;
    std::string path = studio_->beginTake(dataset_, take);
    ++takeNumber_;
    setRecordingUi(true);
    takeLabel_->setText(QString("Recording %1 (%2 of %3)")
                            .arg(QFileInfo(QString::fromStdString(path)).fileName())
                            .arg(takeNumber_)
                            .arg(takeNumber_ + takesLeft_ - 1));
  } catch (const std::exception& e) {
    takesLeft_ = 0;
    QMessageBox::critical(this, "Cannot record", e.what());
  }
}

void MainWindow::stopRecording() {
  takesLeft_ = 1;  // the current take is the last one
  finishTake();
}

void MainWindow::finishTake() {
  try {
    EpisodeResult result = studio_->endTake();
    lastSaved_ = QString::fromStdString(result.path);
    auto success = studio_->sceneSuccess();
    QString outcome = success ? (*success ? ", success" : ", failure") : QString();
    statusBar()->showMessage(QString("Saved %1: %2 ticks, %3 s%4, %5 dropped")
                                 .arg(lastSaved_)
                                 .arg(result.stats.written)
                                 .arg(result.seconds, 0, 'f', 1)
                                 .arg(outcome)
                                 .arg(result.stats.dropped),
                             15000);
  } catch (const std::exception& e) {
    QMessageBox::critical(this, "Recording failed", e.what());
    takesLeft_ = 1;
  }
  --takesLeft_;
  setRecordingUi(false);
  takeLabel_->setText(takesLeft_ > 0 ? QString("Next take starting…")
                                     : QString("Saved. Teleoperating, not recording."));
  if (takesLeft_ > 0) QTimer::singleShot(0, this, &MainWindow::startRecording);
}

void MainWindow::refresh() {
  for (CameraTile* tile : tiles_)
    tile->refresh();
  LoopStatus status = studio_->loop().status();
  joints_->show(status);
  if (studio_->recorder().recording() && studio_->recorder().reachedLength()) finishTake();

  LoopStatsSummary stats = studio_->loop().stats();
  QString text = QString("Loop %1 Hz  ·  jitter p99 %2 µs  ·  overruns %3  ·  mode %4")
                     .arg(stats.rateHz, 0, 'f', 1)
                     .arg(stats.jitterP99 * 1e6, 0, 'f', 0)
                     .arg(stats.overruns)
                     .arg(toString(status.mode));
  if (studio_->recorder().recording())
    text += QString("  ·  recording %1 s")
                .arg(studio_->recorder().ticksRecorded() / studio_->config().recordRateHz, 0, 'f', 1);
  if (!status.error.empty())
    text = QString("Control loop stopped: %1").arg(QString::fromStdString(status.error));
  loopLabel_->setText(text);

  QStorageInfo storage(QString::fromStdString(dataset_.path()));
  double freeGiB = static_cast<double>(storage.bytesAvailable()) / (1024.0 * 1024.0 * 1024.0);
  diskLabel_->setText(QString("Free disk %1 GiB").arg(freeGiB, 0, 'f', 1));
  diskLabel_->setStyleSheet(freeGiB < 5.0 ? "color: #e05050; font-weight: bold" : "");
}

void MainWindow::closeEvent(QCloseEvent* event) {
  if (!studio_->recorder().recording()) return event->accept();
  auto answer = QMessageBox::question(this, "Recording in progress",
                                      "An episode is being recorded. Save it before closing?",
                                      QMessageBox::Save | QMessageBox::Discard | QMessageBox::Cancel);
  if (answer == QMessageBox::Cancel) return event->ignore();
  takesLeft_ = 1;
  EpisodeResult result = studio_->endTake();
  if (answer == QMessageBox::Discard) std::remove(result.path.c_str());
  event->accept();
}

}  // namespace flywheel::gui

namespace flywheel::app {

int runGui(int argc, char** argv, const GuiOptions& options) {
  QApplication application(argc, argv);
  QApplication::setApplicationName("Flywheel Studio");
  RigConfig config = loadRigConfig(options.rig);
  QString folder = QString::fromStdString(options.out.empty() ? defaultDataFolder(config.name) : options.out);
  gui::MainWindow window(std::move(config), folder);
  window.show();
  if (!options.screenshot.empty()) {
    QTimer::singleShot(static_cast<int>(options.screenshotDelay * 1000), &window, [&] {
      bool saved = window.grab().save(QString::fromStdString(options.screenshot));
      std::fprintf(saved ? stdout : stderr, "%s %s\n", saved ? "saved" : "could not save",
                   options.screenshot.c_str());
      application.exit(saved ? 0 : 1);
    });
  }
  return application.exec();
}

}  // namespace flywheel::app
