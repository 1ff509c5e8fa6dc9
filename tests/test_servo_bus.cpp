// Servo buses over the pseudo-terminal emulator: real protocol bytes both ways, for Dynamixel and Feetech.
#include <QtTest>

#include <QTemporaryDir>
#include <thread>

#include "core/teleop_controller.hpp"
#include "core/clock.hpp"
#include "core/control_loop.hpp"
#include "devices/rig.hpp"
#include "devices/servo/dynamixel_protocol.hpp"
#include "devices/servo/servo_arm.hpp"
#include "devices/servo/servo_bus.hpp"
#include "devices/servo/servo_emulator.hpp"

using namespace flywheel;
using Bytes = std::vector<std::uint8_t>;

Q_DECLARE_METATYPE(std::string)

namespace {

const Bytes kIds{1, 2, 3, 4, 5, 6};

struct Fixture {
  const ServoModel& model;
  ServoEmulator emulator;
  ServoBus bus;
  Fixture(const std::string& modelName, FaultInjection faults = {}, BusTiming timing = {})
      : model(*findServoModel(modelName)),
        emulator(model.protocol, model, kIds, faults),
        bus(model.protocol, emulator.start(), 1000000, timing) {
    bus.open();
    const Bytes instant{0};  // the servos answer at once, as a rig sets them on connect
    for (std::uint8_t id : kIds)
      bus.writeEeprom(id, model.returnDelay.address, instant, model);
    bus.setReturnDelay(std::chrono::microseconds(0));
  }
};

// Sync reads of the state block with one servo's reply in 50 dropped or corrupt (2%), the servos
// answering at once (Return Delay Time 0): how many succeed, and how the retries fared.
struct RetryOutcome {
  int ok = 0;
  BusCounters counters;
  EmulatorStats emulator;
};
RetryOutcome syncReadsWithLosses(const std::string& model, FaultInjection faults, bool settle, int reads) {
  BusTiming timing;
  timing.settleBeforeRetry = settle;
  Fixture f(model, faults, timing);
  RetryOutcome outcome;
  for (int i = 0; i < reads; ++i) {
    try {
      f.bus.syncRead(kIds, f.model.stateBlock.address, f.model.stateBlock.size);
      ++outcome.ok;
    } catch (const BusError&) {
    }
  }
  outcome.counters = f.bus.counters();
  outcome.emulator = f.emulator.stats();
  return outcome;
}

QString describe(const RetryOutcome& o, int reads) {
  return QString(
             "%1 of %2 sync reads whole; %3 retries, %4 failed; emulator: %5 dropped, %6 corrupt, %7 "
             "collisions")
      .arg(o.ok)
      .arg(reads)
      .arg(o.counters.retries)
      .arg(o.counters.failures)
      .arg(o.emulator.dropped)
      .arg(o.emulator.corrupted)
      .arg(o.emulator.collisions);
}

Bytes le(std::uint32_t value, int size) {
  Bytes out;
  for (int i = 0; i < size; ++i)
    out.push_back(static_cast<std::uint8_t>((value >> (8 * i)) & 0xFF));
  return out;
}

// An emulated rig, connected, its loop set to teleoperate (not started).
struct TeleopRig {
  SteadyClock clock;
  Rig rig;
  TeleopController teleop;
  ControlLoop loop;
  explicit TeleopRig(const RigConfig& config) : rig(config, clock), loop(rig.config(), rig.devices(), clock) {
    rig.connect();
    loop.setController(&teleop);
  }
};

RigConfig emulatedRig(const std::string& name) {
  RigConfig rig = loadRigConfig(name);
  rig.controlRateHz = 100;
  rig.recordRateHz = 50;
  return rig;
}

}  // namespace

class ServoBusTest : public QObject {
  Q_OBJECT
 private Q_SLOTS:
  void initTestCase() {
    static QTemporaryDir config;
    qputenv("FLYWHEEL_CONFIG_DIR", config.path().toUtf8());  // no calibration of the user's is used
  }

  void models_data() {
    QTest::addColumn<std::string>("model");
    QTest::newRow("dynamixel xl430-w250") << std::string("xl430-w250");
    QTest::newRow("dynamixel xl330-m077") << std::string("xl330-m077");
    QTest::newRow("feetech sts3215") << std::string("sts3215");
  }

