#include "devices/rig.hpp"

#include "devices/sim/sim_devices.hpp"

namespace flywheel {

Rig::Rig(RigConfig config, const Clock& clock) : config_(std::move(config)) {
  if (!config_.isSimulated())
    throw DeviceError("rig '" + config_.name +
                      "': only simulated arms and cameras (bus: sim, source: sim) are "
                      "available in this build");
  sim_ = std::make_unique<sim::SimRig>(config_, clock);
  for (auto& arm : sim_->arms())
    arms_.push_back(arm.get());
  for (auto& camera : sim_->cameras())
    cameras_.push_back(camera.get());
}

Rig::~Rig() {
  disconnect();
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
}

std::vector<Camera*> Rig::cameras() const {
  return cameras_;
}

void Rig::refreshSimulatedCameras() {
  if (sim_) sim_->renderCamerasNow();
}

sim::SimWorld* Rig::simWorld() const {
  return sim_ ? &sim_->world() : nullptr;
}

}  // namespace flywheel
