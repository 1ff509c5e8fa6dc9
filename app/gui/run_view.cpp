#include "app/gui/run_view.hpp"

#include <QFileDialog>
#include <QFormLayout>
#include <QGridLayout>
#include <QGroupBox>
#include <QHBoxLayout>
#include <QMenu>
#include <QShortcut>
#include <QVBoxLayout>

#include "app/bundled_policies.hpp"
#include "app/gui/camera_tile.hpp"
#include "app/gui/chunk_timeline.hpp"
#include "app/gui/view_parts.hpp"

namespace flywheel::gui {

namespace {

QString ms(double seconds) {
  return QString::number(seconds * 1000.0, 'f', 1);
}

}  // namespace

RunView::RunView(Studio& studio, const DatasetFolder& dataset, QWidget* parent)
    : QWidget(parent), studio_(studio), dataset_(dataset) {
  buildUi();
  updateControls();
  updateIndicator({}, {});
}

RunView::~RunView() {
  stop();
}

void RunView::buildUi() {
  auto* layout = new QHBoxLayout(this);
  tiles_ = addCameraGrid(layout, studio_.rig().cameras(), 3, this);

  auto* side = new QVBoxLayout();
  indicator_ = new QLabel(this);
  indicator_->setAlignment(Qt::AlignCenter);
  indicator_->setMinimumHeight(44);
  indicator_->setWordWrap(true);
  side->addWidget(indicator_);

  auto* policyBox = new QGroupBox("Policy", this);
  auto* form = new QFormLayout(policyBox);
  policyEdit_ = new QLineEdit(policyBox);
  policyEdit_->setPlaceholderText("model.pt, bundled name or ws://host:8000");
  auto* browse = new QPushButton("Browse…", policyBox);
  bundledButton_ = new QPushButton("Bundled policies", policyBox);
  bundledButton_->setToolTip("The policies that come with the studio (resources/policies)");
  auto* bundledMenu = new QMenu(bundledButton_);
  bundledButton_->setMenu(bundledMenu);
  // Listed when opened: a model trained into a bundled folder meanwhile is offered too.
  connect(bundledMenu, &QMenu::aboutToShow, this, [this, bundledMenu] { fillBundledMenu(bundledMenu); });
  auto* policyButtons = new QHBoxLayout();  // under the field, which keeps the whole width for a path
  policyButtons->addWidget(bundledButton_, 1);
  policyButtons->addWidget(browse, 1);
  apiKeyEdit_ = new QLineEdit(policyBox);
  apiKeyEdit_->setEchoMode(QLineEdit::Password);
  apiKeyEdit_->setPlaceholderText("servers only, optional");
  fallbackBox_ = new QComboBox(policyBox);
  fallbackBox_->setEditable(true);
  fallbackBox_->addItem("");
  for (const std::string& name : bundledPolicyNames())
    fallbackBox_->addItem(QString::fromStdString(name));
  fallbackBox_->lineEdit()->setPlaceholderText("none: hold when the policy does not answer");
  fallbackBox_->setToolTip(
      "A model file or bundled policy, run here, that drives while the policy does "
      "not answer within the watchdog time");
  modeBox_ = new QComboBox(policyBox);
  modeBox_->addItem("Asynchronous: never wait for the model", "async");
  modeBox_->addItem("Synchronous: wait, execute half a chunk", "sync");
  modeBox_->addItem("Temporal ensembling (ACT)", "ensemble");
  promptEdit_ = new QLineEdit("pick up the cube and place it in the bin", policyBox);
  promptEdit_->setCursorPosition(0);
  promptEdit_->setToolTip("Enter sends a new prompt while the policy runs");
  recordBox_ = new QCheckBox("Record the run as an episode", policyBox);
  recordBox_->setChecked(true);
  supervisorBox_ = new QCheckBox("Scripted operator supervises", policyBox);
  const bool simulated = studio_.rig().simWorld() != nullptr;
  supervisorBox_->setEnabled(simulated);
  supervisorBox_->setToolTip(
      simulated ? "The simulated operator takes over through the leader arm when the robot goes wrong "
                  "(off its plan, no progress, cube dropped), finishes the move and hands back; each "
                  "correction is saved as a labelled segment"
                : "Simulated rigs only: on a real rig you are the supervisor (move a leader arm or press T)");
  secondsBox_ = new QSpinBox(policyBox);
  secondsBox_->setRange(1, 3600);
  secondsBox_->setValue(20);
  secondsBox_->setSuffix(" s");
  form->addRow("Model or server", policyEdit_);
  form->addRow("", policyButtons);
  form->addRow("API key", apiKeyEdit_);
  form->addRow("Fallback", fallbackBox_);
  form->addRow("Chunks", modeBox_);
  form->addRow("Prompt", promptEdit_);
  form->addRow("Run length", secondsBox_);
  form->addRow(recordBox_);
  form->addRow(supervisorBox_);

  auto* buttons = new QGridLayout();
  startButton_ = keyButton("Start", "F5", policyBox);
  pauseButton_ = keyButton("Pause", "P", policyBox);
  stopButton_ = keyButton("Stop", "Esc", policyBox);
  takeoverButton_ = keyButton("Take over", "T", policyBox);
  takeoverButton_->setMinimumHeight(44);
  buttons->addWidget(startButton_, 0, 0);
  buttons->addWidget(pauseButton_, 0, 1);
  buttons->addWidget(stopButton_, 0, 2);
  buttons->addWidget(takeoverButton_, 1, 0, 1, 3);
  form->addRow(buttons);
  auto* keys =
      new QLabel("Moving a leader arm takes over too. T or Space: take over / hand back.", policyBox);
  keys->setWordWrap(true);
  keys->setStyleSheet("color: palette(mid)");
  form->addRow(keys);
  side->addWidget(policyBox);

  figures_ = new QLabel(this);
  figures_->setWordWrap(true);
  figures_->setTextInteractionFlags(Qt::TextSelectableByMouse);
  side->addWidget(figures_);
  timeline_ = new ChunkTimeline(this);
  side->addWidget(timeline_, 1);
  layout->addLayout(side, 1);

  connect(browse, &QPushButton::clicked, this, &RunView::browse);
  connect(startButton_, &QPushButton::clicked, this, &RunView::start);
  connect(pauseButton_, &QPushButton::clicked, this, &RunView::togglePause);
  connect(stopButton_, &QPushButton::clicked, this, &RunView::stop);
  connect(takeoverButton_, &QPushButton::clicked, this, &RunView::toggleTakeover);
  connect(promptEdit_, &QLineEdit::returnPressed, this, &RunView::sendPrompt);
  addViewShortcut(this, QKeySequence(Qt::Key_F5), [this] {
    if (!session_) start();
  });
  addViewShortcut(this, QKeySequence(Qt::Key_Escape), [this] { stop(); });
  for (auto key : {Qt::Key_T, Qt::Key_Space})
    addViewShortcut(this, QKeySequence(key), [this] {
      if (session_ && !promptEdit_->hasFocus()) toggleTakeover();
    });
  addViewShortcut(this, QKeySequence(Qt::Key_P), [this] {
    if (session_ && !promptEdit_->hasFocus()) togglePause();
  });
}

void RunView::browse() {
  QString file =
      QFileDialog::getOpenFileName(this, "TorchScript policy", QString(), "TorchScript (*.pt *.pth)");
  if (!file.isEmpty()) policyEdit_->setText(file);
}

void RunView::fillBundledMenu(QMenu* menu) {
  menu->clear();
  for (const std::string& name : bundledPolicyNames()) {
    const QString text = QString::fromStdString(name);
    menu->addAction(text, this, [this, text] { policyEdit_->setText(text); });
  }
  if (menu->isEmpty()) menu->addAction("No bundled policies installed")->setEnabled(false);
}

void RunView::offerPolicy(const QString& path) {
  if (session_) return Q_EMIT message(QString("Stop the policy to run %1").arg(path));
  policyEdit_->setText(path);
  policyEdit_->setCursorPosition(0);
  Q_EMIT message(QString("Trained model ready to run: %1").arg(path));
}

void RunView::start() {
  if (session_) return;
  if (studio_.recorder().recording()) return Q_EMIT failed("Finish the take in Teleoperate & Record first.");
  PolicyRunOptions options;
  options.policy = policyEdit_->text().trimmed().toStdString();
  options.prompt = promptEdit_->text().toStdString();
  options.mode = *chunkModeFromString(modeBox_->currentData().toString().toStdString());
  options.apiKey = apiKeyEdit_->text().toStdString();
  options.fallback = fallbackBox_->currentText().trimmed().toStdString();
  if (supervisorBox_->isChecked() && supervisorBox_->isEnabled()) options.supervisor = "scripted";
  try {
    session_ = std::make_unique<PolicySession>(studio_, options);
    if (recordBox_->isChecked())
      session_->beginRecording(dataset_, secondsBox_->value(), studio_.config().sim.seed);
    paused_ = false;
    timeline_->clearSources();
    session_->start();
    Q_EMIT message(QString("Running %1").arg(QString::fromStdString(session_->describe())));
  } catch (const std::exception& e) {
    session_.reset();
    Q_EMIT failed(QString("The policy could not start: %1").arg(e.what()));
  }
  updateControls();
  if (session_) takeoverButton_->setFocus();  // T and Space must not land in a text field mid-run
}

void RunView::stop() {
  if (!session_) return;
  if (session_->recording() && studio_.recorder().recording()) {
    try {
      EpisodeResult result = session_->endRecording();
      lastSaved_ = QString::fromStdString(result.path);
      Q_EMIT message(QString("Saved %1 (%2 s)").arg(lastSaved_).arg(result.seconds, 0, 'f', 1));
    } catch (const std::exception& e) {
      Q_EMIT failed(QString("The run's recording failed: %1 (what was written is kept)").arg(e.what()));
    }
  }
  session_.reset();  // the leaders drive again, as the other views expect
  updateControls();
  updateIndicator({}, {});
}

void RunView::togglePause() {
  if (!session_) return;
  paused_ = !paused_;
  session_->setPaused(paused_);
  updateControls();
}

void RunView::toggleTakeover() {
  if (!session_) return;
  if (session_->takeoverStatus().control == Control::Human)
    session_->handBack();
  else
    session_->takeOver();
}

void RunView::sendPrompt() {
  if (!session_) return;
  session_->setPrompt(promptEdit_->text().toStdString());
  Q_EMIT message(QString("New prompt: %1").arg(promptEdit_->text()));
}

void RunView::updateControls() {
  const bool on = session_ != nullptr;
  startButton_->setEnabled(!on);
  pauseButton_->setEnabled(on);
  pauseButton_->setText(paused_ ? "Resume   [P]" : "Pause   [P]");
  stopButton_->setEnabled(on);
  takeoverButton_->setEnabled(on);
  policyEdit_->setEnabled(!on);
  bundledButton_->setEnabled(!on);
  apiKeyEdit_->setEnabled(!on);
  fallbackBox_->setEnabled(!on);
  modeBox_->setEnabled(!on);
  recordBox_->setEnabled(!on);
  secondsBox_->setEnabled(!on);
  supervisorBox_->setEnabled(!on && studio_.rig().simWorld() != nullptr);
}

void RunView::updateIndicator(const ExecutorStatus& e, const TakeoverStatus& t) {
  QString text, colour;
  if (!session_) {
    text = "No policy running: the leaders drive the followers";
    colour = "#6b7280";
  } else if (t.control == Control::Human) {
    const std::vector<sim::Correction> corrections = session_->corrections();
    const bool scripted = !corrections.empty() && corrections.back().end < 0;
    text =
        "HUMAN IN CONTROL (" +
        QString::fromStdString(scripted ? "scripted operator: " + corrections.back().reason : t.lastCause) +
        ")";
    colour = "#d97706";
  } else if (t.control == Control::HandingBack) {
    text = "HANDING BACK TO THE POLICY";
    colour = "#ca8a04";
  } else if (session_->hasFallback() && session_->driving() == PolicySource::Fallback) {
    text = "FALLBACK DRIVING (" + QString::fromStdString(session_->describeFallback()) +
           "): " + QString::fromStdString(e.reason);
    colour = "#7e22ce";
  } else if (e.health == PolicyHealth::Running) {
    text = session_->hasFallback() ? "MAIN POLICY DRIVING" : "POLICY DRIVING";
    colour = "#15803d";
  } else if (e.health == PolicyHealth::Holding) {
    text = "HOLDING: " + QString::fromStdString(e.reason);
    colour = "#b91c1c";
  } else {
    text = QString(nameOf(e.health)).toUpper() + ": " + QString::fromStdString(e.reason);
    colour = "#2563eb";
  }
  indicator_->setText(text);
  indicator_->setStyleSheet(QString("background: %1; color: white; font-size: 16px; font-weight: bold; "
                                    "border-radius: 6px; padding: 6px")
                                .arg(colour));
}

// The fallback's switches so far, the last few with their time into the run and reason.
QString RunView::switchesText() const {
  if (!session_->hasFallback()) return {};
  const std::vector<SourceSwitch> switches = session_->switches();
  QString text = QString("<br>Fallback %1: %2 switch(es)")
                     .arg(QString::fromStdString(session_->describeFallback()).toHtmlEscaped())
                     .arg(switches.size());
  const std::size_t shown = std::min<std::size_t>(switches.size(), 3);
  for (std::size_t i = switches.size() - shown; i < switches.size(); ++i)
    text += QString("<br>&nbsp;&nbsp;%1 s → %2: %3")
                .arg(switches[i].time - session_->startedAt(), 0, 'f', 1)
                .arg(nameOf(switches[i].to))
                .arg(QString::fromStdString(switches[i].reason).toHtmlEscaped());
  return text;
}

// The scripted operator's corrections so far, the last few with their time into the run and reason.
QString RunView::correctionsText() const {
  if (!session_->supervised()) return {};
  const std::vector<sim::Correction> corrections = session_->corrections();
  QString text = QString("<br>Scripted operator: %1 correction(s)").arg(corrections.size());
  const std::size_t shown = std::min<std::size_t>(corrections.size(), 3);
  for (std::size_t i = corrections.size() - shown; i < corrections.size(); ++i)
    text += QString("<br>&nbsp;&nbsp;%1 s: %2")
                .arg(corrections[i].start - session_->startedAt(), 0, 'f', 1)
                .arg(QString::fromStdString(corrections[i].reason).toHtmlEscaped());
  return text;
}

void RunView::refresh() {
  if (!isVisible() && !session_) return;
  for (CameraTile* tile : tiles_)
    tile->refresh();
  if (!session_) return;
  const ExecutorStatus e = session_->executorStatus();
  const TakeoverStatus t = session_->takeoverStatus();
  updateIndicator(e, t);
  takeoverButton_->setText(t.control == Control::Human ? "Hand back   [T]" : "Take over   [T]");
  const double elapsed = studio_.clock().now() - session_->startedAt();
  const std::string metadata = session_->serverMetadata();
  const bool remote = session_->describe().find("://") != std::string::npos;
  figures_->setText(
      QString(
          "<b>%1</b> · %2 s of %3 s<br>Observation → chunk %4 ms: preprocess %5, forward %6, postprocess %7, "
          "network %8 ms<br>%9 answers · %10 refused · %11 failed · held %12 ticks · %13 takeover(s) · "
          "%14 steps planned ahead%15%16%17%18")
          .arg(QString::fromStdString(session_->describe()).toHtmlEscaped())
          .arg(elapsed, 0, 'f', 1)
          .arg(secondsBox_->value())
          .arg(ms(e.lastLatency), ms(e.lastTiming.preprocess), ms(e.lastTiming.forward),
               ms(e.lastTiming.postprocess), ms(e.lastTiming.network))
          .arg(e.inferences)
          .arg(e.refused)
          .arg(e.failures)
          .arg(session_->heldTicks())
          .arg(t.takeovers)
          .arg(e.stepsAhead)
          .arg(remote ? QString(" · %1 reconnect(s)").arg(session_->reconnects()) : QString())
          .arg(remote
                   ? "<br>Server: " +
                         QString::fromStdString(metadata.empty() ? "(no metadata)" : metadata).toHtmlEscaped()
                   : QString())
          .arg(switchesText())
          .arg(correctionsText()));
  timeline_->addSource(studio_.clock().now(), session_->currentSource());
  if (session_->hasFallback()) timeline_->setFallbackEvents(session_->fallbackStatus().recent);
  timeline_->setEvents(e.recent, studio_.clock().now(), 1.0 / studio_.config().recordRateHz);
  const bool lengthReached =
      session_->recording() ? studio_.recorder().reachedLength() : elapsed >= secondsBox_->value();
  if (lengthReached || !studio_.loop().running()) stop();
}

}  // namespace flywheel::gui
