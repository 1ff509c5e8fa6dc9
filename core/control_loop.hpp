// The fixed-rate control loop: its own thread; each tick reads every arm, computes the followers' goals
// for the current mode, applies safety, writes the followers and hands an observation to the recorder.
// It never waits on a GUI or the writer: sinks must return at once.
#pragma once

#include <atomic>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>

#include "core/clock.hpp"
#include "core/config.hpp"
#include "core/hardware.hpp"
#include "core/loop_stats.hpp"
#include "core/safety.hpp"

namespace flywheel {

enum class ControlMode {
  Idle,          // followers hold where they are
  Teleop,        // followers track their paired leaders
  Policy,        // followers execute the action source's goals
  Intervention,  // a human took over from the policy: followers track the leaders, flagged as such
};
// Not "toString": QTest finds a toString by ADL and frees what it returns.
const char* nameOf(ControlMode mode);

class ObservationSink {
 public:
  virtual ~ObservationSink() = default;
  virtual void onObservation(
      const Observation& observation) = 0;  // called on the loop thread; must not block
};

// What the loop knows each tick in Policy mode, for whoever decides the followers' goals.
struct PolicyTick {
  const Observation& latest;              // tick, time and the followers' state
  const JointVector& leaderCommand;       // the follower goals the leaders command (as in teleop)
  const std::vector<bool>& ledByLeader;   // per follower joint: has a paired leader
  const JointVector& leaderPositionGoal;  // per follower joint: the last goal mirrored to its leader
};

struct PolicyDecision {
  std::optional<JointVector> goal;  // nullopt holds the previous goal
  bool humanInControl = false;      // recorded as /intervention
  JointVector proposed;             // the policy's own action this tick (recorded); empty when none
  bool mirrorLeaders = false;       // leaders torque on, following their followers
};

// Supplies follower goals in Policy mode. nullopt holds the previous goal.
class ActionSource {
 public:
  virtual ~ActionSource() = default;
  virtual std::optional<JointVector> nextAction(const Observation& latest) = 0;
  // The whole decision for a tick; by default the action source alone drives the followers.
  virtual PolicyDecision decide(const PolicyTick& tick) {
    PolicyDecision decision;
    decision.goal = nextAction(tick.latest);
    if (decision.goal) decision.proposed = *decision.goal;
    return decision;
  }
};

// The hardware a loop drives. Not owned.
struct RigDevices {
  std::vector<Arm*> leaders;
  std::vector<Arm*> followers;
  std::vector<std::pair<std::size_t, std::size_t>> pairs;  // (leader index, follower index)
  std::vector<Camera*> cameras;
  Simulation* simulation = nullptr;
};

struct LoopStatus {
  ControlMode mode = ControlMode::Idle;
  JointState leaders;    // concatenated
  JointState followers;  // concatenated
  JointVector goal;      // last safe goal sent to the followers
  SafetyCounters safety;
  std::uint64_t tick = 0;
  std::uint64_t failedTicks = 0;  // ticks lost to a device error (retries already spent)
  std::string lastDeviceError;    // the most recent one, naming the servo and port
  std::string error;              // non-empty once an error stopped the loop
};

class ControlLoop {
 public:
  ControlLoop(const RigConfig& rig, RigDevices devices, Clock& clock);
  ~ControlLoop();
  ControlLoop(const ControlLoop&) = delete;
  ControlLoop& operator=(const ControlLoop&) = delete;

  // Runs on its own thread: paced on a real-time clock (at real-time priority when the system allows),
  // flat out on a ManualClock (always at normal priority: a spinning real-time thread starves the machine).
  void start();
  void stop();  // joins the thread
  bool running() const { return running_.load(); }
  // Runs n ticks on the calling thread (the loop thread must not be running). Advances a ManualClock.
  void runTicks(std::uint64_t n);

  void setMode(ControlMode mode) { mode_.store(mode); }
  // Forget the last goal and start again from where the followers are (after a scene reset moved them).
  void resyncGoals() { resyncRequested_.store(true); }
  ControlMode mode() const { return mode_.load(); }
  void setSink(ObservationSink* sink) { sink_.store(sink); }
  void setActionSource(ActionSource* source) { actionSource_.store(source); }

  double period() const { return period_; }
  int recordDecimation() const { return decimation_; }
  LoopStatsSummary stats() const { return stats_.summary(); }
  void resetStats() { stats_.reset(); }
  LoopStatus status() const;
  bool realTimePriority() const { return realTimePriority_.load(); }
  // The scheduling policy the loop thread last ran at, read back inside it (SCHED_FIFO, SCHED_OTHER);
  // -1 before the thread first ran.
  int threadSchedulingPolicy() const { return threadPolicy_.load(); }

 private:
  void threadMain();
  bool guardedTick();  // false when the loop must stop
  void tick();
  void stopFollowersSafely();
  JointState readAll(const std::vector<Arm*>& arms) const;
  JointVector teleopGoal(const std::vector<JointState>& leaderStates) const;
  JointVector policyGoal(const std::vector<JointState>& leaderStates);
  void setLeadersMirroring(bool mirror);
  void mirrorFollowersOnLeaders();
  void sleepUntil(double deadline) const;
  void setThreadPriority(bool paced);

  const RigConfig& rig_;
  RigDevices devices_;
  Clock& clock_;
  ManualClock* manualClock_;
  double period_;
  int decimation_;
  JointLimits limits_;
  std::vector<std::size_t> followerOffsets_;  // first joint of each follower in the concatenated vector
  std::vector<bool> ledByLeader_;             // per follower joint

  std::atomic<bool> running_{false};
  std::atomic<bool> stopRequested_{false};
  std::atomic<bool> resyncRequested_{false};
  std::atomic<ControlMode> mode_{ControlMode::Idle};
  std::atomic<ObservationSink*> sink_{nullptr};
  std::atomic<ActionSource*> actionSource_{nullptr};
  std::thread thread_;
  std::atomic<bool> realTimePriority_{false};
  std::atomic<int> threadPolicy_{-1};

  // Loop-thread state.
  std::uint64_t tick_ = 0;
  double lastTickStart_ = -1.0;
  double nextDeadline_ = 0.0;
  bool tickLate_ = false;  // this tick started after its deadline: an overrun
  std::optional<JointVector> lastGoal_;
  int consecutiveFailures_ = 0;
  SafetyCounters safety_;
  Observation latest_;
  bool leadersMirroring_ = false;   // leaders torqued and following the followers (policy runs)
  JointVector leaderPositionGoal_;  // in follower joint order: what the leaders were last told

  LoopStats stats_;
  mutable std::mutex statusMutex_;
  LoopStatus status_;
};

}  // namespace flywheel
