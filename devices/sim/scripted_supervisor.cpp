#include "devices/sim/scripted_supervisor.hpp"

#include <algorithm>
#include <cmath>

#include "devices/sim/sim_world.hpp"

namespace flywheel::sim {
namespace {

constexpr double kAbove = 0.12;   // the height the operator reaches over the cube from
constexpr double kCarry = 0.16;   // the height the cube is carried at
constexpr double kLifted = 0.10;  // a held cube this high: the hard part is done
constexpr double kSpeed = 0.2;    // m/s of the hand between waypoints
constexpr std::size_t kGripper = 6;

double travel(const Eigen::Vector3d& from, const Eigen::Vector3d& to, double least) {
  return std::max(least, (to - from).norm() / kSpeed);
}

}  // namespace

ScriptedOperator planFrom(const HandTarget& start, const HandTarget& home, const Eigen::Vector3d& cube,
                          double cubeYaw, bool cubeHeld, const Eigen::Vector2d& bin, double binHeight,
                          bool untilGrasp) {
  std::vector<ScriptedOperator::Waypoint> plan{{0.2, start}};
  HandTarget at = start;
  auto to = [&](HandTarget next, double least) {
    plan.push_back({travel(at.position, next.position, least), next});
    at = next;
  };
  if (!cubeHeld) {
    const double yaw = cubeYaw + M_PI / 2.0;  // fingers across the cube's faces, as the demonstrations
    const Eigen::Vector3d above(cube.x(), cube.y(), kAbove);
    const bool overCube = (start.position.head<2>() - cube.head<2>()).norm() < 0.02;
    if (start.position.z() < kAbove - 0.02 && !overCube)  // low and beside the cube: up first, hand open
      to({{start.position.x(), start.position.y(), kAbove}, start.yaw, 1.0}, 0.4);
    to({above, yaw, 1.0}, 0.6);
    to({{cube.x(), cube.y(), cube.z() + 0.002}, yaw, 1.0}, 0.7);
    to({at.position, yaw, 0.0}, 0.45);
    if (untilGrasp) return ScriptedOperator(std::move(plan));
    to({{cube.x(), cube.y(), kCarry}, yaw, 0.0}, 0.6);
  } else if (start.position.z() < kCarry - 0.02) {
    to({{start.position.x(), start.position.y(), kCarry}, start.yaw, 0.0}, 0.4);
  }
  const Eigen::Vector3d overBin(bin.x(), bin.y(), kCarry);
  to({overBin, home.yaw, 0.0}, 0.8);
  to({{bin.x(), bin.y(), binHeight + 0.05}, home.yaw, 0.0}, 0.5);
  to({at.position, home.yaw, 1.0}, 0.35);
  to(home, 1.0);
  return ScriptedOperator(std::move(plan));
}

struct ScriptedSupervisor::Scene {
  HandTarget gripper;  // the follower's fingertip, finger yaw and gripper now
  HandTarget home;
  Eigen::Vector3d cube;
  double cubeYaw = 0.0;
  bool held = false;
  bool overBin = false;  // the cube is within the bin's walls (falling or at rest)
  bool success = false;
  Eigen::Vector2d bin;
  double binHeight = 0.0;
  bool valid = false;
};

ScriptedSupervisor::ScriptedSupervisor(SimWorld& world, std::function<void()> handBack,
                                       SupervisorSettings settings)
    : world_(world), handBack_(std::move(handBack)), settings_(settings) {}

ScriptedSupervisor::Scene ScriptedSupervisor::look() const {
  Scene scene;
  const std::optional<SimWorld::OperatorArm> arm = world_.operatorArm();
  if (!arm) return scene;
  const ArmPose pose = arm->kinematics.forward(arm->joints);
  const Eigen::Matrix3d r = pose.tool.rotation();
  scene.gripper = {pose.fingertip, std::atan2(r(1, 1), r(0, 1)), arm->joints[kGripper]};
  scene.home = ScriptedOperator::home(arm->kinematics);
  const SceneSnapshot snapshot = world_.snapshot();
  const EpisodeOutcome outcome = world_.outcome();
  scene.cube = snapshot.cubeCenter;
  scene.cubeYaw = snapshot.cubeYaw;
  scene.held = outcome.cubeHeld;
  scene.success = outcome.success;
  scene.bin = snapshot.binCenter;
  scene.binHeight = snapshot.binHeight;
  const double margin = snapshot.binSize / 2.0 - snapshot.cubeSize / 2.0;
  scene.overBin = (scene.cube.head<2>() - scene.bin).cwiseAbs().maxCoeff() < margin;
  // A cube falling outside the bin is planned for where it will rest: on the table below.
  if (!scene.held && !scene.overBin) scene.cube.z() = std::min(scene.cube.z(), snapshot.cubeSize / 2.0);
  scene.valid = true;
  return scene;
}

void ScriptedSupervisor::tick(double time, bool humanInControl) {
  const Scene scene = look();
  if (!scene.valid) return;
  // A drop while the policy drives (the blend and the settling time included) is remembered until judged.
  const bool handHasIt = state_ == State::Grabbing || state_ == State::Correcting;
  if (wasHeld_ && !scene.held && !scene.overBin && !handHasIt) dropped_ = true;
  switch (state_) {
    case State::Watching:
      watch(time, scene);
      break;
    case State::Grabbing:
      if (humanInControl) {  // the detector saw the leader leave its mirrored goal
        state_ = State::Correcting;
        std::lock_guard lock(mutex_);
        corrections_.push_back({time, -1.0, reason_});
      } else if (time - grabbedAt_ > correction_.duration() + 0.5) {
        letGo(time, false);  // never noticed: the hand gives up, the policy never stopped
      }
      break;
    case State::Correcting:
      if (scene.success || backOnTrack(scene) || time - grabbedAt_ > correction_.duration() + 0.5)
        letGo(time, true);
      break;
    case State::Releasing:
      if (!humanInControl) {  // the blend is over: the policy drives again
        std::lock_guard lock(mutex_);
        corrections_.back().end = time;
        state_ = State::Watching;
        settleUntil_ = time + settings_.settleSeconds;
      }
      break;
    case State::Done:
      break;
  }
  wasHeld_ = scene.held;
}

void ScriptedSupervisor::watch(double time, const Scene& scene) {
  if (scene.success) {
    state_ = State::Done;  // nothing left to correct in this episode
    return;
  }
  if (!started_ || scene.held != referenceHeld_) startReference(time, scene);
  started_ = true;
  if (time < settleUntil_) return;
  if (std::string reason = wrongness(time, scene); !reason.empty()) grab(time, scene, reason);
}

// The plan of the current phase (grasp, or carry and release) from where the robot is: the yardstick of
// "off the plan", and the goal "no progress" measures against.
void ScriptedSupervisor::startReference(double time, const Scene& scene) {
  reference_ = planFrom(scene.gripper, scene.home, scene.cube, scene.cubeYaw, scene.held, scene.bin,
                        scene.binHeight, true);
  referenceStart_ = time;
  referenceHeld_ = scene.held;
  offSince_ = -1.0;
  bestDistance_ = 1e9;
  bestAt_ = time;
}

std::string ScriptedSupervisor::wrongness(double time, const Scene& scene) {
  if (dropped_) return "dropped the cube";

  // Off the plan: far from every point the plan passed through so far (or will in a moment), so a robot
  // slower or a little quicker than the plan is not "off" it; lateness is "no progress"'s to judge.
  const double horizon = std::min(time - referenceStart_ + 1.0, reference_.duration());
  double nearest = 1e9;
  for (double t = 0.0; t <= horizon; t += 0.05)
    nearest = std::min(nearest, (reference_.targetAt(t).position - scene.gripper.position).norm());
  if (nearest > settings_.offPlanMetres) {
    if (offSince_ < 0) offSince_ = time;
    if (time - offSince_ > settings_.offPlanSeconds) return "off the plan";
  } else {
    offSince_ = -1.0;
  }

  const Eigen::Vector3d goal =
      scene.held ? Eigen::Vector3d(scene.bin.x(), scene.bin.y(), kCarry) : scene.cube;
  const double distance = (goal - scene.gripper.position).norm();
  if (distance < bestDistance_ - settings_.progressMetres) {
    bestDistance_ = distance;
    bestAt_ = time;
  }
  if (time - bestAt_ > settings_.noProgressSeconds) return "no progress";
  return {};
}

// The hand closes on the leader and moves it along a plan from the robot's pose now; the takeover
// supervisor notices once the leader is far enough from the goal it mirrors.
void ScriptedSupervisor::grab(double time, const Scene& scene, const std::string& reason) {
  correction_ = planFrom(scene.gripper, scene.home, scene.cube, scene.cubeYaw, scene.held, scene.bin,
                         scene.binHeight, false);
  world_.setHandPlan(correction_);
  world_.setHandOnLeaders(true);
  grabbedAt_ = time;
  reason_ = reason;
  dropped_ = false;
  ++grabs_;
  state_ = State::Grabbing;
}

// The cube held and lifted: the policy carries from here, unless this correction is to finish the task.
bool ScriptedSupervisor::backOnTrack(const Scene& scene) const {
  if (reason_ == "dropped the cube" || grabs_ >= settings_.finishAfter) return false;
  return scene.held && scene.cube.z() > kLifted;
}

void ScriptedSupervisor::letGo(double time, bool pressDone) {
  world_.setHandOnLeaders(false);
  settleUntil_ = time + settings_.settleSeconds;  // renewed once the blend is over
  started_ = false;  // replan "where it should be" from the pose the policy gets back
  if (pressDone) {
    handBack_();  // the operator's "done" key: the takeover supervisor blends back to the policy
    state_ = State::Releasing;
  } else {
    std::lock_guard lock(mutex_);
    ++unnoticed_;
    state_ = State::Watching;
  }
}

std::vector<Correction> ScriptedSupervisor::corrections() const {
  std::lock_guard lock(mutex_);
  return corrections_;
}

int ScriptedSupervisor::unnoticedGrabs() const {
  std::lock_guard lock(mutex_);
  return unnoticed_;
}

}  // namespace flywheel::sim
