// A main policy with a local fallback (policy/fallback_source.hpp): who drives when the main policy fails,
// stalls and comes back, the blend at each switch, and /policy_source as recorded and read back (hostile
// files included). The openpi server over loopback is in tests/policy/run_cli_test.sh.
#include <QtTest>

#include <cmath>

#include "h5py_edit.hpp"
#include "policy/chunk_executor.hpp"
#include "policy/fallback_source.hpp"
#include "policy/policy_controller.hpp"
#include "policy_test_helpers.hpp"
#include "recorder/episode_reader.hpp"
#include "recorder/episode_recorder.hpp"
#include "recorder/episode_writer.hpp"
#include "sim_harness.hpp"

using namespace flywheel;
using namespace flywheel::testing;

namespace {

constexpr double kStep = 0.02;  // one policy step and one control tick here (ticksPerStep 1)

ExecutorOptions lockstepOptions(bool wallLatency = false) {
  ExecutorOptions options{{ChunkMode::Synchronous, 5}};
  options.lockstep = true;
  options.wallLatency = wallLatency;
  options.watchdogSeconds = 0.2;
  options.retrySeconds = 0.1;
  return options;
}

// Every action at `value`: a switch to it without a blend is one jump.
class ConstantPolicy final : public Policy {
 public:
  explicit ConstantPolicy(double value) : value_(value) {}
  std::string describe() const override { return "constant"; }
  PolicyOutput infer(const Observation& observation, const std::string&) override {
    if (fail) throw PolicyError("model failed");
    PolicyOutput output;
    output.actions = {10, static_cast<int>(observation.state.position.size()), {}};
    output.actions.values.assign(10 * observation.state.position.size(), value_);
    return output;
  }
  std::atomic<bool> fail{false};

 private:
  double value_;
};

// A main policy heading for +1 and a fallback holding -1, both executed by a FallbackSource whose
// followers reach every goal (lastGoal is the last action).
struct Pair {
  ManualClock clock;
  TowardsPosePolicy mainPolicy{JointVector(3, 1.0)};
  ConstantPolicy fallbackPolicy{-1.0};
  ChunkExecutor main;
  ChunkExecutor fallback;
  FallbackSource source;
  JointVector goal = JointVector(3, 0.0);
  std::uint64_t tick = 0;

  explicit Pair(bool wallLatency = false)
      : main(mainPolicy, {}, 3, lockstepOptions(wallLatency), clock, ""),
        fallback(fallbackPolicy, {}, 3, lockstepOptions(), clock, ""),
        source(main, fallback, {0.1, 3, kStep}, clock) {}

  // One tick: the action (or a hold) and who produced it; the largest joint move it commanded.
  double step() {
    TickInput input(tick++, goal);
    const std::optional<JointVector> action = source.nextAction(input);
    clock.advance(kStep);
    double moved = 0.0;
    if (action) {
      for (std::size_t j = 0; j < goal.size(); ++j)
        moved = std::max(moved, std::abs((*action)[j] - goal[j]));
      goal = *action;
    }
    return moved;
  }
};

}  // namespace

