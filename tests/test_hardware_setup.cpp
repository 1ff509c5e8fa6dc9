// Setting hardware up: calibration maths and files, USB discovery read from a sysfs tree, serial settings.
#include <QtTest>

#include <QTemporaryDir>
#include <filesystem>
#include <fstream>
#include <numbers>

#include "core/clock.hpp"
#include "core/config.hpp"
#include "devices/rig.hpp"
#include "devices/serial/serial_port.hpp"
#include "devices/servo/calibration.hpp"
#include "devices/servo/control_table.hpp"
#include "devices/servo/servo_arm.hpp"
#include "devices/servo/servo_emulator.hpp"
#include "devices/usb/usb_discovery.hpp"

using namespace flywheel;
namespace fs = std::filesystem;

namespace {

void writeFile(const fs::path& path, const std::string& text) {
  fs::create_directories(path.parent_path());
  std::ofstream(path) << text << "\n";
}

// A sysfs tree as the kernel lays it out for a USB-serial adapter: class/tty/<name>/device links into the
// USB interface, whose parent holds idVendor, idProduct and serial.
void addAdapter(const fs::path& sys, const std::string& tty, const std::string& usbPath,
                const std::string& vid, const std::string& pid, const std::string& serial) {
  const fs::path device = sys / "devices/pci0000:00/usb1" / usbPath;
  writeFile(device / "idVendor", vid);
  writeFile(device / "idProduct", pid);
  writeFile(device / "serial", serial);
  const fs::path port = device / (usbPath + ":1.0") / tty;
  fs::create_directories(port);
  fs::create_directories(sys / "class/tty" / tty);
  fs::create_directory_symlink(port, sys / "class/tty" / tty / "device");
}

// One emulated follower arm of `model`, with rig-file lines `extra` (e.g. "return_delay_us: 100").
RigConfig oneArmRig(const std::string& bus, const std::string& model, const std::string& extra) {
  return parseRigConfig("name: one-arm\narms:\n  - name: follower\n    role: follower\n    bus: " + bus +
                            "\n    model: " + model + "\n    port: emulator\n" +
                            (extra.empty() ? "" : "    " + extra + "\n") +
                            "    joints:\n      - {name: j1, id: 1, min: -3, max: 3}\n"
                            "      - {name: j2, id: 2, min: -3, max: 3}\n",
                        "one-arm.yaml");
}

// How many of this process's file descriptors are open on `path`.
int openCount(const std::string& path) {
  int count = 0;
  for (const auto& entry : fs::directory_iterator("/proc/self/fd")) {
    std::error_code error;
    if (fs::read_symlink(entry.path(), error) == path) ++count;
  }
  return count;
}

bool containsLine(const std::vector<std::string>& lines, const QString& a, const QString& b) {
  for (const std::string& line : lines)
    if (QString::fromStdString(line).contains(a) && QString::fromStdString(line).contains(b)) return true;
  return false;
}

QString joined(const std::vector<std::string>& lines) {
  QStringList all;
  for (const std::string& line : lines)
    all << QString::fromStdString(line);
  return all.join(" | ");
}

}  // namespace

class HardwareSetupTest : public QObject {
  Q_OBJECT
 private Q_SLOTS:
  void calibrationMapsRawToJoints() {
    ArmCalibration c{"arm", "X", "sts3215", {{"elbow", 1000, 200, 3000, -1}, {"gripper", 0, 1500, 2500, 1}}};
    QCOMPARE(c.toJoint(0, 1000, false, 4096), 0.0);
    QVERIFY(std::abs(c.toJoint(0, 2024, false, 4096) + std::numbers::pi / 2.0) <
            1e-12);  // a quarter turn, reversed
    QCOMPARE(c.toRaw(0, -std::numbers::pi / 2.0, false, 4096), 2024);
    QCOMPARE(c.toRaw(0, 3.0, false, 4096), 200);    // clamped to the calibrated range
    QCOMPARE(c.toJoint(1, 2000, true, 4096), 0.5);  // gripper normalised over its range
    QCOMPARE(c.toRaw(1, 1.0, true, 4096), 2500);
    QCOMPARE(c.toJoint(1, 9999, true, 4096), 1.0);
  }

