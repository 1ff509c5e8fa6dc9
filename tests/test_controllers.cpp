// Each controller through the loop's seam, on mock arms (as ros2_control's mock components): what the
// loop writes to followers and leaders, who it reports in control, and what it hands the recorder.
#include <QtTest>

#include <atomic>
#include <memory>

#include "core/clock.hpp"
#include "core/config.hpp"
#include "core/control_loop.hpp"
#include "core/teleop_controller.hpp"
#include "policy/policy_controller.hpp"

using namespace flywheel;

namespace {

// An arm whose servos reach their goal within a tick while torque is on; a hand can hold it anywhere.
class MockArm final : public Arm {
 public:
  MockArm(std::string name, std::size_t joints, double at = 0.0)
      : name_(std::move(name)), position_(joints, at) {}
  std::string name() const override { return name_; }
  std::size_t jointCount() const override { return position_.size(); }
  void connect() override { connected_ = true; }
  void disconnect() override { connected_ = false; }
  bool isConnected() const override { return connected_; }
  JointState read() override {
    JointState s = JointState::zeros(position_.size());
    s.position = held_ ? *held_ : position_;
    return s;
  }
  void write(const JointVector& goal) override {
    writes.push_back(goal);
    if (torque) position_ = goal;
  }
  void setTorque(bool enabled) override { torque = enabled; }

  void moveTo(double value) { std::fill(position_.begin(), position_.end(), value); }
  void holdAt(double value) { held_ = JointVector(position_.size(), value); }
  void letGo() { held_.reset(); }

  std::vector<JointVector> writes;
  bool torque = true;  // followers hold torque; the loop switches leaders

 private:
  std::string name_;
  JointVector position_;
  std::optional<JointVector> held_;
  bool connected_ = true;
};

struct CollectingSink final : ObservationSink {
  std::vector<Observation> observations;
  void onObservation(const Observation& o) override { observations.push_back(o); }
};

// Proposes the same action every tick.
class FixedActions final : public ActionSource {
 public:
  explicit FixedActions(JointVector action) : action_(std::move(action)) {}
  std::optional<JointVector> nextAction(const ControlInput&) override { return action_; }

 private:
  JointVector action_;
};

// The bundled sim-aloha rig's limits and rates, on two leader and two follower mock arms of 7 joints.
struct MockRig {
  RigConfig config = loadRigConfig("sim-aloha");
  ManualClock clock;
  MockArm leftLeader{"left leader", 7}, rightLeader{"right leader", 7};
  MockArm leftFollower{"left follower", 7}, rightFollower{"right follower", 7};
  CollectingSink sink;
  std::unique_ptr<ControlLoop> loop;

  // pairs: (leader, follower) indices; the default pairs both.
  explicit MockRig(std::vector<std::pair<std::size_t, std::size_t>> pairs = {{0, 0}, {1, 1}}) {
    config.recordRateHz = config.controlRateHz;  // every tick reaches the sink
    leftLeader.torque = rightLeader.torque = false;
    RigDevices devices{
        {&leftLeader, &rightLeader}, {&leftFollower, &rightFollower}, std::move(pairs), {}, nullptr};
    loop = std::make_unique<ControlLoop>(config, std::move(devices), clock);
    loop->setSink(&sink);
  }
  double maxStep() const { return config.safety.maxJointSpeed / config.controlRateHz; }
};

}  // namespace

class ControllersTest : public QObject {
  Q_OBJECT
 private Q_SLOTS:
  // No controller: the followers are neither written nor moved, the leaders stay limp.
  void withoutAControllerTheFollowersHold() {
    MockRig rig;
    rig.leftLeader.moveTo(0.05);
    rig.loop->runTicks(5);
    QVERIFY(rig.leftFollower.writes.empty());
    QVERIFY(!rig.leftLeader.torque);
    const LoopStatus s = rig.loop->status();
    QCOMPARE(s.mode, ControlMode::Idle);
    QCOMPARE(s.inControl, InControl::Nobody);
    QCOMPARE(rig.sink.observations.size(), std::size_t(5));
    QCOMPARE(rig.sink.observations.back().action, JointVector(14, 0.0));
  }

  // Teleoperation: each follower gets its own leader's pose (safety clamps the step); an unpaired
  // follower holds; the leaders stay limp; nothing is recorded as an intervention.
  void teleopCopiesEachLeaderToItsFollower() {
    MockRig rig({{0, 0}});  // the right arm is unpaired
    TeleopController teleop;
    rig.loop->setController(&teleop);
    rig.leftLeader.moveTo(0.05);
    rig.rightLeader.moveTo(0.05);
    rig.loop->runTicks(1);
    QCOMPARE(rig.leftFollower.writes.back(), JointVector(7, 0.05));
    QCOMPARE(rig.rightFollower.writes.back(), JointVector(7, 0.0));

    rig.leftLeader.moveTo(1.0);  // far: the follower approaches at the safe step
    rig.loop->runTicks(1);
    const double step = rig.maxStep();
    QVERIFY(std::abs(rig.leftFollower.writes.back()[0] - (0.05 + step)) < 1e-9);
    QVERIFY(!rig.leftLeader.torque);
    QVERIFY(rig.leftLeader.writes.empty());
    const LoopStatus s = rig.loop->status();
    QCOMPARE(s.mode, ControlMode::Teleop);
    QCOMPARE(s.inControl, InControl::Human);
    QVERIFY(!rig.sink.observations.back().intervention);
    QVERIFY(rig.sink.observations.back().policyAction.empty());
  }

