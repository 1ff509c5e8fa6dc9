#include "app/gui/main_window.hpp"

#include <QApplication>
#include <QCloseEvent>
#include <QDir>
#include <QMessageBox>
#include <QStatusBar>
#include <QStorageInfo>
#include <QThread>
#include <QVBoxLayout>
#include <cstdio>

#include "app/gui/calibration_dialog.hpp"
#include "app/gui/camera_tile.hpp"
#include "app/gui/record_view.hpp"
#include "app/gui/review_view.hpp"
#include "app/gui/run_view.hpp"
#include "app/gui/setup_view.hpp"
#include "devices/servo/servo_arm.hpp"

namespace flywheel::gui {

namespace {
const std::vector<CameraTile*> kNoTiles;
}

MainWindow::MainWindow(RigConfig config, const QString& datasetFolder, QWidget* parent)
    : QMainWindow(parent), dataset_(datasetFolder.toStdString()) {
  auto* central = new QWidget(this);
  auto* layout = new QVBoxLayout(central);
  banner_ = new QLabel(central);
  banner_->setObjectName("errorBanner");
  banner_->setWordWrap(true);
  banner_->setStyleSheet(
      "background: #b3261e; color: white; font-weight: bold; padding: 8px; border-radius: 4px");
  banner_->hide();
  layout->addWidget(banner_);
  tabs_ = new QTabWidget(central);
  layout->addWidget(tabs_, 1);
  setCentralWidget(central);

  loopLabel_ = new QLabel(this);
  camerasLabel_ = new QLabel(this);
  busLabel_ = new QLabel(this);
  diskLabel_ = new QLabel(this);
  statusBar()->addWidget(loopLabel_);
  statusBar()->addWidget(camerasLabel_, 1);
  statusBar()->addPermanentWidget(busLabel_);
  statusBar()->addPermanentWidget(diskLabel_);

  review_ = new ReviewView(dataset_, this);
  connect(review_, &ReviewView::message, this,
          [this](const QString& text) { statusBar()->showMessage(text, 10000); });
  // A model trained from Review & Label goes to the Run Policy view (rebuilt with each rig: looked up now).
  connect(review_, &ReviewView::policyTrained, this, [this](const QString& path) {
    if (!run_) return showError("Start the rig to run the trained model: " + path);
    run_->offerPolicy(path);
    tabs_->setCurrentWidget(run_);
  });
  connect(tabs_, &QTabWidget::currentChanged, this, [this] {
    if (tabs_->currentWidget() == review_ && !review_->dirty()) review_->reloadEpisodes();
  });
  useRig(std::move(config));
  connect(&refreshTimer_, &QTimer::timeout, this, &MainWindow::refresh);
  refreshTimer_.start(33);  // screen rate; cameras and the loop run on their own threads
  resize(1280, 800);
}

MainWindow::~MainWindow() {
  refreshTimer_.stop();
  delete run_;  // the policy session goes before the studio it drives
  run_ = nullptr;
  if (studio_) studio_->stop();
}

QPushButton* MainWindow::recordButton() const {
  return record_ ? record_->recordButton() : nullptr;
}
QPushButton* MainWindow::stopButton() const {
  return record_ ? record_->stopButton() : nullptr;
}
QSpinBox* MainWindow::secondsBox() const {
  return record_ ? record_->secondsBox() : nullptr;
}
QSpinBox* MainWindow::episodesBox() const {
  return record_ ? record_->episodesBox() : nullptr;
}
QLineEdit* MainWindow::taskEdit() const {
  return record_ ? record_->taskEdit() : nullptr;
}
QString MainWindow::lastSavedEpisode() const {
  return record_ ? record_->lastSavedEpisode() : QString();
}
const std::vector<CameraTile*>& MainWindow::cameraTiles() const {
  return record_ ? record_->cameraTiles() : kNoTiles;
}

// Builds the studio for `config` and the views over it. A rig that cannot start leaves the Setup view up
// with the error in the banner, so the operator can fix the port and try again.
void MainWindow::useRig(RigConfig config) {
  const int tab = tabs_->count() > 0 ? tabs_->currentIndex() : 1;
  tabs_->blockSignals(true);
  tabs_->clear();
  tabs_->blockSignals(false);
  delete run_;
  delete record_;
  delete setup_;
  run_ = nullptr;
  record_ = nullptr;
  if (studio_) studio_->stop();
  studio_.reset();
  banner_->hide();
  setWindowTitle(QString("Flywheel Studio — %1").arg(QString::fromStdString(config.name)));
  setup_ = new SetupView(config, this);
  connect(setup_, &SetupView::applyRequested, this, &MainWindow::applyRig);
  connect(setup_, &SetupView::calibrateRequested, this, &MainWindow::calibrate);
  connect(setup_, &SetupView::message, this,
          [this](const QString& text) { statusBar()->showMessage(text, 8000); });
  tabs_->addTab(setup_, "Setup");
  try {
    studio_ = std::make_unique<Studio>(std::move(config));
    studio_->start(&studio_->teleop());
  } catch (const std::exception& e) {
    studio_.reset();
    showError(QString("The rig could not start: %1").arg(e.what()));
    tabs_->addTab(review_, "Review && Label");
    return;
  }
  setup_->setPreviews(studio_->rig().cameras());
  QStringList warnings;  // all of them in the banner, one a line
  for (const std::string& warning : studio_->rig().warnings())
    warnings << QString::fromStdString(warning);
  if (!warnings.isEmpty()) showError(warnings.join("\n"));
  record_ = new RecordView(*studio_, dataset_, this);
  connect(record_, &RecordView::message, this,
          [this](const QString& text) { statusBar()->showMessage(text, 15000); });
  connect(record_, &RecordView::failed, this, &MainWindow::showError);
  tabs_->addTab(record_, "Teleoperate && Record");
  run_ = new RunView(*studio_, dataset_, this);
  connect(run_, &RunView::message, this,
          [this](const QString& text) { statusBar()->showMessage(text, 15000); });
  connect(run_, &RunView::failed, this, &MainWindow::showError);
  tabs_->addTab(run_, "Run Policy");
  tabs_->addTab(review_, "Review && Label");
  tabs_->setCurrentIndex(std::min(tab, tabs_->count() - 1));
}

void MainWindow::applyRig(const QString& text, const QString& displayName) {
  if (record_ && record_->takeInProgress())
    return showError("Save or discard the take before changing the rig.");
  if (run_ && run_->running()) return showError("Stop the policy before changing the rig.");
  try {
    RigConfig config = parseRigConfig(text.toStdString(), displayName.toStdString());
    useRig(std::move(config));
    statusBar()->showMessage("Rig applied: " + displayName, 8000);
  } catch (const std::exception& e) {
    showError(e.what());
  }
}

void MainWindow::calibrate(const QString& armName) {
  if (!studio_) return showError("Start the rig first (Apply && reconnect).");
  ServoArm* arm = studio_->rig().servoArm(armName.toStdString());
  if (!arm) return showError(QString("Arm '%1' is simulated: it needs no calibration.").arg(armName));
  studio_->loop().stop();  // the dialog talks to the bus alone
  const ArmConfig* config = studio_->config().findArm(armName.toStdString());
  CalibrationDialog dialog(*arm, *config, studio_->rig().calibrationPathFor(armName.toStdString()), this);
  dialog.exec();
  // Reconnect so the new calibration is used.
  applyRig(QString::fromStdString(studio_->config().sourceText),
           QString::fromStdString(studio_->config().sourcePath));
}

void MainWindow::showError(const QString& text) {
  banner_->setText(text);
  banner_->show();
}

void MainWindow::refresh() {
  if (record_) record_->refresh();
  if (run_) run_->refresh();
  if (setup_ && tabs_->currentWidget() == setup_) setup_->refreshPreviews();
  if (++refreshCount_ % 15 == 0) refreshStatusBar();  // twice a second is enough for figures
}

void MainWindow::refreshStatusBar() {
  QStorageInfo storage(QString::fromStdString(dataset_.path()));
  const double freeGiB = static_cast<double>(storage.bytesAvailable()) / (1024.0 * 1024.0 * 1024.0);
  diskLabel_->setText(
      QString("Free disk %1 GiB%2").arg(freeGiB, 0, 'f', 1).arg(freeGiB < 5.0 ? " — running out" : ""));
  diskLabel_->setStyleSheet(freeGiB < 5.0 ? "color: #e05050; font-weight: bold" : "");
  if (!studio_) return;

  const LoopStatus status = studio_->loop().status();
  const LoopStatsSummary stats = studio_->loop().stats();
  // The rate achieved over the last window against the rig's: a slow bus shows as "Loop 97.0 of 100 Hz".
  loopLabel_->setText(QString("Loop %1 of %2 Hz · jitter p99 %3 µs · overruns %4")
                          .arg(stats.rateHz, 0, 'f', 1)
                          .arg(studio_->config().controlRateHz, 0, 'f', 0)
                          .arg(stats.jitterP99 * 1e6, 0, 'f', 0)
                          .arg(stats.overruns));

  const RigHealth health = studio_->rig().health();
  QStringList cameras;
  std::vector<std::string> cameraStates;
  const WriterStats take = studio_->recorder().stats();  // repeated frames are the take's, not the camera's
  for (std::size_t c = 0; c < health.cameras.size(); ++c) {
    const CameraHealth& camera = health.cameras[c];
    QString repeated =
        c < take.cameras.size() ? QString(" · %1 repeated").arg(take.cameras[c].repeatedFrames) : QString();
    cameras << QString("%1 %2 fps%3")
                   .arg(QString::fromStdString(camera.name))
                   .arg(camera.measuredFps, 0, 'f', 0)
                   .arg(repeated);
    cameraStates.push_back(camera.error.empty()
                               ? "connected, " + std::to_string(static_cast<int>(camera.measuredFps)) + " fps"
                               : camera.error);
  }
  camerasLabel_->setText(cameras.join("   "));

  std::vector<std::string> armStates;
  for (const ArmHealth& arm : health.arms) {
    std::string state = !status.error.empty() ? status.error : arm.connected ? "connected" : "disconnected";
    if (arm.bus && arm.connected && status.error.empty())
      state += ", " + std::to_string(arm.bus->counters.transactions) + " transactions";
    armStates.push_back(state);
  }
  const std::uint64_t busErrors = health.busErrors();
  busLabel_->setText(QString("Bus errors %1").arg(busErrors));
  busLabel_->setStyleSheet(busErrors > 0 ? "color: #d08a00" : "");
  setup_->showStates(armStates, cameraStates);

  if (!status.error.empty())
    showError(QString("Control loop stopped: %1").arg(QString::fromStdString(status.error)));
  else if (!status.lastDeviceError.empty() && status.failedTicks > 0)
    statusBar()->showMessage(QString("Bus: %1").arg(QString::fromStdString(status.lastDeviceError)), 5000);
  for (const CameraHealth& camera : health.cameras)
    if (!camera.error.empty()) showError(QString::fromStdString(camera.error));
}

void MainWindow::closeEvent(QCloseEvent* event) {
  if (run_) run_->stop();  // a recorded run is saved as it is
  if (!record_ || !record_->takeInProgress()) return event->accept();
  auto answer = QMessageBox::question(this, "Recording in progress",
                                      "An episode is being recorded. Save it before closing?",
                                      QMessageBox::Save | QMessageBox::Discard | QMessageBox::Cancel);
  if (answer == QMessageBox::Cancel) return event->ignore();
  record_->closeTake(answer == QMessageBox::Save);
  event->accept();
}

}  // namespace flywheel::gui

