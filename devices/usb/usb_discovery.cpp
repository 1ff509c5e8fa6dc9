#include "devices/usb/usb_discovery.hpp"

#include <libusb-1.0/libusb.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>

namespace flywheel {

namespace fs = std::filesystem;

namespace {

std::string readLine(const fs::path& file) {
  std::ifstream in(file);
  std::string line;
  std::getline(in, line);
  return line;
}

// The USB device directory (holding idVendor) above a tty's interface directory.
std::optional<fs::path> usbDeviceOf(const fs::path& ttyClassEntry) {
  std::error_code error;
  fs::path dir = fs::canonical(ttyClassEntry / "device", error);
  if (error) return std::nullopt;
  for (int up = 0; up < 4 && !dir.empty(); ++up, dir = dir.parent_path())
    if (fs::exists(dir / "idVendor")) return dir;
  return std::nullopt;
}

}  // namespace

std::string knownAdapterKind(const std::string& vendorId, const std::string& productId) {
  const std::string id = vendorId + ":" + productId;
  if (id == "0403:6014") return "FTDI FT232H";
  if (id == "0403:6001") return "FTDI FT232R";
  if (id == "1a86:7523") return "CH340";
  if (id == "1a86:55d3") return "CH343";
  if (id == "10c4:ea60") return "CP210x";
  return "";
}

std::vector<SerialAdapter> listSerialAdapters(const std::string& sysfsRoot, const std::string& devRoot) {
  std::vector<SerialAdapter> adapters;
  std::error_code error;
  for (const auto& entry : fs::directory_iterator(fs::path(sysfsRoot) / "class/tty", error)) {
    const std::string name = entry.path().filename().string();
    if (!name.starts_with("ttyUSB") && !name.starts_with("ttyACM")) continue;
    auto device = usbDeviceOf(entry.path());
    if (!device) continue;
    SerialAdapter adapter;
    adapter.ttyPath = (fs::path(devRoot) / name).string();
    adapter.vendorId = readLine(*device / "idVendor");
    adapter.productId = readLine(*device / "idProduct");
    adapter.serial = readLine(*device / "serial");
    adapter.kind = knownAdapterKind(adapter.vendorId, adapter.productId);
    if (adapter.kind.empty()) adapter.kind = "USB serial";
    std::ifstream timer(fs::path(sysfsRoot) / "bus/usb-serial/devices" / name / "latency_timer");
    if (!(timer >> adapter.latencyTimerMs)) adapter.latencyTimerMs = -1;
    adapters.push_back(adapter);
  }
  std::sort(adapters.begin(), adapters.end(),
            [](const auto& a, const auto& b) { return a.ttyPath < b.ttyPath; });
  return adapters;
}

std::vector<VideoDevice> listVideoDevices(const std::string& sysfsRoot, const std::string& devRoot) {
  std::vector<VideoDevice> cameras;
  std::error_code error;
  for (const auto& entry : fs::directory_iterator(fs::path(sysfsRoot) / "class/video4linux", error)) {
    const std::string name = entry.path().filename().string();
    if (!name.starts_with("video")) continue;
    cameras.push_back({(fs::path(devRoot) / name).string(), readLine(entry.path() / "name")});
  }
  std::sort(cameras.begin(), cameras.end(), [](const auto& a, const auto& b) { return a.path < b.path; });
  return cameras;
}

std::optional<SerialAdapter> findAdapterBySerial(const std::string& serial, const std::string& sysfsRoot,
                                                 const std::string& devRoot) {
  for (const SerialAdapter& adapter : listSerialAdapters(sysfsRoot, devRoot))
    if (adapter.serial == serial) return adapter;
  return std::nullopt;
}

std::optional<SerialAdapter> findAdapterByPath(const std::string& ttyPath, const std::string& sysfsRoot,
                                               const std::string& devRoot) {
  std::error_code error;
  const std::string name = fs::canonical(ttyPath, error).filename().string();
  for (const SerialAdapter& adapter : listSerialAdapters(sysfsRoot, devRoot))
    if (fs::path(adapter.ttyPath).filename() == (error ? fs::path(ttyPath).filename().string() : name))
      return adapter;
  return std::nullopt;
}

std::string describe(const SerialAdapter& a) {
  return a.vendorId + ":" + a.productId + " " + a.kind + " serial " +
         (a.serial.empty() ? "(none)" : a.serial) + " at " + a.ttyPath;
}

namespace {
int LIBUSB_CALL onHotplug(libusb_context*, libusb_device* device, libusb_hotplug_event event, void* self) {
  libusb_device_descriptor descriptor{};
  libusb_get_device_descriptor(device, &descriptor);
  char id[16];
  std::snprintf(id, sizeof id, "%04x:%04x", descriptor.idVendor, descriptor.idProduct);
  std::string kind = knownAdapterKind(std::string(id).substr(0, 4), std::string(id).substr(5));
  UsbEvent e{event == LIBUSB_HOTPLUG_EVENT_DEVICE_ARRIVED,
             std::string(id) + (kind.empty() ? "" : " " + kind)};
  (*static_cast<std::function<void(const UsbEvent&)>*>(self))(e);
  return 0;
}
}  // namespace

UsbWatcher::UsbWatcher(std::function<void(const UsbEvent&)> onEvent, std::string sysfsRoot,
                       std::string devRoot)
    : onEvent_(std::move(onEvent)), sysfsRoot_(std::move(sysfsRoot)), devRoot_(std::move(devRoot)) {
  libusb_context* context = nullptr;
  if (sysfsRoot_ == "/sys" && libusb_init(&context) == 0) {
    if (libusb_has_capability(LIBUSB_CAP_HAS_HOTPLUG) &&
        libusb_hotplug_register_callback(
            context,
            static_cast<libusb_hotplug_event>(LIBUSB_HOTPLUG_EVENT_DEVICE_ARRIVED |
                                              LIBUSB_HOTPLUG_EVENT_DEVICE_LEFT),
            LIBUSB_HOTPLUG_NO_FLAGS, LIBUSB_HOTPLUG_MATCH_ANY, LIBUSB_HOTPLUG_MATCH_ANY,
            LIBUSB_HOTPLUG_MATCH_ANY, onHotplug, &onEvent_, &callbackHandle_) == 0) {
      libusbHotplug_ = true;
      context_ = context;
    } else {
      libusb_exit(context);
    }
  }
  initial_ = snapshot();  // before the thread starts: what is plugged in from now on is news
  thread_ = std::thread([this] { poll(); });
}

UsbWatcher::~UsbWatcher() {
  stopping_ = true;
  if (thread_.joinable()) thread_.join();
  if (context_) {
    auto* context = static_cast<libusb_context*>(context_);
    libusb_hotplug_deregister_callback(context, callbackHandle_);
    libusb_exit(context);
  }
}

// libusb's events when it has them; the sysfs listings compared every second in any case, which also
// reports the tty path and serial number that libusb does not know.
std::set<std::string> UsbWatcher::snapshot() const {
  std::set<std::string> present;
  for (const auto& a : listSerialAdapters(sysfsRoot_, devRoot_))
    present.insert(describe(a));
  for (const auto& v : listVideoDevices(sysfsRoot_, devRoot_))
    present.insert("camera " + v.name + " at " + v.path);
  return present;
}

void UsbWatcher::poll() {
  std::set<std::string> known = std::move(initial_);
  auto lastScan = std::chrono::steady_clock::now();
  while (!stopping_) {
    if (context_) {
      timeval timeout{0, 100000};
      libusb_handle_events_timeout_completed(static_cast<libusb_context*>(context_), &timeout, nullptr);
    } else {
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    if (std::chrono::steady_clock::now() - lastScan < std::chrono::seconds(1)) continue;
    lastScan = std::chrono::steady_clock::now();
    std::set<std::string> now = snapshot();
    for (const auto& item : now)
      if (!known.count(item)) onEvent_({true, item});
    for (const auto& item : known)
      if (!now.count(item)) onEvent_({false, item});
    known = std::move(now);
  }
}

}  // namespace flywheel