  void pingReadWrite_data() { models_data(); }
  void pingReadWrite() {
    QFETCH(std::string, model);
    Fixture f(model);
    QCOMPARE(f.bus.ping(3), f.model.modelNumber);
    const Bytes delay{0};
    f.bus.write(2, f.model.returnDelay.address, delay);
    const Bytes goal = le(1000, f.model.goalPosition.size);
    f.bus.write(4, f.model.goalPosition.address, goal);
    QCOMPARE(f.bus.read(4, f.model.goalPosition.address, f.model.goalPosition.size), goal);
    QCOMPARE(f.emulator.goalPosition(4), 1000);
    QVERIFY_THROWS_EXCEPTION(BusError, f.bus.ping(42));  // nobody answers to 42
    BusCounters c = f.bus.counters();
    QCOMPARE(c.timeouts, std::uint64_t(2));  // the try and the retry
    QCOMPARE(c.failures, std::uint64_t(1));
    QVERIFY2(QString::fromStdString(c.lastError).contains("servo 42 on /dev/pts/"), c.lastError.c_str());
  }

  void syncRoundTrip_data() { models_data(); }
  void syncRoundTrip() {
    QFETCH(std::string, model);
    Fixture f(model);
    Bytes torque(kIds.size(), 1), goals;
    for (std::size_t i = 0; i < kIds.size(); ++i) {
      Bytes g = le(static_cast<std::uint32_t>(1500 + 200 * i), f.model.goalPosition.size);
      goals.insert(goals.end(), g.begin(), g.end());
    }
    f.bus.syncWrite(kIds, f.model.torqueEnable.address, 1, torque);
    f.bus.syncWrite(kIds, f.model.goalPosition.address, f.model.goalPosition.size, goals);
    auto back = f.bus.syncRead(kIds, f.model.goalPosition.address, f.model.goalPosition.size);
    QCOMPARE(back.size(), kIds.size());
    for (std::size_t i = 0; i < kIds.size(); ++i)
      QCOMPARE(f.emulator.goalPosition(kIds[i]), int(1500 + 200 * i));
    // The servos move there at a realistic speed: not yet at once, there within half a second.
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
    auto positions = f.bus.syncRead(kIds, f.model.presentPosition.address, f.model.presentPosition.size);
    for (std::size_t i = 0; i < kIds.size(); ++i) {
      int raw = positions[i][0] | (positions[i][1] << 8);
      QVERIFY2(std::abs(raw - int(1500 + 200 * i)) <= 2,
               qPrintable(QString("servo %1 at %2").arg(kIds[i]).arg(raw)));
    }
  }

  void feetechEepromNeedsUnlock() {
    Fixture f("sts3215");
    const Bytes newId{9};
    f.bus.write(6, 5, newId);  // locked: the STS ignores EEPROM writes
    QCOMPARE(f.bus.ping(6), std::uint16_t(777));
    f.bus.writeEeprom(6, 5, newId, f.model);  // unlock, write, lock again under the new id
    QCOMPARE(f.bus.ping(9), std::uint16_t(777));
    QCOMPARE(f.emulator.readRegister(9, f.model.lock.address, 1), std::uint32_t(1));
  }

  void dynamixelEepromRefusedWithTorqueOn() {
    Fixture f("xm430-w350");
    const Bytes on{1}, delay{0};
    f.bus.write(1, 64, on);
    try {
      f.bus.write(1, 9, delay);
      QFAIL("an EEPROM write with torque on must be refused");
    } catch (const BusError& e) {
      QCOMPARE(e.servoId, 1);
      QVERIFY2(
          QString(e.what()).contains("servo 1 on /dev/pts/") && QString(e.what()).contains("access error"),
          e.what());
    }
  }