  // A policy drives: the followers move to its action, its proposal is recorded beside the executed
  // action, and the leaders are torqued and mirror their followers no faster than the safe step.
  void thePolicyDrivesAndTheLeadersMirror() {
    MockRig rig;
    FixedActions actions(JointVector(14, 0.2));
    PolicyController policy(actions, rig.config.takeover, rig.loop->period());
    rig.loop->setController(&policy);
    rig.loop->runTicks(10);
    QCOMPARE(rig.leftFollower.writes.back(), JointVector(7, 0.2));
    QCOMPARE(rig.rightFollower.writes.back(), JointVector(7, 0.2));
    QVERIFY(rig.leftLeader.torque);
    QVERIFY(!rig.leftLeader.writes.empty());
    for (std::size_t t = 1; t < rig.leftLeader.writes.size(); ++t)
      QVERIFY(std::abs(rig.leftLeader.writes[t][0] - rig.leftLeader.writes[t - 1][0]) <=
              rig.maxStep() + 1e-9);
    QCOMPARE(rig.leftLeader.writes.back(), JointVector(7, 0.2));  // caught up with its follower
    const Observation& last = rig.sink.observations.back();
    QCOMPARE(last.policyAction, JointVector(14, 0.2));
    QCOMPARE(last.action, JointVector(14, 0.2));
    QVERIFY(!last.intervention);
    QCOMPARE(rig.loop->status().mode, ControlMode::Policy);
    QCOMPARE(rig.loop->status().inControl, InControl::Policy);
  }

  // A hand holds a mirrored leader away from its goal: after the confirmation ticks the human is in
  // control, the leaders go limp, the followers track the leaders, and the ticks are interventions with
  // the policy's proposal still recorded. Handing back blends to the policy and torques the leaders again.
  void grabbingALeaderHandsControlToTheHuman() {
    MockRig rig;
    FixedActions actions(JointVector(14, 0.2));
    PolicyController policy(actions, rig.config.takeover, rig.loop->period());
    rig.loop->setController(&policy);
    rig.loop->runTicks(10);
    rig.leftLeader.holdAt(0.2 + 2 * rig.config.takeover.threshold);
    rig.loop->runTicks(static_cast<std::uint64_t>(rig.config.takeover.confirmTicks));
    QCOMPARE(policy.takeoverStatus().control, Control::Human);
    QVERIFY(policy.takeoverStatus().lastCause.starts_with("leader moved: joint 0"));
    rig.loop->runTicks(30);
    QVERIFY(!rig.leftLeader.torque);
    QVERIFY(std::abs(rig.leftFollower.writes.back()[0] - (0.2 + 2 * rig.config.takeover.threshold)) < 1e-9);
    QCOMPARE(rig.loop->status().mode, ControlMode::Intervention);
    QCOMPARE(rig.loop->status().inControl, InControl::Human);
    QVERIFY(rig.sink.observations.back().intervention);
    QCOMPARE(rig.sink.observations.back().policyAction, JointVector(14, 0.2));

    rig.leftLeader.letGo();
    policy.requestHandBack();
    const auto blendTicks =
        static_cast<std::uint64_t>(rig.config.takeover.handBackSeconds * rig.config.controlRateHz);
    rig.loop->runTicks(blendTicks / 2);
    QCOMPARE(policy.takeoverStatus().control, Control::HandingBack);
    QVERIFY(rig.leftLeader.torque);  // mirroring again while the blend runs
    rig.loop->runTicks(blendTicks / 2 + 2);
    QCOMPARE(policy.takeoverStatus().control, Control::Policy);
    rig.loop->runTicks(20);
    QCOMPARE(rig.leftFollower.writes.back(), JointVector(7, 0.2));
    QVERIFY(!rig.sink.observations.back().intervention);
  }

  // setController returns only once the loop is out of the old controller's update: a controller can be
  // destroyed right after it was replaced, while the loop thread runs.
  void aReplacedControllerIsNoLongerCalled() {
    struct Counting final : Controller {
      std::atomic<int> updates{0};
      ControlMode mode() const override { return ControlMode::Teleop; }
      ControlOutput update(const ControlInput& input) override {
        ++updates;
        return {input.lastGoal, std::nullopt, InControl::Human, {}};
      }
    };
    MockRig rig;
    rig.loop->setSink(nullptr);
    rig.loop->start();  // a manual clock: the thread ticks flat out
    for (int round = 0; round < 50; ++round) {
      auto counting = std::make_unique<Counting>();
      rig.loop->setController(counting.get());
      QVERIFY(QTest::qWaitFor([&] { return counting->updates.load() > 0; }, 5000));
      rig.loop->setController(nullptr);
      const int after = counting->updates.load();
      QTest::qWait(1);
      QCOMPARE(counting->updates.load(), after);
    }
    rig.loop->stop();
    QVERIFY(rig.loop->status().error.empty());
  }
};

QTEST_GUILESS_MAIN(ControllersTest)
#include "test_controllers.moc"
