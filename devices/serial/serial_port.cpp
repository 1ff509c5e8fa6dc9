#include "devices/serial/serial_port.hpp"

#include <asm/termbits.h>  // termios2 and BOTHER: arbitrary baud rates
#include <errno.h>
#include <fcntl.h>
#include <linux/serial.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <fstream>

namespace flywheel {

namespace {

std::string systemError(const std::string& what) {
  return what + ": " + std::strerror(errno);
}

void configureRaw(int fd, int baud, const std::string& path) {
  termios2 tio{};
  if (ioctl(fd, TCGETS2, &tio) != 0) throw SerialError(systemError(path + ": not a serial port"));
  tio.c_iflag = 0;  // no input processing, no flow control, no CR/LF translation
  tio.c_oflag = 0;
  tio.c_lflag = 0;  // no echo, no canonical lines, no signals
  tio.c_cflag = CS8 | CREAD | CLOCAL | BOTHER;
  tio.c_ispeed = tio.c_ospeed = static_cast<speed_t>(baud);
  tio.c_cc[VMIN] = 0;
  tio.c_cc[VTIME] = 0;
  if (ioctl(fd, TCSETS2, &tio) != 0)
    throw SerialError(systemError(path + ": cannot set " + std::to_string(baud) + " baud"));
}

void requestLowLatency(int fd) {
  serial_struct serial{};
  if (ioctl(fd, TIOCGSERIAL, &serial) == 0) {  // real UARTs and USB adapters; a pseudo-terminal has none
    serial.flags |= ASYNC_LOW_LATENCY;
    ioctl(fd, TIOCSSERIAL, &serial);
  }
}

bool isDisconnectError(int error) {
  return error == EIO || error == ENXIO || error == ENODEV || error == EBADF;
}

}  // namespace

SerialPort::~SerialPort() {
  close();
}

void SerialPort::open(const std::string& path, int baud) {
  close();
  int fd = ::open(path.c_str(), O_RDWR | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT) throw SerialDisconnected(path + ": no such port (is the adapter plugged in?)");
    if (errno == EACCES)
      throw SerialError(
          path + ": permission denied (add yourself to the 'dialout' group: sudo usermod -aG dialout $USER)");
    throw SerialError(systemError(path + ": cannot open"));
  }
  try {
    configureRaw(fd, baud, path);
  } catch (...) {
    ::close(fd);
    throw;
  }
  requestLowLatency(fd);
  fd_ = fd;
  path_ = path;
  discardInput();
}

void SerialPort::close() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
}

void SerialPort::write(const std::vector<std::uint8_t>& bytes) {
  if (fd_ < 0) throw SerialDisconnected(path_ + ": adapter disconnected (not open)");
  std::size_t sent = 0;
  while (sent < bytes.size()) {
    ssize_t n = ::write(fd_, bytes.data() + sent, bytes.size() - sent);
    if (n > 0) {
      sent += static_cast<std::size_t>(n);
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno == EAGAIN) {
      pollfd p{fd_, POLLOUT, 0};
      ::poll(&p, 1, 10);
      continue;
    }
    if (isDisconnectError(errno)) throw SerialDisconnected(path_ + ": adapter disconnected");
    throw SerialError(systemError(path_ + ": write failed"));
  }
}

std::size_t SerialPort::readUntil(std::vector<std::uint8_t>& into, std::size_t wanted,
                                  Clock::time_point deadline) {
  if (fd_ < 0) throw SerialDisconnected(path_ + ": adapter disconnected (not open)");
  std::size_t got = 0;
  std::uint8_t buffer[512];
  while (got < wanted) {
    auto left = std::chrono::duration_cast<std::chrono::microseconds>(deadline - Clock::now()).count();
    if (left <= 0) break;
    pollfd p{fd_, POLLIN, 0};
    timespec timeout{static_cast<time_t>(left / 1000000), static_cast<long>(left % 1000000) * 1000};
    int ready = ::ppoll(&p, 1, &timeout, nullptr);
    if (ready < 0 && errno == EINTR) continue;
    if (ready < 0) throw SerialError(systemError(path_ + ": poll failed"));
    if (ready == 0) break;
    if (p.revents & (POLLHUP | POLLERR | POLLNVAL) && !(p.revents & POLLIN))
      throw SerialDisconnected(path_ + ": adapter disconnected");
    ssize_t n = ::read(fd_, buffer, sizeof buffer);  // all that is there: one syscall per burst, not per byte
    if (n > 0) {
      into.insert(into.end(), buffer, buffer + n);
      got += static_cast<std::size_t>(n);
      lastReceived_ = Clock::now();
    } else if (n == 0 || isDisconnectError(errno)) {
      throw SerialDisconnected(path_ + ": adapter disconnected");
    } else if (errno != EAGAIN && errno != EINTR) {
      throw SerialError(systemError(path_ + ": read failed"));
    }
  }
  return got;
}

void SerialPort::discardInput() {
  if (fd_ < 0) return;
  ioctl(fd_, TCFLSH, TCIFLUSH);
  std::uint8_t buffer[256];
  while (::read(fd_, buffer, sizeof buffer) > 0) {
  }
}

std::size_t SerialPort::drainUntilQuiet(Clock::time_point deadline, Clock::duration quiet,
                                        Clock::time_point limit) {
  std::vector<std::uint8_t> dropped;
  while (true) {
    // Bytes that came while this thread was not running are recent: take them before judging the silence.
    takeWaiting(dropped);
    const auto until = std::min(limit, std::max(deadline, lastReceived_ + quiet));
    if (Clock::now() >= until) break;
    readUntil(dropped, 1, until);
  }
  return dropped.size();
}

std::size_t SerialPort::takeWaiting(std::vector<std::uint8_t>& into) {
  if (fd_ < 0) throw SerialDisconnected(path_ + ": adapter disconnected (not open)");
  std::uint8_t buffer[512];
  std::size_t got = 0;
  for (ssize_t n; (n = ::read(fd_, buffer, sizeof buffer)) > 0; got += static_cast<std::size_t>(n))
    into.insert(into.end(), buffer, buffer + n);  // a read error is left to the next readUntil to report
  if (got > 0) lastReceived_ = Clock::now();
  return got;
}

int SerialPort::lineBaud(int fd) {
  termios2 tio{};
  if (fd < 0 || ioctl(fd, TCGETS2, &tio) != 0) return 0;
  return static_cast<int>(tio.c_ospeed);  // kept by the kernel for standard rates and BOTHER alike
}

std::optional<std::string> SerialPort::latencyTimerWarning(const std::string& path,
                                                           const std::string& sysfsRoot) {
  namespace fs = std::filesystem;
  std::error_code error;
  std::string tty = fs::path(fs::canonical(path, error)).filename().string();
  if (error) tty = fs::path(path).filename().string();
  const fs::path timer = fs::path(sysfsRoot) / "bus/usb-serial/devices" / tty / "latency_timer";
  std::ifstream in(timer);
  int milliseconds = 0;
  if (!(in >> milliseconds) || milliseconds <= 1) return std::nullopt;
  return path + ": the FTDI adapter's latency_timer is " + std::to_string(milliseconds) +
         " ms, which delays every servo reply. Fix it now with\n  echo 1 | sudo tee " + timer.string() +
         "\nand for good with a udev rule, e.g. in /etc/udev/rules.d/99-ftdi-latency.rules:\n"
         "  ACTION==\"add\", SUBSYSTEM==\"usb-serial\", DRIVER==\"ftdi_sio\", ATTR{latency_timer}=\"1\"";
}

}  // namespace flywheel
