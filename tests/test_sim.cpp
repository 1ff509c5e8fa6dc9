// The simulated rig: deterministic under a seed, a scripted operator that really does the task, and
// teleoperation through the control loop in which followers track leaders.
#include <QtTest>

#include "sim_harness.hpp"

using namespace flywheel;
using namespace flywheel::testing;

class SimTest : public QObject {
  Q_OBJECT
 private Q_SLOTS:
  void sameSeedSameEpisode() {
    RigConfig config = loadRigConfig("sim");
    SimHarness first(config), second(config);
    auto a = first.runEpisode(42, 300);
    auto b = second.runEpisode(42, 300);
    QCOMPARE(a.size(), std::size_t(300));
    QCOMPARE(column(a, false), column(b, false));
    QCOMPARE(column(a, true), column(b, true));
    // Even the images: the cameras render on the simulated clock.
    const Image& fa = a[250].frames[0].image;
    const Image& fb = b[250].frames[0].image;
    QVERIFY(std::equal(fa.pixels.get(), fa.pixels.get() + fa.byteSize(), fb.pixels.get()));
  }

  void differentSeedDifferentEpisode() {
    RigConfig config = loadRigConfig("sim");
    SimHarness harness(config);
    auto a = harness.runEpisode(1, 200);
    auto b = harness.runEpisode(2, 200);
    QVERIFY(column(a, false) != column(b, false));
  }

  void scriptedOperatorCompletesTheTask() {
    RigConfig config = loadRigConfig("sim");
    SimHarness harness(config);
    int successes = 0;
    for (unsigned seed = 100; seed < 110; ++seed) {
      harness.runEpisode(seed, 600);  // 12 s at 50 Hz
      if (harness.world().outcome().success) ++successes;
    }
    QVERIFY2(successes >= 8, qPrintable(QString("only %1 of 10 episodes succeeded").arg(successes)));
  }

  void cubeIsLiftedDuringTheTask() {
    RigConfig config = loadRigConfig("sim");
    SimHarness harness(config);
    harness.world().resetEpisode(7);
    double highest = 0.0;
    for (int t = 0; t < 400; ++t) {
      harness.loop->runTicks(1);
      highest = std::max(highest, harness.world().snapshot().cubeCenter.z());
    }
    QVERIFY2(highest > 0.1, qPrintable(QString("cube only reached %1 m").arg(highest)));
  }

  void followersTrackLeaders() {
    RigConfig config = loadRigConfig("sim-aloha");
    SimHarness harness(config);
    auto observations = harness.runEpisode(3, 600);  // 12 s: the operator finishes and rests at home
    QCOMPARE(observations.front().state.position.size(), std::size_t(14));
    double worstLag = 0.0;
    for (std::size_t t = 1; t < observations.size(); ++t)
      for (std::size_t j = 0; j < 14; ++j)
        worstLag =
            std::max(worstLag, std::abs(observations[t].state.position[j] - observations[t - 1].action[j]));
    QVERIFY2(worstLag < 0.2, qPrintable(QString("follower lags its goal by %1 rad").arg(worstLag)));
    LoopStatus status = harness.loop->status();
    QCOMPARE(status.leaders.position.size(), std::size_t(14));
    for (std::size_t j = 0; j < 14; ++j)
      QVERIFY2(std::abs(status.followers.position[j] - status.leaders.position[j]) < 1e-3,
               qPrintable(QString("joint %1: follower %2, leader %3")
                              .arg(j)
                              .arg(status.followers.position[j])
                              .arg(status.leaders.position[j])));
  }

  void idleModeHoldsFollowers() {
    RigConfig config = loadRigConfig("sim");
    SimHarness harness(config, /*teleoperated=*/false);
    auto observations = harness.runEpisode(5, 150);
    for (const auto& o : observations)
      QCOMPARE(o.state.position, observations.front().state.position);
    // ...while the operator did move the leader.
    QVERIFY(harness.loop->status().leaders.position != observations.front().state.position);
  }

  void safetyLimitsTheFollowerStep() {
    RigConfig config = loadRigConfig("sim");
    config.safety.maxJointSpeed = 0.5;  // rad/s: 0.01 rad per tick at 50 Hz
    SimHarness harness(config);
    auto observations = harness.runEpisode(9, 200);
    for (std::size_t t = 1; t < observations.size(); ++t)
      for (std::size_t j = 0; j < 7; ++j)
        QVERIFY(std::abs(observations[t].action[j] - observations[t - 1].action[j]) <= 0.01 + 1e-12);
    QVERIFY(harness.loop->status().safety.stepClamps > 0);
  }
};

QTEST_GUILESS_MAIN(SimTest)
#include "test_sim.moc"
