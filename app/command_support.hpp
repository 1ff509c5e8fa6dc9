// What the long-running commands (record, run, bench-policy) share: Ctrl-C handling, the --fast check,
// and the Qt application object the openpi client needs.
#pragma once

#include <QCoreApplication>
#include <atomic>
#include <memory>

#include "core/config.hpp"

namespace flywheel::app {

// From now on SIGINT and SIGTERM set interruptRequested() instead of killing the process, so that the
// current take is saved.
void catchInterrupts();
const std::atomic<bool>& interruptRequested();

// False (with a message on stderr) when --fast was asked of a rig that drives hardware.
bool fastAllowed(const RigConfig& config, bool fast);

// The openpi client's socket runs a Qt event loop on its own thread, which needs an application object:
// one is made when none exists, and lives as long as the caller holds it.
std::unique_ptr<QCoreApplication> qtApplicationIfNone();

}  // namespace flywheel::app