class FallbackTest : public QObject {
  Q_OBJECT
 private Q_SLOTS:
  // Errors from the main policy hand the robot to the fallback, blended; three valid answers in a row hand
  // it back, blended too; every switch is listed with its reason.
  void fallbackDrivesWhileTheMainPolicyFailsAndHandsBack() {
    Pair p;
    for (int i = 0; i < 30; ++i)
      p.step();
    QCOMPARE(p.source.source(), PolicySource::Main);
    QCOMPARE(p.fallback.status().inferences, std::uint64_t(0));  // paused while the main policy drives
    QVERIFY(p.goal[0] > 0.3);
    p.mainPolicy.fail = true;
    double worst = 0.0;
    for (int i = 0; i < 40; ++i)
      worst = std::max(worst, p.step());
    QCOMPARE(p.source.source(), PolicySource::Fallback);
    QCOMPARE(p.source.driving(), PolicySource::Fallback);
    QVERIFY2(std::abs(p.goal[0] + 1.0) < 1e-9, "the fallback drives, after the blend");
    p.mainPolicy.fail = false;
    for (int i = 0; i < 60; ++i)
      worst = std::max(worst, p.step());
    QCOMPARE(p.source.source(), PolicySource::Main);
    const std::vector<SourceSwitch> switches = p.source.switches();
    QCOMPARE(switches.size(), std::size_t(2));
    QCOMPARE(switches[0].to, PolicySource::Fallback);
    QCOMPARE(switches[0].reason, std::string("connection refused"));
    QCOMPARE(switches[1].to, PolicySource::Main);
    QCOMPARE(switches[1].reason, std::string("3 valid answers in a row"));
    QVERIFY(switches[1].time > switches[0].time);
    QCOMPARE(p.source.heldTicks(), std::uint64_t(0));  // in lockstep the fallback answers at once
    // Without the blend the switch to the fallback jumps by 1.5 or more; blended over 5 ticks (0.1 s), a
    // fifth of that per tick.
    QVERIFY2(worst > 0.25 && worst < 0.4, qPrintable(QString("largest step %1").arg(worst)));
  }

  // A main policy that stalls (no answer) costs simulated time in wall-latency lockstep, so the watchdog
  // fires and the fallback drives; once it answers again it takes back over.
  void aStalledMainPolicyIsReplacedAfterTheWatchdog() {
    Pair p(/*wallLatency=*/true);
    for (int i = 0; i < 20; ++i)
      p.step();
    QCOMPARE(p.source.source(), PolicySource::Main);
    p.mainPolicy.sleepSeconds = 0.5;  // longer than the 0.2 s watchdog
    const double stalledAt = p.clock.now();
    while (p.source.driving() == PolicySource::Main && p.clock.now() - stalledAt < 5.0)
      p.step();
    QCOMPARE(p.source.driving(), PolicySource::Fallback);
    QVERIFY2(p.source.switches()[0].reason.starts_with("no answer from towards-pose for"),
             p.source.switches()[0].reason.c_str());
    p.mainPolicy.sleepSeconds = 0.0;
    while (p.source.driving() == PolicySource::Fallback && p.clock.now() - stalledAt < 10.0)
      p.step();
    QCOMPARE(p.source.driving(), PolicySource::Main);
  }

  // Wall-latency lockstep: an answer that took 0.1 s of wall time reaches the plan 0.1 s of simulated time
  // after its request, not at once as plain lockstep has it.
  void wallLatencyDelaysAnswersInSimulatedTime() {
    auto firstActionAt = [](bool wallLatency) {
      ManualClock clock;
      TowardsPosePolicy policy(JointVector(3, 1.0));
      policy.sleepSeconds = 0.1;
      ChunkExecutor executor(policy, {}, 3, lockstepOptions(wallLatency), clock, "");
      for (std::uint64_t tick = 0; tick < 100; ++tick) {
        if (executor.nextAction(TickInput(tick, JointVector(3, 0.0)))) return clock.now();
        clock.advance(kStep);
      }
      return -1.0;
    };
    QCOMPARE(firstActionAt(false), 0.0);
    const double late = firstActionAt(true);
    QVERIFY2(late >= 0.1 - 1e-9 && late < 0.2, qPrintable(QString::number(late)));
  }

  // The policy controller records who produced each goal: the human during a takeover, none while holding.
  void theControllerReportsTheSource() {
    Pair p;
    TakeoverConfig takeover;
    takeover.mirrorLeaders = false;
    PolicyController controller(p.source, takeover, kStep);
    auto tick = [&] {
      TickInput input(p.tick++, p.goal);
      ControlOutput output = controller.update(input);
      p.clock.advance(kStep);
      p.goal = output.followerGoal;
      return output.source;
    };
    QCOMPARE(tick(), PolicySource::Main);
    controller.requestTakeover();
    QCOMPARE(tick(), PolicySource::Human);
    controller.requestHandBack();
    for (int i = 0; i < 100; ++i)
      tick();
    p.mainPolicy.fail = true;
    p.fallbackPolicy.fail = true;
    PolicySource last = PolicySource::Main;
    for (int i = 0; i < 30; ++i)
      last = tick();
    QCOMPARE(last, PolicySource::None);
    QVERIFY(p.source.heldTicks() > 0);
  }

