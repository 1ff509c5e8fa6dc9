// Chunk execution (synchronous, ACT's temporal ensembling, asynchronous), the watchdog, and human takeover
// on the simulated rig with the flags read back from the episode file.
#include <QtTest>

#include <cmath>
#include <filesystem>
#include <thread>

#include "devices/servo/servo_emulator.hpp"
#include "policy/chunk_executor.hpp"
#include "policy/policy_controller.hpp"
#include "policy/takeover.hpp"
#include "policy_test_helpers.hpp"
#include "recorder/episode_reader.hpp"
#include "recorder/episode_recorder.hpp"
#include "recorder/episode_writer.hpp"
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

// Moves the followers from where they are towards a fixed pose: a policy with a visible effect.
class TowardsPosePolicy final : public Policy {
 public:
  explicit TowardsPosePolicy(JointVector pose, int horizon = 10)
      : pose_(std::move(pose)), horizon_(horizon) {}
  std::string describe() const override { return "towards-pose"; }
  PolicyOutput infer(const Observation& observation, const std::string&) override {
    if (fail) throw PolicyError("connection refused");
    if (sleepSeconds > 0) std::this_thread::sleep_for(std::chrono::duration<double>(sleepSeconds));
    PolicyOutput output;
    output.actions = {horizon_, static_cast<int>(pose_.size()), {}};
    for (int i = 1; i <= horizon_; ++i)
      for (std::size_t j = 0; j < pose_.size(); ++j) {
        const double from = observation.state.position[j];
        output.actions.values.push_back(from + (pose_[j] - from) * std::min(1.0, 0.05 * i));
      }
    if (sendNaN) output.actions.values[3] = std::nan("");
    return output;
  }
  std::atomic<bool> fail{false};
  std::atomic<bool> sendNaN{false};
  std::atomic<double> sleepSeconds{0.0};

 private:
  JointVector pose_;
  int horizon_;
};

TickInput observationAt(std::uint64_t tick, std::size_t joints) {
  return TickInput(tick, JointVector(joints, 0.0));
}

double first(const std::optional<JointVector>& action) {
  return action ? action->front() : std::nan("");
}

}  // namespace

// A pose of the simulated rig's seven joints for a policy to move towards.
const JointVector kSimPose{0.3, 0.2, -0.2, 0.0, 0.3, 0.0, 0.8};

// A fresh scene on the simulated rig with the operator's hand off the leaders: the policy drives.
void letGoOfTheLeaders(SimHarness& harness) {
  harness.world().resetEpisode(3);
  harness.world().setHandOnLeaders(false);
  harness.loop->resyncGoals();
}

// Proposes an action while `proposing` is true, nothing otherwise (a policy whose answers are late).
class IntermittentSource final : public ActionSource {
 public:
  explicit IntermittentSource(JointVector action) : action_(std::move(action)) {}
  std::optional<JointVector> nextAction(const ControlInput&) override {
    return proposing ? std::optional(action_) : std::nullopt;
  }
  bool proposing = true;

 private:
  JointVector action_;
};

// Feeds a supervisor one tick of a one-joint mirrored leader: where the leader is and where its goal is.
struct OneJointTicks {
  TakeoverSupervisor& supervisor;
  std::optional<JointVector> proposed = JointVector{0.0};
  std::vector<bool> ledByLeader{true};

