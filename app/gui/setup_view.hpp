// Setting a rig up: the rig file (open, save), the USB adapters and cameras plugged in (updated as they
// come and go), which port each arm uses, each device's connection state, and calibration.
#pragma once

#include <QComboBox>
#include <QLabel>
#include <QPushButton>
#include <QTableWidget>
#include <QWidget>
#include <memory>

#include "core/config.hpp"
#include "core/hardware.hpp"
#include "devices/usb/usb_discovery.hpp"

namespace flywheel::gui {

class SetupView : public QWidget {
  Q_OBJECT
 public:
  explicit SetupView(const RigConfig& config, QWidget* parent = nullptr);
  ~SetupView() override;

  // What each arm and camera is doing: "connected", or the error that stopped it.
  void showStates(const std::vector<std::string>& armStates, const std::vector<std::string>& cameraStates);
  // Small live previews of the rig's cameras; refreshPreviews() at screen rate while the view shows.
  void setPreviews(const std::vector<Camera*>& cameras);
  void refreshPreviews();
  // The rig file's text with the ports chosen in the table.
  std::string editedRigText() const;
  QTableWidget* devicesTable() const { return devices_; }
  QTableWidget* armsTable() const { return arms_; }

 Q_SIGNALS:
  void applyRequested(QString rigText, QString displayName);
  void calibrateRequested(QString arm);
  void message(const QString& text);

 public Q_SLOTS:
  void refreshDevices();

 private:
  void buildUi();
  void fillArms();
  void openRig();
  void saveRig();

  RigConfig config_;
  std::unique_ptr<UsbWatcher> watcher_;
  QLabel* rigLabel_ = nullptr;
  QTableWidget* devices_ = nullptr;
  QTableWidget* arms_ = nullptr;
  QTableWidget* cameras_ = nullptr;
  std::vector<QComboBox*> portBoxes_;
  QWidget* previewRow_ = nullptr;
  std::vector<class CameraTile*> previews_;
};

}  // namespace flywheel::gui
