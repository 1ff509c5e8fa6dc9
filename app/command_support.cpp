#include "app/command_support.hpp"

#include <QCoreApplication>
#include <csignal>
#include <iostream>

namespace flywheel::app {

namespace {
std::atomic<bool> interrupted{false};

void onInterrupt(int) {
  interrupted = true;
}
}  // namespace

void catchInterrupts() {
  std::signal(SIGINT, onInterrupt);
  std::signal(SIGTERM, onInterrupt);
}

const std::atomic<bool>& interruptRequested() {
  return interrupted;
}

bool fastAllowed(const RigConfig& config, bool fast) {
  if (!fast || config.isSimulated()) return true;
  std::cerr << "flywheel: --fast needs a simulated rig; '" << config.name << "' drives hardware\n";
  return false;
}

std::unique_ptr<QCoreApplication> qtApplicationIfNone() {
  static int argc = 1;
  static char name[] = "flywheel";
  static char* argv[] = {name, nullptr};
  if (QCoreApplication::instance()) return nullptr;
  return std::make_unique<QCoreApplication>(argc, argv);
}

}  // namespace flywheel::app