  void tick(double leader, double leaderGoal) {
    const JointVector command{leader};
    const JointVector goal{leaderGoal};
    supervisor.decide({command, ledByLeader, goal, proposed});
  }
};

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

  // The simulated operator grabs the leader mid-run: the human takes over, the followers follow the
  // leader, the operator hands back and control blends back to the policy. The file says who was in control.
  void takeoverAndHandBackAreRecorded() {
    RigConfig config = loadRigConfig("sim");
    SimHarness harness(config, /*teleoperated=*/false);
    letGoOfTheLeaders(harness);
    TowardsPosePolicy policy(kSimPose);
    ExecutorOptions options{{ChunkMode::Synchronous, 5}};
    options.lockstep = true;
    options.ticksPerStep = config.recordDecimation();
    ChunkExecutor executor(policy, {}, 7, options, harness.clock, "");
    PolicyController supervisor(executor, config.takeover, harness.loop->period());
    harness.loop->setController(&supervisor);

    const std::string path = QDir::temp().filePath("flywheel_takeover_test.hdf5").toStdString();
    std::filesystem::remove(path);
    EpisodeInfo info = EpisodeRecorder::infoFor(config, "takeover test");
    info.policy = policy.describe();
    CollectingSink sink;
    harness.loop->setSink(&sink);

    harness.loop->runTicks(100);
    QCOMPARE(supervisor.takeoverStatus().control, Control::Policy);
    LoopStatus s = harness.loop->status();
    QVERIFY2(std::abs(s.leaders.position[1] - s.followers.position[1]) < 0.05,
             "the leader mirrors the follower while the policy drives");

    harness.world().setHandOnLeaders(true);  // the operator grabs the leader
    harness.loop->runTicks(config.takeover.confirmTicks + 2);
    QCOMPARE(supervisor.takeoverStatus().control, Control::Human);
    QVERIFY(supervisor.takeoverStatus().lastCause.starts_with("leader moved"));
    harness.loop->runTicks(100);
    s = harness.loop->status();
    QCOMPARE(s.mode, ControlMode::Intervention);
    QCOMPARE(s.goal, s.leaders.position);  // the follower follows the leader

    harness.world().setHandOnLeaders(false);
    supervisor.requestHandBack();
    const auto blendTicks =
        static_cast<std::uint64_t>(config.takeover.handBackSeconds * config.controlRateHz);
    harness.loop->runTicks(blendTicks / 2);
    QCOMPARE(supervisor.takeoverStatus().control, Control::HandingBack);
    harness.loop->runTicks(blendTicks / 2 + 5);
    QCOMPARE(supervisor.takeoverStatus().control, Control::Policy);
    harness.loop->runTicks(50);

    supervisor.requestTakeover();  // the key
    harness.loop->runTicks(10);
    QCOMPARE(supervisor.takeoverStatus().control, Control::Human);
    QCOMPARE(supervisor.takeoverStatus().lastCause, std::string("key"));
    QCOMPARE(supervisor.takeoverStatus().takeovers, std::uint64_t(2));
    harness.loop->setSink(nullptr);

    {
      EpisodeWriter writer(path, info);
      for (const Observation& o : sink.observations)
        writer.pushBlocking(o);
      writer.finish(std::nullopt);
    }
    EpisodeReader reader(path);
    QCOMPARE(reader.summary().interventions, 2);
    std::vector<double> flags = reader.readDoubles("/intervention");
    std::vector<double> proposed = reader.readDoubles("/policy_action");
    std::vector<double> executed = reader.readDoubles("/action");
    QCOMPARE(flags.size(), sink.observations.size());
    QCOMPARE(flags[50], 0.0);
    QCOMPARE(flags[150], 1.0);
    for (std::size_t t = 0; t < flags.size(); ++t)
      QCOMPARE(flags[t] != 0.0, sink.observations[t].intervention);
    // While the policy drives, what it proposed is what was executed; under the human it differs.
    QCOMPARE(proposed[50 * 7 + 1], executed[50 * 7 + 1]);
    QVERIFY(std::isfinite(proposed[150 * 7 + 1]));
    QVERIFY(std::abs(proposed[150 * 7 + 1] - executed[150 * 7 + 1]) > 1e-6);
    std::filesystem::remove(path);
  }

  // The grab detector on its own, tick by tick: a leader held away from a still goal is a grab; a leader
  // trailing a goal that moves at full speed is not; nor is one dropped and closing on its goal again.
  void grabDetectionToleratesServoLagAndReturn() {
    TakeoverConfig config;  // threshold 0.3 rad, 3 ticks, goals over the last 0.15 s count
    const double period = 0.01;

    TakeoverSupervisor trailing(config, period);
    OneJointTicks trail{trailing, {}};
    auto goalAt = [](int t) { return 0.06 * std::max(0, t); };  // still, then 6 rad/s from tick 0
    for (int t = -5; t < 40; ++t)  // the leader is where its goal was 8 ticks earlier: 0.48 rad behind
      trail.tick(goalAt(t - 8), goalAt(t));
    QCOMPARE(trailing.status().control, Control::Policy);

    TakeoverSupervisor dropped(config, period);
    OneJointTicks drop{dropped, {}};
    for (double leader : {0.0, 0.0, -1.2, -0.9, -0.7, -0.5, -0.38, -0.28, -0.2, -0.1, 0.0, 0.0})
      drop.tick(leader, 0.0);  // falls by 1.2 rad in a tick, then its servo brings it back
    QCOMPARE(dropped.status().control, Control::Policy);

    TakeoverSupervisor held(config, period);
    OneJointTicks hold{held, {}};
    for (double leader : {0.0, 0.0, 0.5, 0.5})
      hold.tick(leader, 0.0);
    QCOMPARE(held.status().control, Control::Policy);  // two ticks over: not yet
    hold.tick(0.5, 0.0);
    QCOMPARE(held.status().control, Control::Human);
    QCOMPARE(held.status().lastCause, std::string("leader moved: joint 0 by 0.50"));

    TakeoverSupervisor heldWhileGoalMoves(config, period);
    OneJointTicks stay{heldWhileGoalMoves, {}};
    int ticks = 0;
    for (; ticks < 40 && heldWhileGoalMoves.status().control == Control::Policy; ++ticks)
      stay.tick(0.0, 0.06 * ticks);  // the hand keeps the leader at 0 while its goal leaves
    QCOMPARE(heldWhileGoalMoves.status().control, Control::Human);
    QVERIFY2(ticks <= 15 + 5 + config.confirmTicks, qPrintable(QString("noticed after %1 ticks").arg(ticks)));
  }

  // Handing back blends over the ticks that have a policy action; with none, the followers hold where the
  // blend got to (no snap back to the human's pose) and the blend waits.
  void handBackWaitsForThePolicysActions() {
    TakeoverConfig config;
    config.handBackSeconds = 0.1;  // 10 ticks
    IntermittentSource policy({1.0});
    TakeoverSupervisor supervisor(config, 0.01);
    const std::vector<bool> led{true};
    const JointVector human{0.0};
    auto tick = [&] {
      const std::optional<JointVector> proposed = policy.nextAction(TickInput(0, human));
      return supervisor.decide({human, led, human, proposed});
    };

    supervisor.requestTakeover();
    QVERIFY(tick().humanInControl);
    supervisor.requestHandBack();
    for (int t = 1; t <= 4; ++t) {
      const TakeoverDecision blended = tick();
      QVERIFY(blended.goal.has_value());
      QCOMPARE((*blended.goal)[0], 0.1 * t);
      QVERIFY(blended.humanInControl);
    }
    policy.proposing = false;
    for (int t = 0; t < 20; ++t) {
      const TakeoverDecision waiting = tick();
      QVERIFY(!waiting.goal.has_value());  // hold
      QVERIFY(waiting.humanInControl);
    }
    QCOMPARE(supervisor.status().control, Control::HandingBack);
    policy.proposing = true;
    QCOMPARE((*tick().goal)[0], 0.5);  // on from where it stopped
    for (int t = 6; t <= 10; ++t)
      tick();
    QCOMPARE(supervisor.status().control, Control::Policy);
    const TakeoverDecision own = tick();
    QCOMPARE((*own.goal)[0], 1.0);
    QVERIFY(!own.humanInControl);
  }

  // Run, teleoperate (the leader moves elsewhere), run again: the second run takes the leader from where
  // it is now, without a lurch towards where the first run left it and without a false takeover.
  void aSecondRunStartsWhereTheLeadersAre() {
    RigConfig config = loadRigConfig("sim");
    SimHarness harness(config, /*teleoperated=*/false);
    letGoOfTheLeaders(harness);
    TowardsPosePolicy policy(kSimPose);
    ExecutorOptions options{{ChunkMode::Synchronous, 5}};
    options.lockstep = true;
    ChunkExecutor executor(policy, {}, 7, options, harness.clock, "");
    PolicyController first(executor, config.takeover, harness.loop->period());
    harness.loop->setController(&first);
    harness.loop->runTicks(100);
    harness.loop->setController(&harness.teleop);
    harness.world().setHandOnLeaders(true);
    harness.loop->runTicks(150);  // the scripted operator moves the leader well away
    harness.world().setHandOnLeaders(false);
    const JointVector leaderBefore = harness.loop->status().leaders.position;

    PolicyController second(executor, config.takeover, harness.loop->period());
    harness.loop->setController(&second);
    harness.loop->runTicks(2);
    const JointVector leaderAfter = harness.loop->status().leaders.position;
    for (std::size_t j = 0; j < leaderBefore.size(); ++j)
      QVERIFY2(std::abs(leaderAfter[j] - leaderBefore[j]) < 0.05,
               qPrintable(QString("joint %1 lurched").arg(j)));
    harness.loop->runTicks(50);
    QCOMPARE(second.takeoverStatus().takeovers, std::uint64_t(0));
    QCOMPARE(second.takeoverStatus().control, Control::Policy);
  }

  // The same on Dynamixel servos, through real protocol bytes on the pseudo-terminal emulator: the leader
  // follows the follower with torque on; a hand grabs one of its servos and pushes it away; the studio
  // notices, releases the leader and the follower follows the hand; handing back torques the leader again.
  void aHandPushingAnEmulatedLeaderTakesOver() {
    RigConfig config = loadRigConfig("koch-emulated");
    SteadyClock clock;
    Rig rig(config, clock);
    rig.connect();
    ControlLoop loop(rig.config(), rig.devices(), clock);
    TowardsPosePolicy policy({0.4, -0.3, 0.5, 0.2, -0.2, 0.6}, 20);
    ExecutorOptions options{{ChunkMode::Asynchronous}};
    options.ticksPerStep = config.recordDecimation();
    options.stepSeconds = 1.0 / config.recordRateHz;
    ChunkExecutor executor(policy, {}, 6, options, clock, "");
    PolicyController supervisor(executor, config.takeover, loop.period());
    ServoEmulator& leader = *rig.emulatorFor("leader");
    ServoEmulator& follower = *rig.emulatorFor("follower");
    loop.setController(&supervisor);
    loop.start();
    QTRY_VERIFY_WITH_TIMEOUT(executor.status().health == PolicyHealth::Running, 5000);
    QTRY_VERIFY_WITH_TIMEOUT(leader.torqueEnabled(2), 2000);  // mirroring
    QTRY_VERIFY_WITH_TIMEOUT(std::abs(leader.presentPosition(2) - follower.presentPosition(2)) < 40, 5000);
    QCOMPARE(supervisor.takeoverStatus().control, Control::Policy);

    const int pushedTo = leader.presentPosition(2) + 600;  // about 0.9 rad on a 4096-step servo
    leader.holdByHand(2, pushedTo);
    QTRY_COMPARE_WITH_TIMEOUT(supervisor.takeoverStatus().control, Control::Human, 2000);
    QVERIFY2(supervisor.takeoverStatus().lastCause.starts_with("leader moved: joint 1 by"),
             supervisor.takeoverStatus().lastCause.c_str());
    QTRY_VERIFY_WITH_TIMEOUT(!leader.torqueEnabled(2), 2000);  // a limp leader for the human
    QTRY_VERIFY_WITH_TIMEOUT(std::abs(follower.goalPosition(2) - pushedTo) < 40, 5000);

    // The operator hands back (the key) but keeps holding the leader against its torque: the blend moves
    // the leader's goal away from the hand, which counts as a grab, and the human has control again.
    supervisor.requestHandBack();
    QTRY_VERIFY_WITH_TIMEOUT(leader.torqueEnabled(2), 2000);
    QTRY_COMPARE_WITH_TIMEOUT(supervisor.takeoverStatus().takeovers, std::uint64_t(2), 5000);
    QCOMPARE(supervisor.takeoverStatus().control, Control::Human);
    QVERIFY2(supervisor.takeoverStatus().lastCause.starts_with("leader moved: joint 1 by"),
             supervisor.takeoverStatus().lastCause.c_str());

    // Let go, then hand back: the policy keeps control.
    leader.holdByHand(2, std::nullopt);
    supervisor.requestHandBack();
    QTRY_COMPARE_WITH_TIMEOUT(supervisor.takeoverStatus().control, Control::Policy, 5000);
    QTRY_VERIFY_WITH_TIMEOUT(leader.torqueEnabled(2), 2000);
    QTest::qWait(300);
    QCOMPARE(supervisor.takeoverStatus().control, Control::Policy);
    QCOMPARE(supervisor.takeoverStatus().takeovers, std::uint64_t(2));
    loop.stop();
    QTRY_VERIFY_WITH_TIMEOUT(!leader.torqueEnabled(2),
                             2000);  // a stopped loop leaves the leader free for the next teleoperator
    QVERIFY(loop.status().error.empty());
  }
};

QTEST_GUILESS_MAIN(PolicyTest)
#include "test_policy.moc"