  // On the simulated rig: /policy_source as recorded says which policy drove each tick, and a file whose
  // /policy_source is damaged is refused with the reason; a file without one reads as none.
  void policySourceIsRecordedAndReadBackCheckingItsShape() {
    RigConfig config = loadRigConfig("sim");
    SimHarness harness(config, /*teleoperated=*/false);
    TowardsPosePolicy mainPolicy(JointVector(7, 0.3));
    TowardsPosePolicy fallbackPolicy(JointVector(7, 0.2));
    ExecutorOptions options = lockstepOptions();
    options.ticksPerStep = config.recordDecimation();
    options.stepSeconds = 1.0 / config.recordRateHz;
    ChunkExecutor main(mainPolicy, {}, 7, options, harness.clock, "");
    ChunkExecutor fallback(fallbackPolicy, {}, 7, options, harness.clock, "");
    FallbackSource source(main, fallback, {0.1, 3, 1.0 / config.controlRateHz}, harness.clock);
    PolicyController controller(source, config.takeover, 1.0 / config.controlRateHz);
    harness.loop->setController(&controller);
    harness.world().setHandOnLeaders(false);  // as a policy run starts: nobody holds the leaders
    std::vector<Observation> ticks = harness.runEpisode(1, 100 * options.ticksPerStep);
    mainPolicy.fail = true;
    harness.loop->setSink(nullptr);
    std::vector<Observation> more = harness.runEpisode(1, 100 * options.ticksPerStep);
    ticks.insert(ticks.end(), more.begin(), more.end());

    QTemporaryDir dir;
    const std::string path = dir.filePath("e.hdf5").toStdString();
    EpisodeInfo info = EpisodeRecorder::infoFor(config, "x");
    info.policy = "main";
    {
      EpisodeWriter writer(path, info);
      for (const Observation& o : ticks)
        writer.pushBlocking(o);
      writer.finish(std::nullopt);
    }
    const std::vector<PolicySource> sources = EpisodeReader(path).readPolicySources();
    QCOMPARE(sources.size(), ticks.size());
    QCOMPARE(sources[50], PolicySource::Main);
    QCOMPARE(sources.back(), PolicySource::Fallback);
    for (std::size_t t = 0; t < ticks.size(); ++t)
      QCOMPARE(sources[t], ticks[t].policySource);

    QVERIFY(h5pyEdit(path, "import h5py; print(h5py.check_enum_dtype(f['policy_source'].dtype))"));
    const std::string bad = dir.filePath("bad.hdf5").toStdString();
    for (auto [edit, why] : std::initializer_list<std::pair<const char*, const char*>>{
             {"replace(f, 'policy_source', np.full(f['action'].shape[0], 7, np.uint8))", "holds 7 at tick 0"},
             {"replace(f, 'policy_source', np.zeros(3, np.uint8))", "expected [200] sources"},
             {"replace(f, 'policy_source', np.zeros(f['action'].shape[0]))", "expected [200] sources"},
             {"replace(f, 'policy_source', np.zeros((f['action'].shape[0], 2), np.uint8))", "expected [200]"},
         }) {
      std::filesystem::copy_file(path, bad, std::filesystem::copy_options::overwrite_existing);
      QVERIFY(h5pyEdit(bad, edit));
      try {
        EpisodeReader(bad).readPolicySources();
        QFAIL(edit);
      } catch (const RecorderError& e) {
        QVERIFY2(std::string(e.what()).find(why) != std::string::npos, e.what());
      }
    }
    std::filesystem::copy_file(path, bad, std::filesystem::copy_options::overwrite_existing);
    QVERIFY(h5pyEdit(bad, "del f['policy_source']"));
    QVERIFY(EpisodeReader(bad).readPolicySources().empty());
  }
};

QTEST_GUILESS_MAIN(FallbackTest)
#include "test_fallback.moc"
