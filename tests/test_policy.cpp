// Chunk execution (synchronous, ACT's temporal ensembling, asynchronous) and the watchdog. Human takeover
// is in test_takeover.cpp.
#include <QtTest>

#include <cmath>
#include <filesystem>
#include <thread>

#include "policy/chunk_executor.hpp"
#include "policy_test_helpers.hpp"
#include "sim_harness.hpp"

using namespace flywheel;
using namespace flywheel::testing;

namespace {

// [H, J] with row i holding value(i) in every joint.
ActionChunk chunkOf(int horizon, int joints, const std::function<double(int)>& value) {
  ActionChunk chunk{horizon, joints, {}};
  for (int i = 0; i < horizon; ++i)
    chunk.values.insert(chunk.values.end(), static_cast<std::size_t>(joints), value(i));
  return chunk;
}

TickInput observationAt(std::uint64_t tick, std::size_t joints) {
  return TickInput(tick, JointVector(joints, 0.0));
}

double first(const std::optional<JointVector>& action) {
  return action ? action->front() : std::nan("");
}

}  // namespace

class PolicyTest : public QObject {
  Q_OBJECT
 private Q_SLOTS:
  // A policy address as shown and stored: credentials and query values hidden, the rest kept.
  void addressesAreRedacted() {
    for (auto [given, shown] : std::initializer_list<std::pair<const char*, const char*>>{
             {"ws://user:pass@host/?token=abc", "ws://***@host/?token=***"},
             {"wss://gpu.example:8443", "wss://gpu.example:8443"},
             {"ws://10.0.0.2:8000/policy?token=abc&team=x&flag#frag",
              "ws://10.0.0.2:8000/policy?token=***&team=***&***#***"},
             {"ws://key@host:8000", "ws://***@host:8000"},
             {"ws://a@b:c@host?k=v", "ws://***@host?k=***"},
             {"ws://host/?", "ws://host/?"},
             {"models/act.pt", "models/act.pt"},
             {"http://u:p@h/x?y=z", "http://***@h/x?y=***"},
         })
      QCOMPARE(redactAddress(given), std::string(shown));
  }

  void synchronousExecutesKStepsThenAsksAgain() {
    ChunkPlan plan({ChunkMode::Synchronous, 3});
    QVERIFY(plan.wantsInference(0, 0));
    plan.add(chunkOf(10, 2, [](int i) { return i; }), 0, 2);  // the robot waited two steps for it
    QCOMPARE(first(plan.actionAt(2)), 0.0);
    QCOMPARE(first(plan.actionAt(4)), 2.0);
    QVERIFY(!plan.actionAt(5));
    QVERIFY(!plan.wantsInference(4, 0));
    QVERIFY(plan.wantsInference(5, 0));
  }

  void temporalEnsemblingWeighsTheOldestPredictionMost() {
    ChunkPlan plan({ChunkMode::TemporalEnsembling});
    plan.add(chunkOf(10, 1, [](int) { return 1.0; }), 0, 0);
    plan.add(chunkOf(10, 1, [](int) { return 2.0; }), 1, 1);
    QCOMPARE(first(plan.actionAt(0)), 1.0);
    const double w1 = std::exp(-0.01);
    QVERIFY(std::abs(first(plan.actionAt(1)) - (1.0 + 2.0 * w1) / (1.0 + w1)) < 1e-12);
    // Predictions are aligned by the step they are meant for: chunks that agree average to themselves.
    ChunkPlan aligned({ChunkMode::TemporalEnsembling});
    aligned.add(chunkOf(10, 1, [](int i) { return i; }), 0, 0);
    aligned.add(chunkOf(10, 1, [](int i) { return 3 + i; }), 3, 4);
    QCOMPARE(first(aligned.actionAt(5)), 5.0);
    QVERIFY(aligned.wantsInference(5, 0));  // ACT asks every step
    QVERIFY(!aligned.actionAt(13));         // past every chunk: nothing planned, the robot holds
  }

