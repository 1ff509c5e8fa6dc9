// Kinematics, safety and loop statistics: the arithmetic the control loop trusts.
#include <QtTest>

#include <cmath>
#include <numbers>

#include "core/kinematics.hpp"
#include "core/loop_stats.hpp"
#include "core/safety.hpp"
#include "core/wilson_interval.hpp"

using namespace flywheel;

class CoreTest : public QObject {
  Q_OBJECT
 private Q_SLOTS:
  void inverseThenForwardReachesTarget() {
    ArmKinematics arm(ArmGeometry{}, mountTransform(0.05, 0.3, 0.4));
    int reached = 0;
    for (double x = 0.15; x <= 0.45; x += 0.05)
      for (double y = -0.1; y <= 0.6; y += 0.1)
        for (double z = 0.02; z <= 0.25; z += 0.07) {
          const double yaw = 0.3 * x - y;
          auto q = arm.inverseTopDown({x, y, z}, yaw);
          if (!q) continue;
          ++reached;
          ArmPose pose = arm.forward(JointVector(q->begin(), q->end()));
          QVERIFY2((pose.fingertip - Eigen::Vector3d(x, y, z)).norm() < 1e-9, "fingertip misses the target");
          Eigen::Vector3d hand = pose.tool.rotation().col(0);
          QVERIFY2(hand.z() < -1.0 + 1e-9, "the hand must point straight down");
          Eigen::Vector3d fingers = pose.tool.rotation().col(1);
          double fingerYaw = std::atan2(fingers.y(), fingers.x());
          QVERIFY2(std::abs(std::remainder(fingerYaw - yaw, std::numbers::pi)) < 1e-9,
                   "fingers not at the yaw asked");
        }
    QVERIFY2(reached > 100, "most of the workspace must be reachable");
  }

  void unreachableTargetIsRefused() {
    ArmKinematics arm(ArmGeometry{}, mountTransform(0, 0, 0));
    QVERIFY(!arm.inverseTopDown({1.5, 0.0, 0.0}, 0.0));
  }

  void safetyClampsToLimits() {
    JointLimits limits{{-1.0, 0.0}, {1.0, 1.0}, 10.0};
    SafetyCounters counters;
    JointVector safe = applySafety({2.0, -0.5}, {0.0, 0.5}, limits, counters);
    QCOMPARE(safe, (JointVector{1.0, 0.0}));
    QCOMPARE(counters.limitClamps, std::uint64_t(2));
    QCOMPARE(counters.stepClamps, std::uint64_t(0));
  }

  void safetyLimitsStepPerTick() {
    JointLimits limits{{-3.0, -3.0}, {3.0, 3.0}, 0.1};
    SafetyCounters counters;
    JointVector safe = applySafety({1.0, -0.05}, {0.0, 0.0}, limits, counters);
    QCOMPARE(safe[0], 0.1);
    QCOMPARE(safe[1], -0.05);
    QCOMPARE(counters.stepClamps, std::uint64_t(1));
  }

  void safetyRefusesNanAndWrongSize() {
    JointLimits limits{{-3.0, -3.0}, {3.0, 3.0}, 0.1};
    SafetyCounters counters;
    JointVector previous{0.2, 0.3};
    QCOMPARE(applySafety({std::nan(""), 0.0}, previous, limits, counters), previous);
    QCOMPARE(applySafety({0.0}, previous, limits, counters), previous);
    QCOMPARE(applySafety({std::numeric_limits<double>::infinity(), 0.0}, previous, limits, counters),
             previous);
    QCOMPARE(counters.rejectedGoals, std::uint64_t(3));
  }

  void loopStatsPercentiles() {
    LoopStats stats(0.01);
    stats.record(0.0, 0.001, false);  // first tick: no period
    for (int i = 0; i < 98; ++i)
      stats.record(0.01, 0.001, false);
    stats.record(0.02, 0.005, true);
    LoopStatsSummary s = stats.summary();
    QCOMPARE(s.ticks, std::uint64_t(100));
    QCOMPARE(s.overruns, std::uint64_t(1));
    QVERIFY(std::abs(s.jitterP50) < 1e-12);
    QVERIFY(std::abs(s.jitterMax - 0.01) < 1e-12);
    QVERIFY(std::abs(s.meanPeriod - (98 * 0.01 + 0.02) / 99.0) < 1e-12);
    QVERIFY(std::abs(s.workMax - 0.005) < 1e-12);
  }

  // The achieved rate counts every tick since the reset, not a window: ticks per second really run.
  void loopStatsAchievedRate() {
    LoopStats stats(0.01, 4);
    stats.record(0.0, 0.001, false);
    for (int i = 0; i < 10; ++i)
      stats.record(i < 5 ? 0.01 : 0.03, 0.001, i >= 5);
    LoopStatsSummary s = stats.summary();
    QVERIFY(std::abs(s.elapsed - 0.2) < 1e-12);
    QVERIFY(std::abs(s.achievedRateHz - 50.0) < 1e-9);
    QVERIFY(std::abs(s.rateHz - 1.0 / 0.03) < 1e-9);  // the window holds the last 4 periods only
    QCOMPARE(s.overruns, std::uint64_t(5));
    stats.reset();
    QCOMPARE(stats.summary().achievedRateHz, 0.0);
  }

  // eval's 95% interval against values computed apart (Python, the closed form): 18/20 is 69.9-97.2%.
  void wilsonIntervalKnownValues() {
    auto near = [](double value, double expected) { return std::abs(value - expected) < 5e-4; };
    RateInterval i = wilsonInterval(18, 20);
    QVERIFY2(near(i.low, 0.6990) && near(i.high, 0.9721),
             qPrintable(QString("%1 %2").arg(i.low).arg(i.high)));
    i = wilsonInterval(0, 10);
    QVERIFY(near(i.low, 0.0) && near(i.high, 0.2775));
    i = wilsonInterval(10, 10);
    QVERIFY(near(i.low, 0.7225) && near(i.high, 1.0));
    i = wilsonInterval(1, 2);
    QVERIFY(near(i.low, 0.0945) && near(i.high, 0.9055));
    i = wilsonInterval(0, 0);  // no trials: nothing is known
    QVERIFY(i.low == 0.0 && i.high == 1.0);
  }
};

QTEST_GUILESS_MAIN(CoreTest)
#include "test_core.moc"
