#include "devices/rig.hpp"

#include <cmath>
#include <filesystem>
#include <map>
#include <numbers>

#include "devices/camera/opencv_camera.hpp"
#include "devices/serial/serial_port.hpp"
#include "devices/servo/servo_arm.hpp"
#include "devices/servo/servo_emulator.hpp"
#include "devices/sim/sim_devices.hpp"
#include "devices/usb/usb_discovery.hpp"

namespace flywheel {

namespace {

// "emulator", a device path, or a USB adapter's serial number. `adapterKey` names the calibration file: the
// adapter's serial number, or the port's name when it has none (`bySerial` false).
std::string resolvePort(const ArmConfig& arm, std::string& adapterKey, bool& bySerial) {
  if (arm.portKind() == PortKind::DevicePath) {
    auto adapter = findAdapterByPath(arm.port);
    bySerial = adapter && !adapter->serial.empty();
    adapterKey = bySerial ? adapter->serial : std::filesystem::path(arm.port).filename().string();
    return arm.port;
  }
  auto adapter = findAdapterBySerial(arm.port);
  if (!adapter)
    throw DeviceError("arm '" + arm.name + "': no USB adapter with serial number '" + arm.port +
                      "' is plugged in (flywheel devices lists the adapters present)");
  adapterKey = adapter->serial;
  bySerial = true;
  return adapter->ttyPath;
}

}  // namespace

Rig::Rig(RigConfig config, const Clock& clock) : config_(std::move(config)) {
  if (config_.arms.front().bus != BusKind::Sim) {
    buildServoArms();
  } else {
    sim_ = std::make_unique<sim::SimRig>(config_, clock);
    for (auto& arm : sim_->arms())
      arms_.push_back(arm.get());
  }
  std::size_t simulated = 0;
  for (const CameraConfig& camera : config_.cameras) {  // in the rig file's order, which episodes keep
    if (camera.sourceKind() == CameraSourceKind::Simulated) {
      cameras_.push_back(sim_->cameras().at(simulated++).get());
    } else {
      openCvCameras_.push_back(std::make_unique<OpenCvCamera>(camera, clock));
      cameras_.push_back(openCvCameras_.back().get());
    }
  }
}

void Rig::buildServoArms() {
  std::map<std::string, std::shared_ptr<ServoBus>> buses;  // arms on one port share its bus
  for (const ArmConfig& arm : config_.arms) {
    const ServoModel* model = findServoModel(arm.model);
    if (!model) throw DeviceError("arm '" + arm.name + "': unknown servo model '" + arm.model + "'");
    const BusProtocol protocol =
        arm.bus == BusKind::Dynamixel ? BusProtocol::Dynamixel : BusProtocol::Feetech;
    if (model->protocol != protocol)
      throw DeviceError("arm '" + arm.name + "': a " + arm.model + " does not speak the " + nameOf(arm.bus) +
                        " protocol");
    std::string adapterKey, path;
    const bool emulated = arm.portKind() == PortKind::Emulator;
    if (emulated) {
      std::vector<std::uint8_t> ids;
      for (const JointConfig& joint : arm.joints)
        ids.push_back(static_cast<std::uint8_t>(joint.id));
      auto emulator = std::make_unique<ServoEmulator>(protocol, *model, ids);
      // An emulated leader has no hand on it: it sways, so teleoperation shows real motion.
      if (arm.role == ArmRole::Leader) emulator->setHandMotion(ServoEmulator::swayingHand(model->resolution));
      path = emulator->start();
      adapterKey = "emulator";
      emulators_.push_back(std::move(emulator));
    } else {
      bool bySerial = false;
      path = resolvePort(arm, adapterKey, bySerial);
      if (!bySerial)
        warnings_.push_back("arm '" + arm.name + "' on " + arm.port +
                            ": the port has no USB serial number, so its calibration is keyed by the port "
                            "name '" +
                            adapterKey + "', which can change when adapters are plugged in another order");
    }
    auto& bus = buses[path];
    if (!bus) {
      bus = std::make_shared<ServoBus>(protocol, path, arm.baud);
      if (auto warning = SerialPort::latencyTimerWarning(path)) warnings_.push_back(*warning);
    }
    calibrationPaths_[arm.name] = calibrationPath(adapterKey, arm.name);
    auto calibration = loadCalibration(calibrationPaths_[arm.name]);
    // An emulated arm needs none; a real one without its own would be driven about a guessed home.
    if (!calibration && !emulated)
      warnings_.push_back("arm '" + arm.name + "' on " + arm.port + ": not calibrated (no " +
                          calibrationPaths_[arm.name] +
                          "); raw 2048 is taken as home and the whole turn as the range: run flywheel "
                          "calibrate --rig <rig file> --arm " +
                          arm.name);
    servoArms_.push_back(std::make_unique<ServoArm>(
        arm, *model, bus, calibration ? *calibration : ServoArm::defaultCalibration(arm, *model)));
    arms_.push_back(servoArms_.back().get());
  }
}

Rig::~Rig() {
  disconnect();
  openCvCameras_.clear();
  servoArms_.clear();  // before the emulators they talk to
  emulators_.clear();
}

RigDevices Rig::devices() const {
  RigDevices devices;
  for (std::size_t i = 0; i < config_.arms.size(); ++i)
    (config_.arms[i].role == ArmRole::Leader ? devices.leaders : devices.followers).push_back(arms_[i]);
  auto indexIn = [](const std::vector<Arm*>& list, const std::string& name) {
    for (std::size_t i = 0; i < list.size(); ++i)
      if (list[i]->name() == name) return i;
    return list.size();
  };
  for (const PairConfig& pair : config_.pairs)
    devices.pairs.emplace_back(indexIn(devices.leaders, pair.leader),
                               indexIn(devices.followers, pair.follower));
  devices.cameras = cameras_;
  devices.simulation = sim_.get();
  return devices;
}

ServoEmulator* Rig::emulatorFor(const std::string& armName) const {
  std::size_t emulated = 0;
  for (const ArmConfig& arm : config_.arms) {
    if (arm.portKind() != PortKind::Emulator) continue;
    if (arm.name == armName) return emulators_.at(emulated).get();
    ++emulated;
  }
  return nullptr;
}

void Rig::connect() {
  for (std::size_t i = 0; i < arms_.size(); ++i) {
    arms_[i]->connect();
    arms_[i]->setTorque(config_.arms[i].role == ArmRole::Follower);
  }
  for (Camera* camera : cameras_)
    camera->open();
}

void Rig::disconnect() {
  for (Camera* camera : cameras_)
    camera->close();
  for (Arm* arm : arms_)
    arm->disconnect();
}

RigHealth Rig::health() const {
  RigHealth health;
  for (Arm* arm : arms_) {
    ArmHealth& a = health.arms.emplace_back(ArmHealth{arm->name(), arm->isConnected(), std::nullopt});
    if (ServoArm* servo = servoArm(a.name))
      a.bus = BusHealth{servo->bus().portName(), servo->bus().counters()};
  }
  for (const Camera* camera : cameras_)
    health.cameras.push_back({camera->name(), camera->measuredFps(), camera->error()});
  return health;
}

std::uint64_t RigHealth::busErrors() const {
  std::uint64_t errors = 0;
  for (const ArmHealth& arm : arms)
    if (arm.bus) errors += arm.bus->errors();
  return errors;
}

std::string describeBus(const ArmHealth& arm) {
  if (!arm.bus) return "";
  const BusCounters& c = arm.bus->counters;
  std::string text = "bus of '" + arm.name + "' (" + arm.bus->port + "): " + std::to_string(c.transactions) +
                     " transactions, " + std::to_string(c.timeouts) + " timeouts, " +
                     std::to_string(c.corruptReplies) + " corrupt replies, " + std::to_string(c.retries) +
                     " retries, " + std::to_string(c.failures) + " failed";
  if (!c.lastError.empty()) text += "; last error: " + c.lastError;
  return text;
}

std::vector<Camera*> Rig::cameras() const {
  return cameras_;
}

void Rig::refreshSimulatedCameras() {
  if (sim_) sim_->renderCamerasNow();
}

ServoArm* Rig::servoArm(const std::string& armName) const {
  for (const auto& arm : servoArms_)
    if (arm->name() == armName) return arm.get();
  return nullptr;
}

std::string Rig::calibrationPathFor(const std::string& armName) const {
  auto it = calibrationPaths_.find(armName);
  return it == calibrationPaths_.end() ? "" : it->second;
}

sim::SimWorld* Rig::simWorld() const {
  return sim_ ? &sim_->world() : nullptr;
}

}  // namespace flywheel
