// Single key presses from the terminal while a command runs (no Enter needed); inactive without a tty.
#pragma once

#include <termios.h>
#include <unistd.h>

namespace flywheel::app {

class TerminalKeys {
 public:
  TerminalKeys() : active_(isatty(STDIN_FILENO) != 0) {
    if (!active_) return;
    tcgetattr(STDIN_FILENO, &saved_);
    termios raw = saved_;
    raw.c_lflag &= static_cast<tcflag_t>(~(ICANON | ECHO));
    raw.c_cc[VMIN] = 0;
    raw.c_cc[VTIME] = 0;
    tcsetattr(STDIN_FILENO, TCSANOW, &raw);
  }
  ~TerminalKeys() {
    if (active_) tcsetattr(STDIN_FILENO, TCSANOW, &saved_);
  }
  TerminalKeys(const TerminalKeys&) = delete;
  TerminalKeys& operator=(const TerminalKeys&) = delete;

  bool active() const { return active_; }
  // The next key pressed, or 0 when none is waiting.
  char poll() const {
    char c = 0;
    if (!active_ || ::read(STDIN_FILENO, &c, 1) != 1) return 0;
    return c;
  }

 private:
  bool active_;
  termios saved_{};
};

}  // namespace flywheel::app