  void calibrationFilesAreNeverSilentlyReplaced() {
    QTemporaryDir dir;
    const std::string path = dir.filePath("FT1234-leader.yaml").toStdString();
    ArmCalibration c{"leader", "FT1234", "xl330-m077", {{"waist", 2048, 1000, 3000, 1}}};
    saveCalibration(c, path, false);
    auto loaded = loadCalibration(path);
    QVERIFY(loaded);
    QCOMPARE(loaded->joints.at(0).max, 3000);
    c.joints[0].max = 3100;
    QVERIFY_THROWS_EXCEPTION(DeviceError, saveCalibration(c, path, false));
    QCOMPARE(loadCalibration(path)->joints.at(0).max, 3000);
    saveCalibration(c, path, true);
    QCOMPARE(loadCalibration(path)->joints.at(0).max, 3100);
    int backups = 0;
    for (const auto& entry : fs::directory_iterator(dir.path().toStdString()))
      if (entry.path().filename().string().starts_with("FT1234-leader.yaml.bak-")) ++backups;
    QCOMPARE(backups, 1);
    writeFile(dir.filePath("broken.yaml").toStdString(), "arm: [unclosed");
    QVERIFY_THROWS_EXCEPTION(ConfigError, loadCalibration(dir.filePath("broken.yaml").toStdString()));
  }

  void calibrationRecorderNeedsMotion() {
    CalibrationRecorder recorder({"shoulder", "elbow"}, {1, 2}, {1, -1});
    recorder.setHome({2048, 2048});
    recorder.observe({1000, 2040});
    recorder.observe({3000, 2060});
    try {
      recorder.finish();
      QFAIL("an unmoved joint must be refused");
    } catch (const DeviceError& e) {
      QVERIFY2(QString(e.what()).contains("joint 'elbow' (servo 2) moved only 20 ticks"), e.what());
    }
    recorder.observe({1000, 3500});
    auto joints = recorder.finish();
    QCOMPARE(joints[0].min, 1000);
    QCOMPARE(joints[0].max, 3000);
    QCOMPARE(joints[1].home, 2048);
    QCOMPARE(joints[1].direction, -1);
  }

  void discoveryMapsSerialNumbersToPorts() {
    QTemporaryDir dir;
    const fs::path sys = dir.filePath("sys").toStdString();
    addAdapter(sys, "ttyUSB0", "1-1", "0403", "6014", "FT8J0QI3");
    addAdapter(sys, "ttyACM0", "1-2", "1a86", "55d3", "58FA083324");
    addAdapter(sys, "ttyUSB1", "1-3", "dead", "beef", "X");
    writeFile(sys / "bus/usb-serial/devices/ttyUSB0/latency_timer", "16");
    writeFile(sys / "class/video4linux/video0/name", "HD Pro Webcam C920");
    fs::create_directories(sys / "class/tty/tty0");  // not a USB adapter

    auto adapters = listSerialAdapters(sys.string(), "/dev");
    QCOMPARE(adapters.size(), std::size_t(3));
    QCOMPARE(adapters[0].ttyPath, std::string("/dev/ttyACM0"));
    QCOMPARE(adapters[0].kind, std::string("CH343"));
    QCOMPARE(adapters[1].serial, std::string("FT8J0QI3"));
    QCOMPARE(adapters[1].kind, std::string("FTDI FT232H"));
    QCOMPARE(adapters[1].latencyTimerMs, 16);
    QCOMPARE(adapters[2].kind, std::string("USB serial"));
    auto found = findAdapterBySerial("58FA083324", sys.string(), "/dev");
    QVERIFY(found);
    QCOMPARE(found->ttyPath, std::string("/dev/ttyACM0"));
    QVERIFY(!findAdapterBySerial("nope", sys.string(), "/dev"));
    auto cameras = listVideoDevices(sys.string(), "/dev");
    QCOMPARE(cameras.size(), std::size_t(1));
    QCOMPARE(cameras[0].name, std::string("HD Pro Webcam C920"));

    auto warning = SerialPort::latencyTimerWarning("/dev/ttyUSB0", sys.string());
    QVERIFY(warning);
    QVERIFY2(QString::fromStdString(*warning).contains("latency_timer is 16 ms") &&
                 QString::fromStdString(*warning).contains(
                     "echo 1 | sudo tee " +
                     QString::fromStdString((sys / "bus/usb-serial/devices/ttyUSB0/latency_timer").string())),
             warning->c_str());
    writeFile(sys / "bus/usb-serial/devices/ttyUSB0/latency_timer", "1");
    QVERIFY(!SerialPort::latencyTimerWarning("/dev/ttyUSB0", sys.string()));
  }

