#include "devices/sim/sim_world.hpp"

#include <algorithm>
#include <cmath>
#include <numbers>

#include "core/prompt_words.hpp"

namespace flywheel::sim {
namespace {
constexpr double kCubeSize = 0.04;
constexpr double kBinSize = 0.14;
constexpr double kBinHeight = 0.06;
constexpr double kBinFloor = 0.004;
constexpr double kGraspThreshold = 0.35;  // gripper command below which the fingers close on the cube
constexpr double kReleaseThreshold = 0.45;
constexpr std::size_t kGripper = 6;

double fingerYaw(const ArmPose& pose) {
  const Eigen::Matrix3d r = pose.tool.rotation();
  return std::atan2(r(1, 1), r(0, 1));
}
}  // namespace

int instructedBin(const SimConfig& sim, const std::string& instruction) {
  if (sim.bins.empty()) return 0;
  int named = -1;
  for (const std::string& word : promptWords(instruction))
    for (std::size_t b = 0; b < sim.bins.size(); ++b)
      if (sim.bins[b].name == word) {
        if (named >= 0 && named != static_cast<int>(b)) return -1;  // two bins named: which one?
        named = static_cast<int>(b);
      }
  return named;
}

std::string defaultInstruction(const SimConfig& sim, unsigned seed) {
  if (sim.bins.empty()) return "";
  std::mt19937 random(seed ^ 0x5bd1e995u);  // not the scene's own draws: the cube stays where it was
  const std::size_t bin = std::uniform_int_distribution<std::size_t>(0, sim.bins.size() - 1)(random);
  return "put the cube in the " + sim.bins[bin].name + " bin";
}

SimWorld::SimWorld(const RigConfig& rig) : rig_(rig) {
  if (rig.sim.bins.empty()) bins_.emplace_back(rig.sim.binCenter[0], rig.sim.binCenter[1]);
  for (const SimBin& bin : rig.sim.bins)
    bins_.emplace_back(bin.center[0], bin.center[1]);
  for (const ArmConfig& arm : rig.arms) {
    if (arm.joints.size() != kArmJoints)
      throw DeviceError("simulated arm '" + arm.name + "' must have 7 joints (6 and a gripper), it has " +
                        std::to_string(arm.joints.size()));
    Eigen::Isometry3d mount =
        mountTransform(arm.mount.x, arm.mount.y, arm.mount.yawDeg * std::numbers::pi / 180.0);
    arms_.push_back(
        {&arm, ArmKinematics(ArmGeometry{}, mount), JointState::zeros(kArmJoints), JointVector(kArmJoints)});
  }
  for (const PairConfig& pair : rig.pairs) {
    auto indexOf = [&](const std::string& name) {
      for (std::size_t i = 0; i < arms_.size(); ++i)
        if (arms_[i].config->name == name) return static_cast<int>(i);
      return -1;
    };
    arms_[indexOf(pair.follower)].pairedLeader = indexOf(pair.leader);
  }
  target_ = instructedBin(rig.sim, instruction_);
  resetEpisode(rig.sim.seed);
}

JointVector SimWorld::homeJoints(const ArmBody& arm) const {
  HandTarget home = ScriptedOperator::home(arm.kinematics);
  auto q = arm.kinematics.inverseTopDown(home.position, home.yaw);
  JointVector joints(q->begin(), q->end());
  joints.push_back(home.gripper);
  return joints;
}

void SimWorld::resetEpisode(unsigned seed) {
  std::lock_guard lock(mutex_);
  episodeSeed_ = seed;
  random_.seed(seed);
  auto uniform = [&](double lo, double hi) {
    return std::uniform_real_distribution<double>(lo, hi)(random_);
  };
  const auto& region = rig_.sim.cubeRegion;
  cube_ = {uniform(region[0], region[1]), uniform(region[2], region[3]), kCubeSize / 2.0};
  cubeYaw_ = uniform(-0.6, 0.6);
  cubeFallSpeed_ = 0.0;
  holder_ = -1;
  for (ArmBody& arm : arms_) {
    arm.state = JointState::zeros(kArmJoints);
    arm.state.position = homeJoints(arm);
    arm.goal = arm.state.position;
  }
  previousGripper_.assign(arms_.size(), 1.0);

  // The operator works with the leader of the follower nearest the cube.
  activeLeader_ = -1;
  activeFollower_ = -1;
  double nearest = 1e9;
  for (std::size_t i = 0; i < arms_.size(); ++i) {
    const ArmBody& arm = arms_[i];
    if (arm.pairedLeader < 0) continue;
    double distance = (arm.kinematics.mount().translation().head<2>() - cube_.head<2>()).norm();
    if (distance < nearest) {
      nearest = distance;
      activeLeader_ = arm.pairedLeader;
      activeFollower_ = static_cast<int>(i);
    }
  }
  planRandom_ = random_;
  planCube_ = cube_;
  planCubeYaw_ = cubeYaw_;
  planOperator();
  episodeStart_ = planStart_ = time_;
}

// The same draws each time (planRandom_), from where the cube started: only the bin changes. The plan
// runs from the episode's start.
void SimWorld::planOperator() {
  if (activeFollower_ < 0) return;
  int bin = target_;
  if (bin < 0) bin = instructedBin(rig_.sim, defaultInstruction(rig_.sim, episodeSeed_));
  std::mt19937 random = planRandom_;
  operator_ = ScriptedOperator(arms_[static_cast<std::size_t>(activeFollower_)].kinematics, planCube_,
                               planCubeYaw_, bins_[static_cast<std::size_t>(std::max(bin, 0))], kBinHeight,
                               random);
  planStart_ = episodeStart_;
}

void SimWorld::setInstruction(const std::string& instruction) {
  std::lock_guard lock(mutex_);
  instruction_ = instruction;
  const int target = instructedBin(rig_.sim, instruction);
  if (target == target_) return;
  target_ = target;
  planOperator();
}

int SimWorld::targetBin() const {
  std::lock_guard lock(mutex_);
  return target_;
}

std::vector<Eigen::Vector2d> SimWorld::binCenters() const {
  return bins_;
}

void SimWorld::advance(double dt) {
  std::lock_guard lock(mutex_);
  time_ += dt;
  if (handOnLeaders_) driveLeaders(dt);
  for (ArmBody& arm : arms_)
    if (arm.config->role == ArmRole::Follower || !handOnLeaders_) stepFollower(arm, dt);
  stepCube(dt);
}

// Leaders are moved by a hand, not a servo: their velocity is what the hand did this step.
void SimWorld::driveLeaders(double dt) {
  if (activeLeader_ < 0) return;
  ArmBody& leader = arms_[static_cast<std::size_t>(activeLeader_)];
  const ArmBody* follower = nullptr;
  for (const ArmBody& arm : arms_)
    if (arm.pairedLeader == activeLeader_) follower = &arm;
  HandTarget target = operator_.targetAt(time_ - planStart_);
  auto q = follower->kinematics.inverseTopDown(target.position, target.yaw);
  if (!q) return;  // out of reach: the hand stays where it was
  JointVector next(q->begin(), q->end());
  next.push_back(std::clamp(target.gripper, 0.0, 1.0));
  for (std::size_t j = 0; j < kArmJoints; ++j)
    leader.state.velocity[j] = (next[j] - leader.state.position[j]) / dt;
  leader.state.position = next;
}

void SimWorld::stepFollower(ArmBody& arm, double dt) {
  JointState& s = arm.state;
  for (std::size_t j = 0; j < kArmJoints; ++j) {
    if (!arm.torque) {
      s.velocity[j] = 0.0;
      s.effort[j] = 0.0;
      continue;
    }
    const double error = arm.goal[j] - s.position[j];
    const double velocity = std::clamp(error / servo_.timeConstant, -servo_.maxVelocity, servo_.maxVelocity);
    const JointConfig& limits = arm.config->joints[j];
    s.position[j] = std::clamp(s.position[j] + velocity * dt, limits.min, limits.max);
    s.velocity[j] = velocity;
    s.effort[j] = 2.0 * error;  // a P-controlled servo draws current in proportion to its error
  }
}

double SimWorld::gripperOpening(const ArmBody& arm) const {
  double opening = 0.012 + 0.07 * arm.state.position[kGripper];
  bool holding = holder_ >= 0 && &arms_[static_cast<std::size_t>(holder_)] == &arm;
  return holding ? std::max(opening, kCubeSize) : opening;
}

int SimWorld::binUnderCube() const {
  const double margin = kBinSize / 2.0 - kCubeSize / 2.0;
  for (std::size_t b = 0; b < bins_.size(); ++b)
    if (std::abs(cube_.x() - bins_[b].x()) < margin && std::abs(cube_.y() - bins_[b].y()) < margin)
      return static_cast<int>(b);
  return -1;
}

void SimWorld::stepCube(double dt) {
  if (holder_ >= 0) {
    ArmBody& holder = arms_[static_cast<std::size_t>(holder_)];
    if (holder.state.position[kGripper] > kReleaseThreshold) {
      holder_ = -1;
      cubeFallSpeed_ = 0.0;
    } else {
      ArmPose pose = holder.kinematics.forward(holder.state.position);
      cube_ = pose.tool * heldOffset_;
      cubeYaw_ = fingerYaw(pose) + heldYawOffset_;
    }
  }
  if (holder_ < 0) {
    for (std::size_t i = 0; i < arms_.size(); ++i) {
      ArmBody& arm = arms_[i];
      double gripper = arm.state.position[kGripper];
      bool closing = previousGripper_[i] >= kGraspThreshold && gripper < kGraspThreshold;
      if (arm.config->role != ArmRole::Follower || !closing) continue;
      ArmPose pose = arm.kinematics.forward(arm.state.position);
      Eigen::Vector3d between = cube_ - pose.fingertip;
      if (between.head<2>().norm() < 0.018 && std::abs(between.z()) < 0.025) {
        holder_ = static_cast<int>(i);
        heldOffset_ = pose.tool.inverse() * cube_;
        heldYawOffset_ = cubeYaw_ - fingerYaw(pose);
        break;
      }
    }
  }
  if (holder_ < 0) {
    double floor = (binUnderCube() >= 0 ? kBinFloor : 0.0) + kCubeSize / 2.0;
    if (cube_.z() > floor) {
      cubeFallSpeed_ += 9.81 * dt;
      cube_.z() = std::max(floor, cube_.z() - cubeFallSpeed_ * dt);
    } else {
      cube_.z() = floor;
      cubeFallSpeed_ = 0.0;
    }
  }
  for (std::size_t i = 0; i < arms_.size(); ++i)
    previousGripper_[i] = arms_[i].state.position[kGripper];
}

JointState SimWorld::armState(std::size_t armIndex) const {
  std::lock_guard lock(mutex_);
  return arms_.at(armIndex).state;
}

void SimWorld::setGoal(std::size_t armIndex, const JointVector& goal) {
  std::lock_guard lock(mutex_);
  arms_.at(armIndex).goal = goal;
}

void SimWorld::setTorque(std::size_t armIndex, bool enabled) {
  std::lock_guard lock(mutex_);
  arms_.at(armIndex).torque = enabled;
}

void SimWorld::setHandOnLeaders(bool onLeaders) {
  std::lock_guard lock(mutex_);
  if (handOnLeaders_ && !onLeaders)
    for (ArmBody& arm : arms_)
      if (arm.config->role == ArmRole::Leader) {
        arm.goal = arm.state.position;  // let go: a torqued leader holds where the hand left it
        std::fill(arm.state.velocity.begin(), arm.state.velocity.end(), 0.0);
      }
  handOnLeaders_ = onLeaders;
}

void SimWorld::setHandPlan(const ScriptedOperator& plan) {
  std::lock_guard lock(mutex_);
  operator_ = plan;
  planStart_ = time_;
}

std::optional<SimWorld::OperatorArm> SimWorld::operatorArm() const {
  std::lock_guard lock(mutex_);
  for (const ArmBody& arm : arms_)
    if (activeLeader_ >= 0 && arm.pairedLeader == activeLeader_)
      return OperatorArm{arm.kinematics, arm.state.position};
  return std::nullopt;
}

bool SimWorld::handOnLeaders() const {
  std::lock_guard lock(mutex_);
  return handOnLeaders_;
}

SceneSnapshot SimWorld::snapshot() const {
  std::lock_guard lock(mutex_);
  SceneSnapshot scene;
  scene.time = time_;
  for (const ArmBody& arm : arms_)
    if (arm.config->role == ArmRole::Follower)
      scene.arms.push_back({arm.kinematics.forward(arm.state.position), gripperOpening(arm)});
  scene.cubeCenter = cube_;
  scene.cubeYaw = cubeYaw_;
  scene.cubeSize = kCubeSize;
  // The instructed bin first (the one the task is about), the others drawn alike: only words tell them apart.
  const std::size_t first = static_cast<std::size_t>(std::max(target_, 0));
  scene.binCenter = bins_[first];
  for (std::size_t b = 0; b < bins_.size(); ++b)
    if (b != first) scene.otherBins.push_back(bins_[b]);
  scene.binSize = kBinSize;
  scene.binHeight = kBinHeight;
  return scene;
}

EpisodeOutcome SimWorld::outcome() const {
  std::lock_guard lock(mutex_);
  EpisodeOutcome outcome;
  outcome.cubeHeld = holder_ >= 0;
  const int bin = binUnderCube();
  const bool resting = !outcome.cubeHeld && bin >= 0 && cube_.z() < kBinFloor + kCubeSize / 2.0 + 1e-6;
  outcome.restingBin = resting ? bin : -1;
  // An instruction that names no bin of several (or two of them) is satisfied by any bin.
  outcome.success = resting && (target_ < 0 || bin == target_);
  outcome.operatorDone = time_ - planStart_ >= operator_.duration();
  return outcome;
}

double SimWorld::time() const {
  std::lock_guard lock(mutex_);
  return time_;
}

}  // namespace flywheel::sim