  void wrongModelIsNamed() {
    Fixture f("xl430-w250");
    ArmConfig config;
    config.name = "follower";
    config.port = f.bus.portName();
    config.model = "xm430-w350";
    for (std::uint8_t id : kIds)
      config.joints.push_back({"j" + std::to_string(id), id, -3, 3});
    const ServoModel& wrong = *findServoModel("xm430-w350");
    ServoArm arm(config, wrong, std::make_shared<ServoBus>(wrong.protocol, config.port, 1000000),
                 ServoArm::defaultCalibration(config, wrong));
    try {
      arm.connect();
      QFAIL("connecting to the wrong model must fail");
    } catch (const DeviceError& e) {
      QVERIFY2(QString(e.what()).contains("servo 1 on /dev/pts/") &&
                   QString(e.what()).contains("is a xl430-w250, the rig file says xm430-w350"),
               e.what());
    }
  }

  void faultsAreRetriedAndCounted_data() { models_data(); }
  void faultsAreRetriedAndCounted() {
    QFETCH(std::string, model);
    Fixture f(model, FaultInjection{0.004, 0.003, 0.003, 7});  // 1% of replies go wrong
    int ok = 0;
    const int transactions = 400;
    for (int i = 0; i < transactions; ++i) {
      try {
        f.bus.syncRead(kIds, f.model.presentPosition.address, f.model.presentPosition.size);
        ++ok;
      } catch (const BusError&) {
      }
    }
    BusCounters c = f.bus.counters();
    EmulatorStats e = f.emulator.stats();
    QVERIFY2(ok >= transactions * 99 / 100,
             qPrintable(QString("%1 of %2 sync reads succeeded").arg(ok).arg(transactions)));
    QVERIFY2(e.dropped + e.corrupted + e.garbage > 10, "the emulator must have injected faults");
    // Every fault costs an attempt: it was either retried or, on the second, failed the transaction.
    QVERIFY2(c.retries > 0 && c.timeouts + c.corruptReplies == c.retries + c.failures,
             qPrintable(QString("retries %1 timeouts %2 corrupt %3 failures %4")
                            .arg(c.retries)
                            .arg(c.timeouts)
                            .arg(c.corruptReplies)
                            .arg(c.failures)));
  }

  // The emulator keeps the line as a half-duplex bus does: at 9600 baud six replies take about 130 ms, and a
  // ping sent meanwhile collides with them: it goes unanswered, and the six replies still arrive whole.
  void requestOverRepliesCollides() {
    const ServoModel& model = *findServoModel("xl430-w250");
    ServoEmulator emulator(model.protocol, model, kIds);
    SerialPort port;
    port.open(emulator.start(), 9600);
    Bytes both = dynamixel::syncRead(kIds, model.stateBlock.address, model.stateBlock.size);
    port.write(both);
    std::this_thread::sleep_for(std::chrono::milliseconds(5));  // the request is in; the servos answer
    port.write(dynamixel::ping(3));
    Bytes received;
    const std::size_t replyBytes = dynamixel::kStatusOverhead + model.stateBlock.size;
    port.readUntil(received, kIds.size() * replyBytes + 1,
                   SerialPort::Clock::now() + std::chrono::seconds(2));
    QCOMPARE(received.size(), kIds.size() * replyBytes);  // the sync read's replies, and no ping reply
    for (std::size_t i = 0; i < kIds.size(); ++i) {
      auto parsed = dynamixel::parse(std::span(received).subspan(i * replyBytes, replyBytes));
      QCOMPARE(int(parsed.status), int(dynamixel::ParseStatus::Ok));
      QCOMPARE(parsed.packet.id, kIds[i]);  // one after another, in the request's order
    }
    QCOMPARE(emulator.stats().collisions, std::uint64_t(1));
  }