  void watcherReportsPlugAndUnplug() {
    QTemporaryDir dir;
    const fs::path sys = dir.filePath("sys").toStdString();
    fs::create_directories(sys / "class/tty");
    std::mutex mutex;
    std::vector<UsbEvent> events;
    UsbWatcher watcher(
        [&](const UsbEvent& e) {
          std::lock_guard lock(mutex);
          events.push_back(e);
        },
        sys.string(), "/dev");
    addAdapter(sys, "ttyUSB0", "1-1", "10c4", "ea60", "CP2102N-1");
    QTRY_VERIFY_WITH_TIMEOUT(
        [&] {
          std::lock_guard lock(mutex);
          return events.size() == 1;
        }(),
        4000);
    fs::remove_all(sys / "class/tty/ttyUSB0");
    QTRY_VERIFY_WITH_TIMEOUT(
        [&] {
          std::lock_guard lock(mutex);
          return events.size() == 2;
        }(),
        4000);
    std::lock_guard lock(mutex);
    QVERIFY(events[0].arrived);
    QVERIFY2(QString::fromStdString(events[0].description)
                 .contains("10c4:ea60 CP210x serial CP2102N-1 at /dev/ttyUSB0"),
             events[0].description.c_str());
    QVERIFY(!events[1].arrived);
  }

  // The servos ship answering 500 us after each request; connect sets the rig's Return Delay Time (default
  // 0) in EEPROM: unlocked and locked again on Feetech, torque off and back on for a Dynamixel holding.
  void connectSetsTheReturnDelay_data() {
    QTest::addColumn<std::string>("bus");
    QTest::addColumn<std::string>("model");
    QTest::addColumn<std::string>("extra");
    QTest::addColumn<int>("units");
    QTest::newRow("dynamixel, default 0")
        << std::string("dynamixel") << std::string("xl430-w250") << std::string() << 0;
    QTest::newRow("dynamixel, rig 100 us")
        << std::string("dynamixel") << std::string("xm430-w350") << std::string("return_delay_us: 100") << 50;
    QTest::newRow("feetech, default 0")
        << std::string("feetech") << std::string("sts3215") << std::string() << 0;
    QTest::newRow("feetech, rig 20 us")
        << std::string("feetech") << std::string("sts3215") << std::string("return_delay_us: 20") << 10;
  }
  void connectSetsTheReturnDelay() {
    QFETCH(std::string, bus);
    QFETCH(std::string, model);
    QFETCH(std::string, extra);
    QFETCH(int, units);
    SteadyClock clock;
    RigConfig config = oneArmRig(bus, model, extra);
    Rig rig(config, clock);
    ServoEmulator& emulator = *rig.emulatorFor("follower");
    const ServoModel& servo = *findServoModel(model);
    QCOMPARE(emulator.readRegister(1, servo.returnDelay.address, 1), std::uint32_t(250));  // factory: 500 us
    if (servo.protocol == BusProtocol::Dynamixel) {  // servo 1 holds its position from an earlier session
      ServoBus direct(servo.protocol, emulator.path(), 1000000);
      direct.open();
      const std::uint8_t on[] = {1};
      direct.write(1, servo.torqueEnable.address, on);
    }
    rig.connect();
    for (std::uint8_t id : {1, 2})
      QCOMPARE(emulator.readRegister(id, servo.returnDelay.address, 1), std::uint32_t(units));
    QTRY_VERIFY(emulator.torqueEnabled(1));  // a follower holds, whether or not it did before
    if (servo.protocol == BusProtocol::Feetech)
      QCOMPARE(emulator.readRegister(1, servo.lock.address, 1), std::uint32_t(1));  // locked again
    QCOMPARE(rig.servoArm("follower")->bus().counters().failures, std::uint64_t(0));
  }