namespace flywheel::app {

namespace {
// Saves every view at the sizes the window must look right at, then quits.
void saveScreenshots(QApplication& application, gui::MainWindow& window, const QString& folder) {
  QDir().mkpath(folder);
  for (QSize size : {QSize(1280, 800), QSize(1920, 1080)}) {
    window.resize(size);
    for (int tab = 0; tab < window.tabs()->count(); ++tab) {
      window.tabs()->setCurrentIndex(tab);
      for (int i = 0; i < 20; ++i) {  // let layouts settle and camera tiles repaint
        QApplication::processEvents();
        QThread::msleep(25);
      }
      const QString name = tab == 0 ? "setup" : tab == 1 ? "record" : tab == 2 ? "run" : "review";
      const QString file = QString("%1/%2-%3x%4.png").arg(folder, name).arg(size.width()).arg(size.height());
      std::printf("%s %s\n", window.grab().save(file) ? "saved" : "could not save",
                  file.toUtf8().constData());
    }
  }
  application.exit(0);
}
}  // namespace

int runGui(int argc, char** argv, const GuiOptions& options) {
  QApplication application(argc, argv);
  QApplication::setApplicationName("Flywheel Studio");
  RigConfig config = loadRigConfig(options.rig);
  QString folder = QString::fromStdString(options.out.empty() ? defaultDataFolder(config.name) : options.out);
  gui::MainWindow window(std::move(config), folder);
  window.show();
  const int delay = static_cast<int>(options.screenshotDelay * 1000);
  if (!options.screenshot.empty())
    QTimer::singleShot(delay, &window, [&] {
      bool saved = window.grab().save(QString::fromStdString(options.screenshot));
      std::printf("%s %s\n", saved ? "saved" : "could not save", options.screenshot.c_str());
      application.exit(saved ? 0 : 1);
    });
  if (!options.screenshotFolder.empty())
    QTimer::singleShot(delay, &window, [&] {
      saveScreenshots(application, window, QString::fromStdString(options.screenshotFolder));
    });
  return application.exec();
}

}  // namespace flywheel::app
