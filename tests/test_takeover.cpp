// Human takeover: the grab detector and hand-back blend tick by tick, and on the simulated rig and the
// emulated Dynamixel rig through the loop, with the flags read back from the episode file.
#include <QtTest>

#include <cmath>
#include <filesystem>

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

}  // namespace

class TakeoverTest : public QObject {
  Q_OBJECT
 private Q_SLOTS:
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

QTEST_GUILESS_MAIN(TakeoverTest)
#include "test_takeover.moc"