  // A rig connects, lets go of its ports on disconnect (twice is harmless), and connects again.
  void disconnectLetsGoOfThePort() {
    SteadyClock clock;
    Rig rig(oneArmRig("feetech", "sts3215", ""), clock);
    ServoArm& arm = *rig.servoArm("follower");
    const std::string port = rig.health().arms.at(0).bus->port;
    const int emulatorsOwn = openCount(port);  // the emulator keeps its end of the pseudo-terminal open
    QVERIFY(!arm.isConnected());
    rig.connect();
    QVERIFY(arm.isConnected());
    QVERIFY(rig.health().arms.at(0).connected);
    QCOMPARE(openCount(port), emulatorsOwn + 1);
    rig.disconnect();
    QVERIFY(!arm.isConnected());
    QVERIFY(!rig.health().arms.at(0).connected);
    QCOMPARE(openCount(port), emulatorsOwn);
    rig.disconnect();
    rig.connect();
    QVERIFY(arm.isConnected());
    QCOMPARE(arm.read().position.size(), std::size_t(2));
    QCOMPARE(rig.health().arms.at(0).bus->counters.failures, std::uint64_t(0));
  }

  void simulatedRigConnectsAgain() {
    SteadyClock clock;
    Rig rig(loadRigConfig("sim"), clock);
    auto allConnected = [&](bool expected) {
      for (const ArmHealth& arm : rig.health().arms)
        if (arm.connected != expected || arm.bus) return false;
      return true;
    };
    QVERIFY(allConnected(false));
    rig.connect();
    QVERIFY(allConnected(true));
    rig.disconnect();
    QVERIFY(allConnected(false));
    rig.disconnect();
    rig.connect();
    QVERIFY(allConnected(true));
    QCOMPARE(rig.health().cameras.size(), rig.config().cameras.size());
    QCOMPARE(rig.health().cameras.at(0).name, rig.config().cameras.at(0).name);
    QTRY_VERIFY(rig.health().cameras.at(0).measuredFps > 0.0);
  }

  // One snapshot of every bus, summed and described as the status bar and record's summary print it.
  void healthDescribesEachBus() {
    SteadyClock clock;
    Rig rig(oneArmRig("dynamixel", "xl430-w250", ""), clock);
    rig.connect();
    const RigHealth health = rig.health();
    QCOMPARE(health.arms.size(), std::size_t(1));
    const BusCounters& counters = health.arms[0].bus->counters;
    QCOMPARE(counters.transactions, rig.servoArm("follower")->bus().counters().transactions);
    QVERIFY(counters.transactions > 0);
    QCOMPARE(health.busErrors(), std::uint64_t(0));

    ArmHealth arm{"left", true, BusHealth{"/dev/ttyUSB0", {}}};
    arm.bus->counters = {120, 3, 2, 4, 1, 0, "servo 2 did not answer"};
    QCOMPARE(describeBus(arm), std::string("bus of 'left' (/dev/ttyUSB0): 120 transactions, 3 timeouts, 2 "
                                           "corrupt replies, 4 retries, 1 failed; last error: servo 2 did "
                                           "not answer"));
    QCOMPARE((RigHealth{{arm, arm, ArmHealth{"sim", true, std::nullopt}}, {}}).busErrors(),
             std::uint64_t(10));
    QCOMPARE(describeBus(ArmHealth{"sim", true, std::nullopt}), std::string());
  }

