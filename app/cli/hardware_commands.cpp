// `flywheel devices`, `flywheel emulate` and `flywheel calibrate`: the commands that deal with servo buses
// and USB hardware directly.

#include <atomic>
#include <chrono>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <sstream>
#include <thread>

#include "app/cli/commands.hpp"
#include "devices/rig.hpp"
#include "devices/serial/serial_port.hpp"
#include "devices/servo/servo_arm.hpp"
#include "devices/servo/servo_emulator.hpp"
#include "devices/usb/usb_discovery.hpp"

namespace flywheel::app {

namespace {

std::atomic<bool> stopRequested{false};
void onSignal(int) {
  stopRequested = true;
}

std::vector<std::uint8_t> parseIds(const std::string& text) {
  std::vector<std::uint8_t> ids;
  std::stringstream in(text);
  std::string item;
  while (std::getline(in, item, ',')) {
    auto dash = item.find('-');
    int first = std::stoi(item.substr(0, dash));
    int last = dash == std::string::npos ? first : std::stoi(item.substr(dash + 1));
    if (first < 0 || last > 252 || first > last)
      throw std::invalid_argument("servo ids must lie in 0..252: " + item);
    for (int id = first; id <= last; ++id)
      ids.push_back(static_cast<std::uint8_t>(id));
  }
  return ids;
}

}  // namespace

int runDevices(double watchSeconds) {
  auto adapters = listSerialAdapters();
  std::printf("USB-serial adapters (servo buses)\n");
  if (adapters.empty()) std::printf("  none found\n");
  for (const SerialAdapter& adapter : adapters) {
    std::printf("  %s\n", describe(adapter).c_str());
    if (auto warning = SerialPort::latencyTimerWarning(adapter.ttyPath))
      std::printf("    warning: %s\n", warning->c_str());
  }
  auto cameras = listVideoDevices();
  std::printf("Cameras\n");
  if (cameras.empty()) std::printf("  none found\n");
  for (const VideoDevice& camera : cameras)
    std::printf("  %s  %s\n", camera.path.c_str(), camera.name.c_str());
  if (watchSeconds <= 0.0) return 0;
  std::signal(SIGINT, onSignal);
  UsbWatcher watcher([](const UsbEvent& e) {
    std::printf("%s %s\n", e.arrived ? "plugged in:" : "removed:   ", e.description.c_str());
    std::fflush(stdout);
  });
  std::printf("Watching for %.0f s (%s)...\n", watchSeconds,
              watcher.usesLibusbHotplug() ? "libusb hot-plug" : "polling sysfs");
  std::fflush(stdout);
  auto until = std::chrono::steady_clock::now() + std::chrono::duration<double>(watchSeconds);
  while (!stopRequested && std::chrono::steady_clock::now() < until)
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  return 0;
}

int runEmulate(const EmulateOptions& options) {
  const ServoModel* model = findServoModel(options.model);
  if (!model) {
    std::cerr << "flywheel: unknown servo model '" << options.model << "'\n";
    return 2;
  }
  FaultInjection faults{options.dropRate, options.corruptRate, options.garbageRate, 1};
  ServoEmulator emulator(model->protocol, *model, parseIds(options.ids), faults);
  if (options.hand) emulator.setHandMotion(ServoEmulator::swayingHand(model->resolution));
  std::string path = emulator.start(options.link);
  std::printf("Emulating %s servos (%s protocol, ids %s) on %s\n", model->name.c_str(),
              nameOf(model->protocol), options.ids.c_str(), path.c_str());
  std::printf(
      "Replies are paced at the line's baud rate and each servo's Return Delay Time (factory 500 us).\n");
  std::printf("Point a rig file's port at it; Ctrl-C stops.\n");
  std::fflush(stdout);
  std::signal(SIGINT, onSignal);
  std::signal(SIGTERM, onSignal);
  auto until = std::chrono::steady_clock::now() +
               std::chrono::duration<double>(options.seconds > 0 ? options.seconds : 1e9);
  while (!stopRequested && std::chrono::steady_clock::now() < until)
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  EmulatorStats stats = emulator.stats();
  std::printf(
      "Answered %llu requests with %llu replies (%llu dropped, %llu corrupted on purpose); %llu requests "
      "collided with replies still on the line and went unanswered\n",
      static_cast<unsigned long long>(stats.requests), static_cast<unsigned long long>(stats.replies),
      static_cast<unsigned long long>(stats.dropped), static_cast<unsigned long long>(stats.corrupted),
      static_cast<unsigned long long>(stats.collisions));
  return 0;
}

int runCalibrate(const CalibrateOptions& options) {
  RigConfig config = loadRigConfig(options.rig);
  const ArmConfig* armConfig = config.findArm(options.arm);
  if (!armConfig) {
    std::cerr << "flywheel: rig '" << config.name << "' has no arm named '" << options.arm << "'\n";
    return 2;
  }
  if (armConfig->bus == BusKind::Sim) {
    std::cerr << "flywheel: arm '" << options.arm << "' is simulated and needs no calibration\n";
    return 2;
  }
  SteadyClock clock;
  Rig rig(config, clock);
  ServoArm& arm = *rig.servoArm(options.arm);
  const std::string path = rig.calibrationPathFor(options.arm);
  if (std::filesystem::exists(path) && !options.force) {
    std::cerr << "flywheel: " << path << " already holds a calibration for '" << options.arm
              << "'; pass --force to replace it (the old file is kept as a .bak copy)\n";
    return 1;
  }
  arm.connect();
  arm.setTorque(false);
  CalibrationRecorder recorder(*armConfig);

  std::printf("Calibrating '%s' on %s. Torque is off: move the arm by hand.\n", options.arm.c_str(),
              arm.bus().portName().c_str());
  std::printf("1. Put every joint in the middle of its range (gripper closed), then press Enter.\n");
  std::fflush(stdout);
  std::string line;
  std::getline(std::cin, line);
  recorder.setHome(arm.readRawPositions());

  std::printf("2. Move every joint through its whole range, gripper fully open and closed%s.\n",
              options.rangeSeconds > 0 ? "" : ", then press Enter");
  std::fflush(stdout);
  std::atomic<bool> done{false};
  std::thread waiter;
  if (options.rangeSeconds <= 0)
    waiter = std::thread([&] {
      std::getline(std::cin, line);
      done = true;
    });
  auto until = std::chrono::steady_clock::now() + std::chrono::duration<double>(options.rangeSeconds);
  while (!done && (options.rangeSeconds <= 0 || std::chrono::steady_clock::now() < until)) {
    recorder.observe(arm.readRawPositions());
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  if (waiter.joinable()) waiter.join();

  ArmCalibration calibration{options.arm, "", arm.model().name, recorder.finish()};
  calibration.adapter = std::filesystem::path(path).stem().string();
  saveCalibration(calibration, path, options.force);
  std::printf("Saved %s\n", path.c_str());
  for (const JointCalibration& j : calibration.joints)
    std::printf("  %-14s home %5d  range %5d .. %5d\n", j.name.c_str(), j.home, j.min, j.max);
  return 0;
}

}  // namespace flywheel::app
