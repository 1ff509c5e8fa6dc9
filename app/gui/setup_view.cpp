#include "app/gui/setup_view.hpp"

#include <yaml-cpp/yaml.h>

#include <QFile>
#include <QFileDialog>
#include <QGroupBox>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QMetaObject>
#include <QVBoxLayout>
#include <fstream>

#include "app/gui/camera_tile.hpp"
#include "devices/serial/serial_port.hpp"

namespace flywheel::gui {

namespace {

QTableWidget* makeTable(const QStringList& headers, QWidget* parent) {
  auto* table = new QTableWidget(0, static_cast<int>(headers.size()), parent);
  table->setHorizontalHeaderLabels(headers);
  table->horizontalHeader()->setStretchLastSection(true);
  table->verticalHeader()->setVisible(false);
  table->verticalHeader()->setDefaultSectionSize(26);
  table->setEditTriggers(QAbstractItemView::NoEditTriggers);
  table->setSelectionBehavior(QAbstractItemView::SelectRows);
  table->setSelectionMode(QAbstractItemView::SingleSelection);
  return table;
}

void setRow(QTableWidget* table, int row, const QStringList& cells) {
  for (int c = 0; c < cells.size(); ++c)
    table->setItem(row, c, new QTableWidgetItem(cells[c]));
}

QString q(const std::string& text) {
  return QString::fromStdString(text);
}

}  // namespace

SetupView::SetupView(const RigConfig& config, QWidget* parent) : QWidget(parent), config_(config) {
  buildUi();
  fillArms();
  refreshDevices();
  // Hot-plug: the watcher calls back on its own thread; the table is refreshed on ours.
  watcher_ = std::make_unique<UsbWatcher>([this](const UsbEvent& event) {
    QMetaObject::invokeMethod(this, "refreshDevices", Qt::QueuedConnection);
    QString text = QString("%1 %2").arg(event.arrived ? "Plugged in:" : "Removed:", q(event.description));
    QMetaObject::invokeMethod(
        this, [this, text] { Q_EMIT message(text); }, Qt::QueuedConnection);
  });
}

SetupView::~SetupView() {
  watcher_.reset();
}

void SetupView::buildUi() {
  auto* layout = new QVBoxLayout(this);
  auto* rigRow = new QHBoxLayout();
  rigLabel_ = new QLabel(QString("<b>Rig:</b> %1 — %2  <span style='color:gray'>(%3)</span>")
                             .arg(q(config_.name), q(config_.description), q(config_.sourcePath)),
                         this);
  auto* open = new QPushButton("Open rig…", this);
  auto* save = new QPushButton("Save rig as…", this);
  auto* apply = new QPushButton("Apply && reconnect", this);
  apply->setObjectName("applyButton");
  rigRow->addWidget(rigLabel_, 1);
  rigRow->addWidget(open);
  rigRow->addWidget(save);
  rigRow->addWidget(apply);
  layout->addLayout(rigRow);

  auto* devicesBox = new QGroupBox("Plugged in (updates as devices come and go)", this);
  auto* devicesLayout = new QVBoxLayout(devicesBox);
  devices_ = makeTable({"Device", "Kind", "Serial number", "Notes"}, devicesBox);
  devices_->setMaximumHeight(96);
  devicesLayout->addWidget(devices_);
  layout->addWidget(devicesBox);

  auto* armsBox = new QGroupBox("Arms: choose each arm's port, then Apply && reconnect", this);
  auto* armsLayout = new QVBoxLayout(armsBox);
  arms_ = makeTable({"Arm", "Role", "Bus", "Servo model", "Port", "State"}, armsBox);
  armsLayout->addWidget(arms_);
  auto* calibrate = new QPushButton("Calibrate selected arm…", armsBox);
  calibrate->setObjectName("calibrateButton");
  armsLayout->addWidget(calibrate, 0, Qt::AlignLeft);
  layout->addWidget(armsBox, 2);

  auto* camerasBox = new QGroupBox("Cameras", this);
  auto* camerasLayout = new QVBoxLayout(camerasBox);
  cameras_ = makeTable({"Camera", "Source", "Size", "fps", "State"}, camerasBox);
  camerasLayout->addWidget(cameras_);
  previewRow_ = new QWidget(camerasBox);
  new QHBoxLayout(previewRow_);
  camerasLayout->addWidget(previewRow_);
  layout->addWidget(camerasBox, 3);

  connect(open, &QPushButton::clicked, this, &SetupView::openRig);
  connect(save, &QPushButton::clicked, this, &SetupView::saveRig);
  connect(apply, &QPushButton::clicked, this,
          [this] { Q_EMIT applyRequested(q(editedRigText()), q(config_.sourcePath)); });
  connect(calibrate, &QPushButton::clicked, this, [this] {
    int row = arms_->currentRow();
    if (row < 0) return Q_EMIT message("Select an arm to calibrate first.");
    Q_EMIT calibrateRequested(arms_->item(row, 0)->text());
  });
}

void SetupView::refreshDevices() {
  const auto adapters = listSerialAdapters();
  const auto cameras = listVideoDevices();
  devices_->setRowCount(static_cast<int>(adapters.size() + cameras.size()));
  int row = 0;
  for (const SerialAdapter& a : adapters) {
    auto warning = SerialPort::latencyTimerWarning(a.ttyPath);
    setRow(devices_, row++,
           {q(a.ttyPath), q(a.kind + " (" + a.vendorId + ":" + a.productId + ")"), q(a.serial),
            warning ? "latency_timer above 1 ms: see flywheel devices" : ""});
  }
  for (const VideoDevice& v : cameras)
    setRow(devices_, row++, {q(v.path), "camera", "", q(v.name)});
  if (adapters.empty() && cameras.empty()) {
    devices_->setRowCount(1);
    setRow(devices_, 0,
           {"No USB-serial adapters or cameras are plugged in: plug one in, this list updates by itself"});
    devices_->setSpan(0, 0, 1, devices_->columnCount());
  } else {
    devices_->clearSpans();
  }
  // Keep the port choices in step with what is plugged in.
  for (std::size_t i = 0; i < portBoxes_.size(); ++i) {
    QComboBox* box = portBoxes_[i];
    const QString current = box->currentText();
    box->clear();
    box->addItem(current);
    box->addItem(nameOf(PortKind::Emulator));
    for (const SerialAdapter& a : adapters) {
      if (!a.serial.empty()) box->addItem(q(a.serial));
      box->addItem(q(a.ttyPath));
    }
    box->setCurrentText(current);
  }
}

void SetupView::fillArms() {
  arms_->setRowCount(static_cast<int>(config_.arms.size()));
  portBoxes_.clear();
  for (std::size_t i = 0; i < config_.arms.size(); ++i) {
    const ArmConfig& arm = config_.arms[i];
    const int row = static_cast<int>(i);
    setRow(arms_, row,
           {q(arm.name), nameOf(arm.role), nameOf(arm.bus), q(arm.model.empty() ? "simulated" : arm.model),
            "", "…"});
    const bool simulated = arm.bus == BusKind::Sim;
    auto* port = new QComboBox(arms_);
    port->setEditable(!simulated);
    port->setEnabled(!simulated);
    port->addItem(simulated ? QString("(simulated)") : q(arm.port));
    arms_->setCellWidget(row, 4, port);
    portBoxes_.push_back(port);
  }
  cameras_->setRowCount(static_cast<int>(config_.cameras.size()));
  for (std::size_t i = 0; i < config_.cameras.size(); ++i) {
    const CameraConfig& cam = config_.cameras[i];
    setRow(cameras_, static_cast<int>(i),
           {q(cam.name), q(cam.source), QString("%1x%2").arg(cam.width).arg(cam.height),
            QString::number(cam.fps), "…"});
  }
  arms_->resizeColumnsToContents();
  cameras_->resizeColumnsToContents();
}

void SetupView::setPreviews(const std::vector<Camera*>& cameras) {
  for (Camera* camera : cameras) {
    auto* tile = new CameraTile(*camera, previewRow_);
    tile->setMinimumSize(160, 120);
    tile->setMaximumHeight(140);
    previewRow_->layout()->addWidget(tile);
    previews_.push_back(tile);
  }
}

void SetupView::refreshPreviews() {
  for (CameraTile* tile : previews_)
    tile->refresh();
}

void SetupView::showStates(const std::vector<std::string>& armStates,
                           const std::vector<std::string>& cameraStates) {
  auto show = [](QTableWidget* table, int column, const std::vector<std::string>& states) {
    for (std::size_t i = 0; i < states.size() && static_cast<int>(i) < table->rowCount(); ++i) {
      auto* item = new QTableWidgetItem(q(states[i]));
      item->setForeground(states[i].starts_with("connected") ? QColor(30, 130, 70) : QColor(190, 40, 40));
      item->setToolTip(q(states[i]));
      table->setItem(static_cast<int>(i), column, item);
    }
  };
  show(arms_, 5, armStates);
  show(cameras_, 4, cameraStates);
}

std::string SetupView::editedRigText() const {
  YAML::Node root = YAML::Load(config_.sourceText);
  for (std::size_t i = 0; i < portBoxes_.size() && i < root["arms"].size(); ++i)
    if (config_.arms[i].bus != BusKind::Sim)
      root["arms"][i]["port"] = portBoxes_[i]->currentText().toStdString();
  YAML::Emitter out;
  out << root;
  return std::string("# Saved by Flywheel Studio\n") + out.c_str() + "\n";
}

void SetupView::openRig() {
  QString path = QFileDialog::getOpenFileName(this, "Open rig", QString(), "Rig files (*.yaml *.yml)");
  if (path.isEmpty()) return;
  QFile file(path);
  if (!file.open(QIODevice::ReadOnly)) return Q_EMIT message("Cannot read " + path);
  Q_EMIT applyRequested(QString::fromUtf8(file.readAll()), path);
}

void SetupView::saveRig() {
  QString path =
      QFileDialog::getSaveFileName(this, "Save rig as", q(config_.name) + ".yaml", "Rig files (*.yaml)");
  if (path.isEmpty()) return;
  std::ofstream(path.toStdString()) << editedRigText();
  Q_EMIT message("Saved " + path);
}

}  // namespace flywheel::gui