  void asynchronousSkipsTheLatencyAndBlendsTheOverlap() {
    ChunkPlan plan({ChunkMode::Asynchronous, 10, 0.01, 4});
    plan.add(chunkOf(20, 1, [](int) { return 0.0; }), 0, 0);
    QVERIFY(!plan.wantsInference(5, 2.0));
    QVERIFY(plan.wantsInference(10, 2.0));  // executed k = 10 actions: ask while the rest runs
    // Computed from step 10's observation, it arrives at step 13: its first three actions are stale.
    plan.add(chunkOf(20, 1, [](int i) { return 100.0 + i; }), 10, 13);
    QCOMPARE(first(plan.actionAt(13)), 0.2 * 103.0);  // one fifth of the new chunk
    QCOMPARE(first(plan.actionAt(16)), 0.8 * 106.0);
    QCOMPARE(first(plan.actionAt(17)), 107.0);  // blend over: the new chunk alone
    QCOMPARE(first(plan.actionAt(29)), 119.0);
    QVERIFY(!plan.actionAt(30));
    QVERIFY(plan.wantsInference(27, 2.0));  // three steps left, two steps of latency: ask now
  }

  void malformedChunksAreNamed() {
    QCOMPARE(chunkProblem(chunkOf(5, 14, [](int) { return 0.0; }), 14), std::string());
    QCOMPARE(chunkProblem(chunkOf(5, 7, [](int) { return 0.0; }), 14),
             std::string("actions of 7 joints for a rig of 14"));
    ActionChunk nan = chunkOf(5, 14, [](int) { return 0.0; });
    nan.values[14 * 2 + 3] = std::nan("");
    QCOMPARE(chunkProblem(nan, 14), std::string("NaN at step 2, joint 3"));
    QCOMPARE(chunkProblem(ActionChunk{}, 14), std::string("an empty action chunk"));
  }

  // Replaying a teleoperated episode's actions synchronously reproduces the follower's motion exactly:
  // the loop executes chunks, applies the same safety and the simulation is deterministic.
  void replayThroughTheExecutorReproducesTheEpisode() {
    RigConfig config = loadRigConfig("sim");
    SimHarness teleop(config);
    auto demonstration = teleop.runEpisode(11, 400);

    SimHarness replay(config, /*teleoperated=*/false);
    ReplayPolicy policy(column(demonstration, true), 7, 10);
    ExecutorOptions options{{ChunkMode::Synchronous, 10}};
    options.lockstep = true;
    ChunkExecutor executor(policy, {}, 7, options, replay.clock, "replay");
    ActionsOnlyController controller(executor);
    replay.loop->setController(&controller);
    auto replayed = replay.runEpisode(11, 400);
    QCOMPARE(executor.status().inferences, std::uint64_t(40));
    QCOMPARE(column(replayed, true), column(demonstration, true));
    QCOMPARE(column(replayed, false), column(demonstration, false));
    QVERIFY(!replayed[5].intervention);
    QCOMPARE(replayed[5].policyAction, replayed[5].action);
  }

  void policyRunningDryHolds() {
    RigConfig config = loadRigConfig("sim");
    SimHarness harness(config, /*teleoperated=*/false);
    ReplayPolicy policy(std::vector<double>(7 * 5, 0.1), 7, 5);
    ExecutorOptions options{{ChunkMode::Synchronous, 5}};
    options.lockstep = true;
    ChunkExecutor executor(policy, {}, 7, options, harness.clock, "");
    ActionsOnlyController controller(executor);
    harness.loop->setController(&controller);
    auto observations = harness.runEpisode(1, 100);
    // After five actions the policy has nothing more (an empty chunk is refused): the last goal is held.
    QCOMPARE(observations.back().action, observations[10].action);
    QCOMPARE(executor.status().health, PolicyHealth::Holding);
    QVERIFY(executor.status().reason.find("an empty action chunk") != std::string::npos);
  }

