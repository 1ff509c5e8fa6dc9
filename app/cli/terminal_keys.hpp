// Single key presses from the terminal while a command runs (no Enter needed); inactive without a tty.
//
// Only a process in the terminal's foreground process group may touch it: a background job
// (`flywheel record ... &` from an interactive shell) that changed the terminal mode or read from it would
// be stopped by SIGTTOU or SIGTTIN, and a stopped process does not act on SIGTERM. So keys are read only
// while in the foreground, and the mode is restored with SIGTTOU ignored.
#pragma once

#include <termios.h>
#include <unistd.h>
#include <csignal>

namespace flywheel::app {

class TerminalKeys {
 public:
  TerminalKeys() : active_(inForeground()) {
    if (!active_) return;
    tcgetattr(STDIN_FILENO, &saved_);
    termios raw = saved_;
    raw.c_lflag &= static_cast<tcflag_t>(~(ICANON | ECHO));
    raw.c_cc[VMIN] = 0;
    raw.c_cc[VTIME] = 0;
    setMode(raw);
  }
  ~TerminalKeys() {
    if (active_) setMode(saved_);
  }
  TerminalKeys(const TerminalKeys&) = delete;
  TerminalKeys& operator=(const TerminalKeys&) = delete;

  bool active() const { return active_; }
  // The next key pressed, or 0 when none is waiting (or the job was moved to the background).
  char poll() const {
    char c = 0;
    if (!active_ || !inForeground() || ::read(STDIN_FILENO, &c, 1) != 1) return 0;
    return c;
  }

 private:
  static bool inForeground() { return isatty(STDIN_FILENO) != 0 && tcgetpgrp(STDIN_FILENO) == getpgrp(); }
  // With SIGTTOU ignored, a job moved to the background in between is not stopped by this.
  static void setMode(const termios& mode) {
    struct sigaction ignore {
    }, previous{};
    ignore.sa_handler = SIG_IGN;
    sigaction(SIGTTOU, &ignore, &previous);
    tcsetattr(STDIN_FILENO, TCSANOW, &mode);
    sigaction(SIGTTOU, &previous, nullptr);
  }

  bool active_;
  termios saved_{};
};

}  // namespace flywheel::app
