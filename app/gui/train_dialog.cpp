#include "app/gui/train_dialog.hpp"

#include <QDateTime>
#include <QDir>
#include <QFileDialog>
#include <QFileInfo>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QVBoxLayout>
#include <algorithm>
#include <cmath>

#include "app/gui/loss_curve.hpp"
#include "app/gui/train_job.hpp"

namespace flywheel::gui {

namespace {

QString duration(double seconds) {
  const int s = static_cast<int>(std::lround(seconds));
  return QString("%1:%2").arg(s / 60).arg(s % 60, 2, 10, QChar('0'));
}

QString loss(double value) {
  return std::isfinite(value) ? QString::number(value, 'f', 4) : QString("—");
}

QSpinBox* spinBox(int low, int high, int value, QWidget* parent) {
  auto* box = new QSpinBox(parent);
  box->setRange(low, high);
  box->setValue(value);
  return box;
}

}  // namespace

TrainDialog::TrainDialog(const QStringList& episodes, const QString& dataset, QWidget* parent)
    : QDialog(parent), episodes_(episodes), dataset_(dataset) {
  setWindowTitle("Train a policy");
  buildUi();
  setRunning(false);
  resize(620, 640);
}

TrainDialog::~TrainDialog() = default;  // a running job is cancelled and waited for

QString TrainDialog::defaultOutput(const QString& dataset) {
  const QString stamp = QDateTime::currentDateTime().toString("yyyy-MM-dd-HHmm");
  return QDir(dataset).filePath(QString("models/policy-%1.pt").arg(stamp));
}

void TrainDialog::buildUi() {
  auto* layout = new QVBoxLayout(this);
  summary_ = new QLabel(QString("<b>Train on %1 episode(s)</b>").arg(episodes_.size()), this);
  QStringList names;
  for (const QString& file : episodes_)
    names << QFileInfo(file).fileName();
  summary_->setToolTip(names.join("\n"));
  layout->addWidget(summary_);
  settings_ = buildSettings();
  layout->addWidget(settings_);

  epochLabel_ = new QLabel("Epoch", this);
  epochLabel_->setMinimumWidth(epochLabel_->fontMetrics().horizontalAdvance("Epoch 9999 of 9999"));
  epochBar_ = new QProgressBar(this);
  overallBar_ = new QProgressBar(this);
  overallBar_->setFormat("overall %p%");
  for (QProgressBar* bar : {epochBar_, overallBar_}) {
    bar->setRange(0, 1000);
    bar->setValue(0);
  }
  epochBar_->setFormat("%p%");
  auto* bars = new QFormLayout();
  bars->addRow(epochLabel_, epochBar_);
  bars->addRow("Run", overallBar_);
  layout->addLayout(bars);
  curve_ = new LossCurve(this);
  layout->addWidget(curve_, 2);
  log_ = new QPlainTextEdit(this);
  log_->setReadOnly(true);
  log_->setMaximumBlockCount(2000);
  log_->setFont(QFont("monospace", 9));
  log_->setPlaceholderText("A line per epoch, and the episodes skipped and why");
  layout->addWidget(log_, 1);
  result_ = new QLabel(this);
  result_->setWordWrap(true);
  result_->setTextInteractionFlags(Qt::TextSelectableByMouse);
  layout->addWidget(result_);

  auto* buttons = new QHBoxLayout();
  startButton_ = new QPushButton("Start training", this);
  startButton_->setDefault(true);
  cancelButton_ = new QPushButton("Cancel training", this);
  cancelButton_->setToolTip("Stops after the current batch and keeps the best model so far");
  useButton_ = new QPushButton("Use in Run Policy", this);
  closeButton_ = new QPushButton("Close", this);
  buttons->addWidget(startButton_);
  buttons->addWidget(cancelButton_);
  buttons->addStretch(1);
  buttons->addWidget(useButton_);
  buttons->addWidget(closeButton_);
  layout->addLayout(buttons);

  connect(startButton_, &QPushButton::clicked, this, &TrainDialog::start);
  connect(cancelButton_, &QPushButton::clicked, this, &TrainDialog::cancel);
  connect(closeButton_, &QPushButton::clicked, this, &TrainDialog::reject);
  connect(useButton_, &QPushButton::clicked, this, [this] {
    Q_EMIT usePolicy(modelPath_);
    accept();
  });
}

QWidget* TrainDialog::buildSettings() {
  auto* box = new QWidget(this);
  auto* form = new QFormLayout(box);
  form->setContentsMargins(0, 0, 0, 0);
  output_ = new QLineEdit(defaultOutput(dataset_), box);
  auto* browse = new QPushButton("Browse…", box);
  auto* outputRow = new QHBoxLayout();
  outputRow->addWidget(output_, 1);
  outputRow->addWidget(browse);
  form->addRow("Model file", outputRow);
  length_ = spinBox(1, 100000, 10, box);
  unit_ = new QComboBox(box);
  unit_->addItems({"epochs", "minutes"});
  auto* lengthRow = new QHBoxLayout();
  lengthRow->addWidget(length_);
  lengthRow->addWidget(unit_);
  lengthRow->addStretch(1);
  form->addRow("Train for", lengthRow);
  advancedButton_ = new QToolButton(box);
  advancedButton_->setText("Advanced");
  advancedButton_->setCheckable(true);
  advancedButton_->setArrowType(Qt::RightArrow);
  advancedButton_->setToolButtonStyle(Qt::ToolButtonTextBesideIcon);
  advancedButton_->setAutoRaise(true);
  form->addRow(advancedButton_);
  advanced_ = buildAdvanced();
  advanced_->hide();
  form->addRow(advanced_);
  connect(browse, &QPushButton::clicked, this, &TrainDialog::browse);
  connect(advancedButton_, &QToolButton::toggled, this, [this](bool open) {
    advanced_->setVisible(open);
    advancedButton_->setArrowType(open ? Qt::DownArrow : Qt::RightArrow);
  });
  return box;
}

// The defaults are the training set's and trainer's own, as `flywheel train` uses them.
QWidget* TrainDialog::buildAdvanced() {
  const TrainingSetOptions set;
  const TrainOptions train;
  auto* box = new QWidget(this);
  auto* form = new QFormLayout(box);
  form->setContentsMargins(16, 0, 0, 0);
  form->setFieldGrowthPolicy(QFormLayout::FieldsStayAtSizeHint);  // small numbers in small boxes
  horizon_ = spinBox(1, 1000, set.horizon, box);
  horizon_->setSuffix(" actions");
  cameras_ = new QLineEdit(box);
  cameras_->setPlaceholderText("all, as in the first episode (or: top, front)");
  cameras_->setMinimumWidth(320);
  imageHeight_ = spinBox(8, 1024, set.imageHeight, box);
  imageWidth_ = spinBox(8, 1024, set.imageWidth, box);
  auto* sizeRow = new QHBoxLayout();
  sizeRow->addWidget(imageHeight_);
  sizeRow->addWidget(new QLabel("×", box));
  sizeRow->addWidget(imageWidth_);
  sizeRow->addWidget(new QLabel("pixels (height × width)", box));
  sizeRow->addStretch(1);
  seed_ = spinBox(0, 1000000, static_cast<int>(train.seed), box);
  form->addRow("Horizon", horizon_);
  form->addRow("Cameras", cameras_);
  form->addRow("Image size", sizeRow);
  form->addRow("Seed", seed_);
  return box;
}

void TrainDialog::browse() {
  const QString file =
      QFileDialog::getSaveFileName(this, "Save the model as", output_->text(), "TorchScript models (*.pt)");
  if (!file.isEmpty()) output_->setText(file.endsWith(".pt") ? file : file + ".pt");
}

bool TrainDialog::running() const {
  return job_ && job_->running();
}

void TrainDialog::start() {
  if (running()) return;
  TrainingSetOptions set;
  for (const QString& file : episodes_)
    set.sources.push_back(file.toStdString());
  for (const QString& camera : cameras_->text().split(',', Qt::SkipEmptyParts))
    set.cameras.push_back(camera.trimmed().toStdString());
  set.horizon = horizon_->value();
  set.imageHeight = imageHeight_->value();
  set.imageWidth = imageWidth_->value();
  set.seed = static_cast<unsigned>(seed_->value());
  TrainOptions train;
  train.out = output_->text().trimmed().toStdString();
  if (unit_->currentIndex() == 0)
    train.epochs = length_->value();
  else
    train.minutes = length_->value();
  train.seed = set.seed;

  modelPath_.clear();
  curve_->clear();
  log_->clear();
  result_->clear();
  epochBar_->setValue(0);
  overallBar_->setValue(0);
  epochLabel_->setText("Reading the episodes…");
  job_ = std::make_unique<TrainJob>(std::move(set), std::move(train));
  connect(job_.get(), &TrainJob::dataReady, this, &TrainDialog::onData);
  connect(job_.get(), &TrainJob::progressed, this, &TrainDialog::onProgress);
  connect(job_.get(), &TrainJob::finished, this, &TrainDialog::onFinished);
  connect(job_.get(), &TrainJob::failed, this, &TrainDialog::onFailed);
  clock_.start();
  job_->start();
  setRunning(true);
}

void TrainDialog::cancel() {
  if (!running()) return;
  job_->cancel();
  cancelButton_->setEnabled(false);
  result_->setText("Cancelling: the current batch finishes and the best model so far is kept…");
}

void TrainDialog::reject() {
  if (running()) return cancel();
  QDialog::reject();
}

void TrainDialog::setRunning(bool on) {
  settings_->setEnabled(!on);
  startButton_->setEnabled(!on);
  startButton_->setText(!job_ || on ? "Start training" : "Train again");
  cancelButton_->setEnabled(on);
  useButton_->setEnabled(!on && !modelPath_.isEmpty());
  closeButton_->setEnabled(!on);
}

void TrainDialog::onData(const TrainData& data) {
  log_->appendPlainText(QString("%1 episode(s) for training (%2 samples), %3 held out (%4 samples): %5")
                            .arg(data.used.size())
                            .arg(data.trainSamples)
                            .arg(data.heldOut.size())
                            .arg(data.heldOutSamples)
                            .arg(data.heldOut.isEmpty() ? QString("none") : data.heldOut.join(", ")));
  for (const QString& skipped : data.skipped)
    log_->appendPlainText("skipped " + skipped);
  epochLabel_->setText("Epoch 1");
}

void TrainDialog::onProgress(const TrainProgress& p) {
  const TrainOptions& options = job_->options();
  epochLabel_->setText(p.epochs > 0 ? QString("Epoch %1 of %2").arg(p.epoch).arg(p.epochs)
                                    : QString("Epoch %1").arg(p.epoch));
  epochBar_->setValue(static_cast<int>(p.epochFraction * 1000));
  const double overall = p.epochs > 0 ? (p.epoch - 1 + p.epochFraction) / p.epochs
                                      : clock_.elapsed() / (options.minutes * 60000.0);
  overallBar_->setValue(static_cast<int>(std::clamp(overall, 0.0, 1.0) * 1000));
  if (!p.epochDone) return;
  curve_->addEpoch(p.trainLoss, p.heldOutLoss);
  log_->appendPlainText(QString("epoch %1%2  train %3  held-out %4  %5 samples/s  %6 left%7")
                            .arg(p.epoch)
                            .arg(p.epochs > 0 ? QString("/%1").arg(p.epochs) : QString())
                            .arg(loss(p.trainLoss), loss(p.heldOutLoss))
                            .arg(p.samplesPerSecond, 0, 'f', 0)
                            .arg(duration(p.secondsLeft), p.improved ? "  (saved)" : ""));
}

void TrainDialog::onFinished(const TrainResult& r) {
  modelPath_ = QString::fromStdString(r.modelPath);
  overallBar_->setValue(r.cancelled ? overallBar_->value() : 1000);
  result_->setText(
      QString("%1 after %2 epoch(s) in %3. The model is in <b>%4</b>; held-out loss %5.")
          .arg(r.cancelled ? "Cancelled" : "Finished")
          .arg(r.epochs)
          .arg(duration(clock_.elapsed() / 1000.0), modelPath_.toHtmlEscaped(), loss(r.bestHeldOutLoss)));
  setRunning(false);
}

void TrainDialog::onFailed(const QString& message) {
  result_->setText(
      QString("<span style='color:#b3261e'><b>%1</b></span> %2")
          .arg(job_->cancelRequested() ? "Cancelled:" : "Training failed:", message.toHtmlEscaped()));
  epochLabel_->setText("Epoch");
  setRunning(false);
}

}  // namespace flywheel::gui
