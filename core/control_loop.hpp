// The fixed-rate control loop, on its own thread. Each tick it reads every arm, asks the installed
// Controller (core/controller.hpp) for this tick's goals, applies safety, writes the followers and the
// leaders, and hands an observation to the recorder: nothing else decides what the robot does.
// It never waits on a GUI or the writer: sinks must return at once.
#pragma once

#include <atomic>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>

#include "core/clock.hpp"
#include "core/config.hpp"
#include "core/controller.hpp"
#include "core/hardware.hpp"
#include "core/loop_stats.hpp"
#include "core/safety.hpp"

namespace flywheel {

class ObservationSink {
 public:
  virtual ~ObservationSink() = default;
  virtual void onObservation(
      const Observation& observation) = 0;  // called on the loop thread; must not block
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
  ControlMode mode =
      ControlMode::Idle;  // the installed controller's; Intervention while a human corrects a policy
  InControl inControl = InControl::Nobody;
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

  // The controller that decides the followers' goals from the next tick on; nullptr: the followers hold.
  // Returns once the loop is out of the previous controller's update, so the caller may destroy it.
  void setController(Controller* controller);
  Controller* controller() const;
  // Forget the last goal and start again from where the followers are (after a scene reset moved them).
  void resyncGoals() { resyncRequested_.store(true); }
  void setSink(ObservationSink* sink) { sink_.store(sink); }

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
  std::pair<ControlMode, ControlOutput> update(const std::vector<JointState>& leaderStates, double start);
  void writeFollowers(const JointVector& goal);
  void writeLeaders(const std::optional<JointVector>& goal);
  void setLeadersTorque(bool on);
  void publish(ControlMode mode, const ControlOutput& output, JointState leaders);
  void sleepUntil(double deadline) const;
  void setThreadPriority(bool paced);

  const RigConfig& rig_;
  RigDevices devices_;
  Clock& clock_;
  ManualClock* manualClock_;
  double period_;
  int decimation_;
  JointLimits limits_;
  RigLayout layout_;

  std::atomic<bool> running_{false};
  std::atomic<bool> stopRequested_{false};
  std::atomic<bool> resyncRequested_{false};
  mutable std::mutex controllerMutex_;  // held while the controller updates; swaps wait for it
  Controller* controller_ = nullptr;
  std::atomic<ObservationSink*> sink_{nullptr};
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
  bool leadersDriven_ = false;  // leaders' torque on, driven to goals (a policy controller mirroring)

  LoopStats stats_;
  mutable std::mutex statusMutex_;
  LoopStatus status_;
};

}  // namespace flywheel
