// What is plugged in: USB-serial adapters of the servo buses (with serial numbers mapped to their /dev/tty
// paths) and V4L2 cameras, read from sysfs; hot-plug events from libusb, or from polling where libusb has
// none.
#pragma once

#include <atomic>
#include <functional>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

namespace flywheel {

struct SerialAdapter {
  std::string ttyPath;      // /dev/ttyUSB0
  std::string vendorId;     // "0403"
  std::string productId;    // "6014"
  std::string serial;       // the adapter's serial number: stable across ports and reboots
  std::string kind;         // "FTDI FT232H", "CH340", ... or "USB serial"
  int latencyTimerMs = -1;  // FTDI only
};

struct VideoDevice {
  std::string path;  // /dev/video0
  std::string name;  // what the driver calls it
};

std::vector<SerialAdapter> listSerialAdapters(const std::string& sysfsRoot = "/sys",
                                              const std::string& devRoot = "/dev");
std::vector<VideoDevice> listVideoDevices(const std::string& sysfsRoot = "/sys",
                                          const std::string& devRoot = "/dev");
std::optional<SerialAdapter> findAdapterBySerial(const std::string& serial,
                                                 const std::string& sysfsRoot = "/sys",
                                                 const std::string& devRoot = "/dev");
std::optional<SerialAdapter> findAdapterByPath(const std::string& ttyPath,
                                               const std::string& sysfsRoot = "/sys",
                                               const std::string& devRoot = "/dev");
// "FTDI FT232H" for the adapters servo users have; empty for any other vendor:product.
std::string knownAdapterKind(const std::string& vendorId, const std::string& productId);

struct UsbEvent {
  bool arrived = true;
  std::string description;  // "0403:6014 FTDI FT232H serial FT8J0QI3 at /dev/ttyUSB0"
};

// Calls back (on its own thread) when adapters or cameras come and go. Uses libusb hot-plug where the
// system offers it, and compares sysfs listings once a second otherwise.
class UsbWatcher {
 public:
  explicit UsbWatcher(std::function<void(const UsbEvent&)> onEvent, std::string sysfsRoot = "/sys",
                      std::string devRoot = "/dev");
  ~UsbWatcher();
  bool usesLibusbHotplug() const { return libusbHotplug_; }

 private:
  void poll();
  std::set<std::string> snapshot() const;
  std::set<std::string> initial_;
  std::function<void(const UsbEvent&)> onEvent_;
  std::string sysfsRoot_, devRoot_;
  bool libusbHotplug_ = false;
  void* context_ = nullptr;
  int callbackHandle_ = 0;
  std::atomic<bool> stopping_{false};
  std::thread thread_;
};

std::string describe(const SerialAdapter& adapter);

}  // namespace flywheel
