// The control loop on its own thread at a real-time rate.
#include <QtTest>

#include <pthread.h>
#include <sched.h>

#include <thread>

#include "core/teleop_controller.hpp"
#include "sim_harness.hpp"

using namespace flywheel;
using namespace flywheel::testing;

namespace {

LoopStatsSummary runRealTime(double rateHz, double seconds) {
  RigConfig config = loadRigConfig("sim");
  config.controlRateHz = rateHz;
  config.recordRateHz = rateHz / 10.0;
  SteadyClock clock;
  Rig rig(config, clock);
  rig.connect();
  TeleopController teleop;
  ControlLoop loop(rig.config(), rig.devices(), clock);
  loop.setController(&teleop);
  loop.start();
  std::this_thread::sleep_for(std::chrono::duration<double>(seconds));
  loop.stop();
  return loop.stats();
}

// The simulated follower behind a slow bus: every read takes `delay` (as a servo with a long return delay
// or a slow adapter would), then answers with the real simulated arm's state.
class SlowReadArm final : public Arm {
 public:
  SlowReadArm(Arm& arm, double delay) : arm_(arm), delay_(delay) {}
  std::string name() const override { return arm_.name(); }
  std::size_t jointCount() const override { return arm_.jointCount(); }
  void connect() override { arm_.connect(); }
  void disconnect() override { arm_.disconnect(); }
  bool isConnected() const override { return arm_.isConnected(); }
  JointState read() override {
    std::this_thread::sleep_for(std::chrono::duration<double>(delay_));
    return arm_.read();
  }
  void write(const JointVector& goal) override { arm_.write(goal); }
  void setTorque(bool enabled) override { arm_.setTorque(enabled); }

 private:
  Arm& arm_;
  double delay_;
};

// The policy the loop thread ran at, once it ran a few ticks.
int policyOfLoopThread(ControlLoop& loop) {
  loop.start();
  const bool ticked = QTest::qWaitFor([&] { return loop.status().tick >= 5; }, 5000);
  const int policy = loop.threadSchedulingPolicy();
  loop.stop();
  if (!ticked) qWarning("the loop did not tick");
  return policy;
}

}  // namespace

class ControlLoopTest : public QObject {
  Q_OBJECT
 private Q_SLOTS:
  // A deadline schedule, proven without wall-clock thresholds (they flake on a loaded machine): the loop
  // is never faster than the rig's rate (each tick starts at or after its deadline, deadlines a period
  // apart), and when it counts no overrun every tick started within half a period of the original
  // schedule, so the achieved rate is the rig's. Slower than that only with overruns counted.
  void keepsItsSchedule() {
    for (double rateHz : {50.0, 500.0}) {
      const LoopStatsSummary s = runRealTime(rateHz, 1.0);
      const double intervals = static_cast<double>(s.ticks) - 1.0;
      const QString report = QString("%1 Hz: %2 ticks, achieved %3 Hz, %4 overruns")
                                 .arg(rateHz)
                                 .arg(s.ticks)
                                 .arg(s.achievedRateHz)
                                 .arg(s.overruns);
      qInfo("%s", qPrintable(report));
      QVERIFY2(s.ticks >= 10, qPrintable(report));
      // The first tick may start late (nothing before it to count as an overrun): one period of slack.
      QVERIFY2(s.achievedRateHz <= rateHz * intervals / (intervals - 1.0), qPrintable(report));
      if (s.overruns == 0)
        QVERIFY2(s.achievedRateHz >= rateHz * intervals / (intervals + 0.5) * (1.0 - 1e-9),
                 qPrintable(report));
      QVERIFY2(std::abs(s.rateHz - s.achievedRateHz) < 1e-6 * rateHz,
               qPrintable(report));  // whole run in window
    }
  }

  // A loop that sleeps to its next tick may run at real-time priority; one that runs flat out (a manual
  // clock, --fast) never does, even when started from a real-time thread, whose policy threads inherit.
  void onlyAPacedLoopRunsAtRealTimePriority() {
    RigConfig config = loadRigConfig("sim");
    sched_param param{};
    param.sched_priority = 10;
    const bool rtPermitted = pthread_setschedparam(pthread_self(), SCHED_FIFO, &param) == 0;
    {
      ManualClock clock;
      Rig rig(config, clock);
      rig.connect();
      ControlLoop flatOut(rig.config(), rig.devices(), clock);
      const int policy = policyOfLoopThread(flatOut);
      QCOMPARE(policy, SCHED_OTHER);
      QVERIFY(!flatOut.realTimePriority());
    }
    param.sched_priority = 0;
    pthread_setschedparam(pthread_self(), SCHED_OTHER, &param);
    {
      SteadyClock clock;
      Rig rig(config, clock);
      rig.connect();
      ControlLoop paced(rig.config(), rig.devices(), clock);
      const int policy = policyOfLoopThread(paced);
      // Where the container refuses real-time scheduling, the paced loop runs at normal priority too.
      QCOMPARE(policy, paced.realTimePriority() ? SCHED_FIFO : SCHED_OTHER);
      if (rtPermitted) QCOMPARE(policy, SCHED_FIFO);
    }
    if (!rtPermitted) qInfo("SCHED_FIFO is not permitted here: only the flat-out case was proven");
  }

  // Reads that take 1.5 periods: every tick after the first starts after its deadline (an overrun) and
  // the achieved rate is at most 2/3 of the nominal. Bounds are one-sided: a loaded machine only slows it.
  void aSlowBusCountsOverrunsAndTheAchievedRate() {
    RigConfig config = loadRigConfig("sim");
    config.controlRateHz = config.recordRateHz = 50.0;
    SteadyClock clock;
    Rig rig(config, clock);
    rig.connect();
    RigDevices devices = rig.devices();
    SlowReadArm slow(*devices.followers.at(0), 1.5 / config.controlRateHz);
    devices.followers.at(0) = &slow;
    TeleopController teleop;
    ControlLoop loop(rig.config(), devices, clock);
    loop.setController(&teleop);
    loop.start();
    QVERIFY(QTest::qWaitFor([&] { return loop.stats().ticks >= 20; }, 20000));
    loop.stop();
    const LoopStatsSummary s = loop.stats();
    const QString report = QString("%1 ticks, %2 overruns, achieved %3 Hz, elapsed %4 s")
                               .arg(s.ticks)
                               .arg(s.overruns)
                               .arg(s.achievedRateHz)
                               .arg(s.elapsed);
    qInfo("%s", qPrintable(report));
    QCOMPARE(s.overruns, s.ticks - 1);
    QVERIFY2(s.achievedRateHz > 0.0 && s.achievedRateHz <= 50.0 * 2.0 / 3.0 + 0.01, qPrintable(report));
    QVERIFY2(s.elapsed >= (s.ticks - 1) * 0.03, qPrintable(report));
  }

  void stopsAndRestarts() {
    RigConfig config = loadRigConfig("sim");
    SteadyClock clock;
    Rig rig(config, clock);
    rig.connect();
    ControlLoop loop(rig.config(), rig.devices(), clock);
    loop.start();
    QTRY_VERIFY_WITH_TIMEOUT(loop.status().tick >= 5, 2000);
    loop.stop();
    QVERIFY(!loop.running());
    std::uint64_t stoppedAt = loop.status().tick;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    QCOMPARE(loop.status().tick, stoppedAt);
    loop.start();
    QTRY_VERIFY_WITH_TIMEOUT(loop.status().tick >= stoppedAt + 5, 2000);
    loop.stop();
  }
};

QTEST_GUILESS_MAIN(ControlLoopTest)
#include "test_control_loop.moc"
