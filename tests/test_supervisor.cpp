// The scripted supervisor on the simulated rig, through the control loop and the real takeover state
// machine: a policy that does the task as the operator would is left alone; a policy that goes wrong is
// taken over by the scripted hand on the leader (the detector's cause names a leader joint), the task is
// done from wherever the robot was, and control comes back through the hand-back blend.
#include <QtTest>

#include "devices/sim/scripted_supervisor.hpp"
#include "policy/policy_controller.hpp"
#include "sim_harness.hpp"

using namespace flywheel;
using namespace flywheel::testing;

namespace {

// A policy stuck at one pose, gripper open: it never does the task.
class FixedPose final : public ActionSource {
 public:
  explicit FixedPose(JointVector pose) : pose_(std::move(pose)) {}
  std::optional<JointVector> nextAction(const ControlInput&) override { return pose_; }

 private:
  JointVector pose_;
};

// A policy that does what the operator's own plan says, from the pose it starts at: the perfect student.
class FollowsThePlan final : public ActionSource {
 public:
  explicit FollowsThePlan(sim::SimWorld& world) : world_(world) {}
  std::optional<JointVector> nextAction(const ControlInput& input) override {
    const auto arm = world_.operatorArm();
    if (!started_) {
      const sim::SceneSnapshot scene = world_.snapshot();
      const sim::HandTarget home = sim::ScriptedOperator::home(arm->kinematics);
      plan_ = sim::planFrom(home, home, scene.cubeCenter, scene.cubeYaw, false, scene.binCenter,
                            scene.binHeight, false);
      start_ = input.time;
      started_ = true;
    }
    const sim::HandTarget target = plan_.targetAt(input.time - start_);
    const auto q = arm->kinematics.inverseTopDown(target.position, target.yaw);
    if (!q) return std::nullopt;
    JointVector joints(q->begin(), q->end());
    joints.push_back(target.gripper);
    return joints;
  }

 private:
  sim::SimWorld& world_;
  sim::ScriptedOperator plan_;
  double start_ = 0.0;
  bool started_ = false;
};

// A policy run of at most `seconds` on scene `seed` with the scripted supervisor; stops once the cube
// rests in the bin and the policy has the robot back. Every tick is collected.
struct SupervisedRun {
  RigConfig config = loadRigConfig("sim");
  SimHarness harness{config, /*teleoperated=*/false};
  std::unique_ptr<ActionSource> policy;
  std::unique_ptr<PolicyController> controller;
  std::unique_ptr<sim::ScriptedSupervisor> supervisor;
  std::unique_ptr<sim::SupervisedController> supervised;
  CollectingSink sink;

  void run(unsigned seed, double seconds) {
    harness.world().resetEpisode(seed);
    harness.world().setHandOnLeaders(false);  // the policy drives; the hand is ready
    harness.loop->resyncGoals();
    controller = std::make_unique<PolicyController>(*policy, config.takeover, harness.loop->period());
    PolicyController* c = controller.get();
    supervisor = std::make_unique<sim::ScriptedSupervisor>(harness.world(), [c] { c->requestHandBack(); });
    supervised = std::make_unique<sim::SupervisedController>(*controller, *supervisor);
    harness.loop->setController(supervised.get());
    harness.loop->setSink(&sink);
    const auto ticks = static_cast<long>(seconds / harness.loop->period());
    for (long t = 0; t < ticks; ++t) {
      harness.loop->runTicks(1);
      const auto corrections = supervisor->corrections();
      const bool policyHasIt = corrections.empty() || corrections.back().end >= 0;
      if (harness.world().outcome().success && policyHasIt) break;
    }
    harness.loop->setSink(nullptr);
    harness.loop->setController(nullptr);
  }
};

}  // namespace

class SupervisorTest : public QObject {
  Q_OBJECT
 private Q_SLOTS:
  // A policy on the operator's plan: no takeover, and it succeeds by itself.
  void aPolicyOnThePlanIsLeftAlone() {
    SupervisedRun run;
    run.policy = std::make_unique<FollowsThePlan>(run.harness.world());
    run.run(5, 15.0);
    QVERIFY2(run.harness.world().outcome().success, "the plan puts the cube in the bin");
    QCOMPARE(run.controller->takeoverStatus().takeovers, std::uint64_t(0));
    QVERIFY(run.supervisor->corrections().empty());
    for (const Observation& o : run.sink.observations)
      QVERIFY(!o.intervention);
  }

  // A policy stuck beside the task: the hand takes over through the leader, as many times as it takes, and
  // the cube ends in the bin. Each correction spans exactly the ticks a human controlled.
  void aStuckPolicyIsCorrectedThroughTheLeader() {
    SupervisedRun run;
    run.policy = std::make_unique<FixedPose>(JointVector{0.3, 0.2, -0.2, 0.0, 0.3, 0.0, 0.8});
    run.run(5, 40.0);
    const TakeoverStatus status = run.controller->takeoverStatus();
    const std::vector<sim::Correction> corrections = run.supervisor->corrections();
    qInfo() << "takeovers" << status.takeovers << "last cause" << status.lastCause.c_str();
    for (const sim::Correction& c : corrections)
      qInfo() << c.reason.c_str() << c.start << c.end;
    QVERIFY2(run.harness.world().outcome().success, "the supervisor finished the task");
    QVERIFY(status.takeovers >= 1);
    QCOMPARE(status.takeovers, std::uint64_t(corrections.size()));
    QVERIFY2(status.lastCause.starts_with("leader moved: joint"), status.lastCause.c_str());
    QCOMPARE(run.supervisor->unnoticedGrabs(), 0);
    QVERIFY(corrections.front().reason == "off the plan" || corrections.front().reason == "no progress");
    // Handed back holding the cube, the policy opens its gripper at its pose, beside the bin.
    QCOMPARE(corrections.back().reason, std::string("dropped the cube"));
    QCOMPARE(status.control, Control::Policy);  // handed back through the blend
    for (const sim::Correction& c : corrections) {
      QVERIFY(c.end > c.start);
      QVERIFY(c.start > 0.5);  // the robot was given time to go wrong
    }
    // Human ticks are the corrections' spans, tick for tick.
    for (const Observation& o : run.sink.observations) {
      bool inside = false;
      for (const sim::Correction& c : corrections)
        inside = inside || (o.time >= c.start && o.time < c.end);
      QCOMPARE(o.intervention, inside);
    }
  }
};

QTEST_GUILESS_MAIN(SupervisorTest)
#include "test_supervisor.moc"