  // With 2% of replies lost, a retry sent at once lands on the failed read's later replies and collides
  // (the paced emulator reproduces what a real bus does); a retry that waits for the bus to go quiet
  // succeeds as often as independent losses allow (6 replies at 2%: about 11% of retries fail).
  void retryWaitsForTheBusToGoQuiet_data() {
    QTest::addColumn<std::string>("model");
    QTest::addColumn<double>("drop");
    QTest::addColumn<double>("corrupt");
    QTest::newRow("dynamixel, corrupt") << std::string("xl430-w250") << 0.0 << 0.02;
    QTest::newRow("feetech, dropped") << std::string("sts3215") << 0.02 << 0.0;
  }
  void retryWaitsForTheBusToGoQuiet() {
    QFETCH(std::string, model);
    QFETCH(double, drop);
    QFETCH(double, corrupt);
    const int reads = 1000;
    const FaultInjection faults{drop, corrupt, 0.0, 5};
    const RetryOutcome atOnce = syncReadsWithLosses(model, faults, false, reads);
    QVERIFY2(atOnce.counters.retries >= 100, qPrintable(describe(atOnce, reads)));
    QVERIFY2(atOnce.counters.failures * 10 >= atOnce.counters.retries * 4 && atOnce.emulator.collisions > 0,
             qPrintable("an immediate retry should collide: " + describe(atOnce, reads)));
    const RetryOutcome settled = syncReadsWithLosses(model, faults, true, reads);
    qInfo("at once: %s", qPrintable(describe(atOnce, reads)));
    qInfo("settled: %s", qPrintable(describe(settled, reads)));
    QVERIFY2(settled.counters.failures * 10 <= settled.counters.retries * 3,
             qPrintable("most retries must succeed: " + describe(settled, reads)));
    QVERIFY2(settled.ok > atOnce.ok, qPrintable(describe(settled, reads)));
  }

  void rigs_data() {
    QTest::addColumn<std::string>("rig");
    QTest::newRow("koch (dynamixel)") << std::string("koch-emulated");
    QTest::newRow("so100 (feetech)") << std::string("so100-emulated");
  }

