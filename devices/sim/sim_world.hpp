// The simulated rig's physics: servo-modelled arms, a scripted operator at the leaders, a cube that the
// followers' grippers can pick up and drop, and a bin. Thread-safe: the loop steps it while cameras render.
#pragma once

#include <mutex>
#include <optional>
#include <random>
#include <string>

#include "core/config.hpp"
#include "core/hardware.hpp"
#include "core/kinematics.hpp"
#include "devices/sim/scene.hpp"
#include "devices/sim/scripted_operator.hpp"

namespace flywheel::sim {

// First-order position servo with velocity and position limits, as a hobby servo behaves under load.
struct ServoModel {
  double timeConstant = 0.05;  // seconds
  double maxVelocity = 6.0;    // rad/s (gripper units/s)
};

struct EpisodeOutcome {
  bool success = false;  // the cube rests inside the bin (of several: the one the instruction names)
  int restingBin = -1;   // index of the bin the cube rests in (SimWorld::binCenters), -1: none
  bool cubeHeld = false;
  bool operatorDone = false;  // the scripted operator has finished its plan
};

// A rig with several named bins (SimConfig::bins): the bin an instruction names, by one of its words
// (promptWords), or -1 when it names none or more than one. One bin: always 0.
int instructedBin(const SimConfig& sim, const std::string& instruction);
// The instruction a scripted episode follows when none is given: "put the cube in the <name> bin", the
// bin drawn from `seed`. Empty for a rig with one bin.
std::string defaultInstruction(const SimConfig& sim, unsigned seed);

class SimWorld {
 public:
  static constexpr std::size_t kArmJoints = 7;  // six joints and a gripper

  explicit SimWorld(const RigConfig& rig);
  // New cube position and a new operator plan, drawn from `seed`. Arms return home.
  void resetEpisode(unsigned seed);
  void advance(double dt);
  // What the scene is asked for: with several bins it decides which one counts (outcome()) and where the
  // scripted operator takes the cube (replanned with the same timing and aim). Kept across episodes; a
  // recording sets the take's task, a policy run its prompt, as it changes.
  void setInstruction(const std::string& instruction);
  int targetBin() const;  // instructedBin of the current instruction
  std::vector<Eigen::Vector2d> binCenters() const;

  JointState armState(std::size_t armIndex) const;  // rig.arms order
  void setGoal(std::size_t armIndex, const JointVector& goal);
  void setTorque(std::size_t armIndex, bool enabled);
  // Whether the scripted operator's hand holds the leaders (teleoperation, a takeover) or has let go
  // (a policy runs: leaders are then servos like the followers, torque permitting).
  void setHandOnLeaders(bool onLeaders);
  bool handOnLeaders() const;
  // The operator's hand follows `plan` from now on, timed from this moment (a supervisor's correction,
  // devices/sim/scripted_supervisor.hpp); the next resetEpisode draws a fresh plan again.
  void setHandPlan(const ScriptedOperator& plan);
  // The follower the operator works through (the one nearest the cube): its kinematics and joints.
  struct OperatorArm {
    ArmKinematics kinematics;
    JointVector joints;
  };
  std::optional<OperatorArm> operatorArm() const;
  SceneSnapshot snapshot() const;
  EpisodeOutcome outcome() const;
  double time() const;

 private:
  struct ArmBody {
    const ArmConfig* config;
    ArmKinematics kinematics;
    JointState state;
    JointVector goal;
    bool torque = true;
    int pairedLeader = -1;  // followers: index of their leader in arms_
  };
  void driveLeaders(double dt);
  void planOperator();
  int binUnderCube() const;  // the bin whose walls surround the cube, or -1
  void stepFollower(ArmBody& arm, double dt);
  void stepCube(double dt);
  double gripperOpening(const ArmBody& arm) const;
  JointVector homeJoints(const ArmBody& arm) const;

  const RigConfig& rig_;
  ServoModel servo_;
  mutable std::mutex mutex_;
  std::vector<ArmBody> arms_;
  std::mt19937 random_;
  double time_ = 0.0;
  double episodeStart_ = 0.0;
  double planStart_ = 0.0;  // when operator_'s plan began: the episode's start, or a correction's
  int activeLeader_ = -1;
  int activeFollower_ = -1;
  bool handOnLeaders_ = true;
  ScriptedOperator operator_;
  std::mt19937 planRandom_;  // the operator's draws for this episode, so a replan keeps them
  Eigen::Vector3d planCube_{0.3, 0.0, 0.02};
  double planCubeYaw_ = 0.0;
  unsigned episodeSeed_ = 0;
  std::vector<Eigen::Vector2d> bins_;
  std::string instruction_;
  int target_ = 0;

  Eigen::Vector3d cube_{0.3, 0.0, 0.02};
  double cubeYaw_ = 0.0;
  double cubeFallSpeed_ = 0.0;
  int holder_ = -1;             // follower index in arms_ holding the cube
  Eigen::Vector3d heldOffset_;  // cube centre in the holder's tool frame
  double heldYawOffset_ = 0.0;
  std::vector<double> previousGripper_;
};

}  // namespace flywheel::sim
