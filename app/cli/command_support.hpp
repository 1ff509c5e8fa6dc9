// What the long-running commands (record, run, eval, bench-policy) share: Ctrl-C and SIGTERM handling, the
// --fast check, the check of label text, whole-file writes, and the bus counters printed at the end.
#pragma once

#include <atomic>
#include <string>
#include <utility>
#include <vector>

#include "core/config.hpp"

namespace flywheel {
class Studio;
}

namespace flywheel::app {

// From now on SIGINT and SIGTERM set interruptRequested() instead of killing the process, so that the
// current take is saved: a service manager's SIGTERM ends a take exactly as Ctrl-C does.
void catchInterrupts();
const std::atomic<bool>& interruptRequested();
// The exit code of a command ended by a signal, as a shell reports it: 128 + the signal (130 for
// SIGINT, 143 for SIGTERM); `otherwise` when none arrived.
int interruptExitCode(int otherwise);

// False (with a message on stderr) when --fast was asked of a rig that drives hardware.
bool fastAllowed(const RigConfig& config, bool fast);
// False (with a message on stderr) when --supervisor was asked of a rig that drives hardware.
bool supervisorAllowed(const RigConfig& config, const std::string& supervisor);

// Label text from the command line as (option, value) pairs: false, with a message on stderr naming the
// option and the offending byte, when any value is not valid UTF-8. Checked before anything is created.
using LabelText = std::vector<std::pair<std::string, std::string>>;
bool labelTextIsUtf8(const LabelText& fields);

// Writes `text` to `path` and checks every step (write, flush to disk, close): empty on success, else
// the reason (e.g. "No space left on device"). A regular path is written atomically, through a
// temporary file beside it and a rename, so a failure leaves an existing file as it was; a device or
// pipe (/dev/stdout, /dev/full) is written in place. "-" is standard output.
std::string writeWholeFile(const std::string& path, const std::string& text);

// What each servo bus went through (Rig::health) and the ticks the loop lost: the first clue after an error.
void printBusCounters(Studio& studio);

}  // namespace flywheel::app