  // A policy that fails (server gone) or answers NaN holds the robot with the reason; it resumes when
  // valid chunks come back.
  void watchdogHoldsOnErrorsAndResumes() {
    ManualClock clock;
    TowardsPosePolicy policy(JointVector(7, 1.0));
    ExecutorOptions options{{ChunkMode::Synchronous, 5}};
    options.lockstep = true;
    ChunkExecutor executor(policy, {}, 7, options, clock, "");
    std::uint64_t tick = 0;
    auto step = [&] {
      auto action = executor.nextAction(observationAt(tick++, 7));
      clock.advance(options.stepSeconds);
      return action;
    };
    QVERIFY(step().has_value());
    policy.fail = true;
    for (int i = 0; i < 10; ++i)
      step();
    QVERIFY(!step().has_value());
    QCOMPARE(executor.status().health, PolicyHealth::Holding);
    QCOMPARE(executor.status().reason, std::string("connection refused"));
    policy.fail = false;
    policy.sendNaN = true;
    for (int i = 0; i < 20; ++i)
      step();
    QVERIFY(!step().has_value());
    QVERIFY2(executor.status().reason.find("NaN at step 0, joint 3") != std::string::npos,
             executor.status().reason.c_str());
    QVERIFY(executor.status().refused >= 1);
    policy.sendNaN = false;
    bool resumed = false;
    for (int i = 0; i < 20 && !resumed; ++i)
      resumed = step().has_value();
    QVERIFY(resumed);
    QCOMPARE(executor.status().health, PolicyHealth::Running);
  }

  // A slow answer: the loop keeps ticking, holds once the watchdog time passes, and names the wait.
  void watchdogHoldsWhenTheAnswerIsLate() {
    SteadyClock clock;
    TowardsPosePolicy policy(JointVector(7, 1.0));
    ExecutorOptions options{{ChunkMode::Synchronous, 5}};
    options.watchdogSeconds = 0.1;
    ChunkExecutor executor(policy, {}, 7, options, clock, "");
    std::uint64_t tick = 0;
    QTRY_VERIFY_WITH_TIMEOUT(executor.nextAction(observationAt(tick++, 7)).has_value(), 5000);
    policy.sleepSeconds = 0.4;
    QTRY_VERIFY_WITH_TIMEOUT(
        (executor.nextAction(observationAt(tick++, 7)), executor.status().health == PolicyHealth::Holding),
        5000);
    QVERIFY2(executor.status().reason.starts_with("no answer from towards-pose for"),
             executor.status().reason.c_str());
    policy.sleepSeconds = 0.0;
    QTRY_VERIFY_WITH_TIMEOUT(executor.nextAction(observationAt(tick++, 7)).has_value(), 5000);
  }

  // With 80 ms of latency and chunks of one second, asynchronous execution never runs out of actions,
  // while synchronous execution stops for every inference.
  void asynchronousExecutionNeverStalls() {
    auto heldSteps = [](ChunkMode mode) {
      SteadyClock clock;
      TowardsPosePolicy policy(JointVector(7, 1.0), 50);
      ExecutorOptions options{{mode, 25}};
      ChunkExecutor executor(policy, {}, 7, options, clock, "");
      std::uint64_t tick = 0;
      while (!executor.nextAction(observationAt(tick++, 7)))
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
      policy.sleepSeconds = 0.08;
      int held = 0;
      for (int i = 0; i < 150; ++i) {
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
        if (!executor.nextAction(observationAt(tick++, 7))) ++held;
      }
      return held;
    };
    const int asyncHeld = heldSteps(ChunkMode::Asynchronous);
    const int syncHeld = heldSteps(ChunkMode::Synchronous);
    QVERIFY2(asyncHeld == 0, qPrintable(QString("async held %1 steps").arg(asyncHeld)));
    QVERIFY2(syncHeld >= 6, qPrintable(QString("sync held %1 steps").arg(syncHeld)));
  }
};

QTEST_GUILESS_MAIN(PolicyTest)
#include "test_policy.moc"