  // Leaders limp and moved by hand, the follower's goal register holds the leader's position of the same
  // tick.
  void teleopTracksWithinOneTick_data() { rigs_data(); }
  void teleopTracksWithinOneTick() {
    QFETCH(std::string, rig);
    RigConfig config = emulatedRig(rig);
    TeleopRig teleop(config);
    Rig& built = teleop.rig;
    ControlLoop& loop = teleop.loop;
    QTRY_VERIFY(built.emulatorFor("follower")->torqueEnabled(1));  // sync writes are not acknowledged
    QVERIFY(!built.emulatorFor("leader")->torqueEnabled(1));
    loop.runTicks(40);  // the follower catches up with the leader at the maximum step
    ServoArm& follower = *built.servoArm("follower");
    for (int tick = 0; tick < 50; ++tick) {
      loop.runTicks(1);
      LoopStatus status = loop.status();
      for (std::size_t j = 0; j < 6; ++j) {
        int expected =
            follower.calibration().toRaw(j, status.leaders.position[j], j == 5, follower.model().resolution);
        // The sync write is not acknowledged: give the emulator a moment to take it in.
        QTRY_COMPARE_WITH_TIMEOUT(
            built.emulatorFor("follower")->goalPosition(static_cast<std::uint8_t>(j + 1)), expected, 200);
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    QCOMPARE(loop.status().failedTicks, std::uint64_t(0));
  }

  // 1% of replies go wrong on both buses: retries keep at least 99% of teleoperation ticks whole.
  void teleopSurvivesOnePercentFaults() {
    RigConfig config = emulatedRig("koch-emulated");
    TeleopRig teleop(config);
    Rig& built = teleop.rig;
    ControlLoop& loop = teleop.loop;
    const FaultInjection faults{0.004, 0.003, 0.003, 11};
    built.emulatorFor("leader")->setFaults(faults);
    built.emulatorFor("follower")->setFaults(faults);
    const std::uint64_t ticks = 500;
    loop.runTicks(ticks);
    LoopStatus status = loop.status();
    QVERIFY2(status.error.empty(), status.error.c_str());
    QCOMPARE(status.tick + 1 + status.failedTicks, ticks);  // every tick ran: whole, or lost and counted
    QVERIFY2(status.failedTicks <= ticks / 100,
             qPrintable(QString("%1 of %2 ticks failed: %3")
                            .arg(status.failedTicks)
                            .arg(ticks)
                            .arg(QString::fromStdString(status.lastDeviceError))));
    const BusCounters leader = built.servoArm("leader")->bus().counters();
    QVERIFY2(leader.retries > 0, "faults must have been injected and retried");
  }

  // The case: 2% of the follower bus's replies lost. A tick is lost only when a read's retry is
  // hit too (6 servos, one retry: about 1.3% of ticks); at least 98% of 2000 ticks complete.
  void teleopKeepsTicksWithTwoPercentLosses() {
    RigConfig config = emulatedRig("koch-emulated");
    config.safety.maxFailedTicks = 1000;  // count lost ticks; do not stop on a short run of them
    TeleopRig teleop(config);
    teleop.rig.emulatorFor("follower")->setFaults(FaultInjection{0.02, 0.0, 0.0, 3});
    const std::uint64_t ticks = 2000;
    teleop.loop.runTicks(ticks);
    const LoopStatus status = teleop.loop.status();
    const BusCounters bus = teleop.rig.servoArm("follower")->bus().counters();
    const EmulatorStats emulator = teleop.rig.emulatorFor("follower")->stats();
    const QString summary =
        QString("%1 of %2 ticks lost; follower bus: %3 retries, %4 failed, %5 collisions; %6")
            .arg(status.failedTicks)
            .arg(ticks)
            .arg(bus.retries)
            .arg(bus.failures)
            .arg(emulator.collisions)
            .arg(QString::fromStdString(status.lastDeviceError));
    qInfo("%s", qPrintable(summary));
    QVERIFY2(status.error.empty(), status.error.c_str());
    QVERIFY2(bus.retries >= 100, qPrintable(summary));
    QVERIFY2(status.failedTicks * 100 <= ticks * 2, qPrintable(summary));
    QVERIFY2(bus.failures * 10 <= bus.retries * 3, qPrintable("most retries must succeed: " + summary));
  }

  void silentServoStopsTheLoopAndIsNamed() {
    RigConfig config = emulatedRig("koch-emulated");
    config.safety.onStop = StopBehaviour::Limp;
    TeleopRig teleop(config);
    Rig& built = teleop.rig;
    ControlLoop& loop = teleop.loop;
    loop.start();
    QTRY_VERIFY_WITH_TIMEOUT(loop.status().tick > 20, 3000);
    built.emulatorFor("follower")
        ->setFaults(FaultInjection{1.0, 0.0, 0.0, 1});  // the follower's servos go quiet
    QTRY_VERIFY_WITH_TIMEOUT(!loop.running(), 3000);
    LoopStatus status = loop.status();
    QCOMPARE(status.failedTicks, std::uint64_t(config.safety.maxFailedTicks));
    QVERIFY2(QString::fromStdString(status.error).contains("servo 1 on /dev/pts/") &&
                 QString::fromStdString(status.error).contains("no reply (timeout)") &&
                 QString::fromStdString(status.error).contains("5 failed ticks in a row; followers released"),
             status.error.c_str());
    loop.stop();
  }

  void unplugStopsCleanlyAndReconnects() {
    QTemporaryDir dir;
    const ServoModel& model = *findServoModel("sts3215");
    ServoEmulator emulator(model.protocol, model, kIds);
    const std::string link = dir.filePath("ttyUSB-so100").toStdString();
    emulator.start(link);
    RigConfig config = emulatedRig("so100-emulated");
    config.arms[1].port = link;  // the follower on a "real" port: the emulator behind a stable link
    TeleopRig teleop(config);
    Rig& built = teleop.rig;
    ControlLoop& loop = teleop.loop;
    loop.start();
    QTRY_VERIFY_WITH_TIMEOUT(loop.status().tick > 20, 3000);
    emulator.unplug();
    QTRY_VERIFY_WITH_TIMEOUT(!loop.running(), 3000);
    QVERIFY2(QString::fromStdString(loop.status().error)
                 .contains(QString::fromStdString(link) + ": adapter disconnected"),
             loop.status().error.c_str());
    loop.stop();

    emulator.replug();  // plugged back in: the same link, a new pseudo-terminal behind it
    ServoArm& follower = *built.servoArm("follower");
    follower.connect();
    QCOMPARE(follower.read().position.size(), std::size_t(6));
    loop.start();
    QTRY_VERIFY_WITH_TIMEOUT(loop.status().tick > 60, 3000);
    QVERIFY(loop.running());
    loop.stop();
  }
};

QTEST_GUILESS_MAIN(ServoBusTest)
#include "test_servo_bus.moc"