  void returnDelayIsValidated() {
    for (const char* bad : {"return_delay_us: 600", "return_delay_us: 101", "return_delay_us: -2"}) {
      try {
        oneArmRig("dynamixel", "xl430-w250", bad);
        QFAIL(bad);
      } catch (const ConfigError& e) {
        QVERIFY2(QString(e.what()).contains("one-arm.yaml:") &&
                     QString(e.what()).contains("arms[0].return_delay_us"),
                 e.what());
      }
    }
    QCOMPARE(oneArmRig("dynamixel", "xl430-w250", "return_delay_us: 508").arms[0].returnDelayUs, 508);
  }

  // A real bus without a calibration file, or on a port without a USB serial number (a tty name that can
  // change), is a warning the commands print and the window's banner shows; an emulated bus needs none.
  void uncalibratedRealBusWarns() {
    QTemporaryDir dir;
    const QByteArray previous = qgetenv("FLYWHEEL_CONFIG_DIR");
    qputenv("FLYWHEEL_CONFIG_DIR", dir.filePath("config").toUtf8());  // empty: no calibration at all
    const ServoModel& model = *findServoModel("xl430-w250");
    ServoEmulator emulator(model.protocol, model, {1, 2, 3, 4, 5, 6});
    const std::string link = dir.filePath("ttyFollower").toStdString();  // as flywheel emulate --link makes
    emulator.start(link);
    RigConfig config = loadRigConfig("koch-emulated");
    config.arms[1].port = link;
    SteadyClock clock;
    std::string calibrationPath;
    {
      Rig rig(config, clock);
      rig.connect();
      const auto& warnings = rig.warnings();
      QVERIFY2(containsLine(warnings, QString::fromStdString("arm 'follower' on " + link), "not calibrated"),
               qPrintable(joined(warnings)));
      QVERIFY2(containsLine(warnings, "arm 'follower'", "no USB serial number"),
               qPrintable(joined(warnings)));
      QVERIFY2(!containsLine(warnings, "arm 'leader'", ""), qPrintable(joined(warnings)));  // emulated
      calibrationPath = rig.calibrationPathFor("follower");
    }
    ArmConfig& follower = config.arms[1];
    ArmCalibration calibration = ServoArm::defaultCalibration(follower, model);
    saveCalibration(calibration, calibrationPath, false);
    {
      Rig rig(config, clock);
      QVERIFY2(!containsLine(rig.warnings(), "arm 'follower'", "not calibrated"),
               qPrintable(joined(rig.warnings())));
      QVERIFY(containsLine(rig.warnings(), "arm 'follower'", "no USB serial number"));
    }
    qputenv("FLYWHEEL_CONFIG_DIR", previous);
  }

  void anyBaudRateOpens() {
    const ServoModel& model = *findServoModel("xl430-w250");
    ServoEmulator emulator(model.protocol, model, {1});
    const std::string path = emulator.start();
    for (int baud : {57600, 1000000, 2000000, 3000000, 4000000, 1234567}) {
      SerialPort port;
      port.open(path, baud);
      QVERIFY(port.isOpen());
    }
    SerialPort missing;
    try {
      missing.open("/dev/ttyUSB-not-there", 1000000);
      QFAIL("opening a missing port must fail");
    } catch (const SerialDisconnected& e) {
      QVERIFY2(QString(e.what()).contains("no such port (is the adapter plugged in?)"), e.what());
    }
  }
};

QTEST_GUILESS_MAIN(HardwareSetupTest)
#include "test_hardware_setup.moc"
