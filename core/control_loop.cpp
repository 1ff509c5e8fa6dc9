#include "core/control_loop.hpp"

#include <pthread.h>
#include <sched.h>
#include <time.h>

namespace flywheel {

ControlLoop::ControlLoop(const RigConfig& rig, RigDevices devices, Clock& clock)
    : rig_(rig),
      devices_(std::move(devices)),
      clock_(clock),
      manualClock_(dynamic_cast<ManualClock*>(&clock)),
      period_(1.0 / rig.controlRateHz),
      decimation_(rig.recordDecimation()),
      limits_(JointLimits::forArms(rig.followers(), rig.safety.maxJointSpeed / rig.controlRateHz)),
      stats_(1.0 / rig.controlRateHz) {
  std::vector<std::size_t> followerJoints;
  for (Arm* follower : devices_.followers)
    followerJoints.push_back(follower->jointCount());
  layout_ = RigLayout(std::move(followerJoints), devices_.pairs);
}

ControlLoop::~ControlLoop() {
  stop();
}

void ControlLoop::setController(Controller* controller) {
  std::lock_guard lock(controllerMutex_);
  controller_ = controller;
}

Controller* ControlLoop::controller() const {
  std::lock_guard lock(controllerMutex_);
  return controller_;
}

void ControlLoop::start() {
  if (running_.exchange(true)) return;
  stopRequested_ = false;
  thread_ = std::thread([this] { threadMain(); });
}

void ControlLoop::stop() {
  stopRequested_ = true;
  if (thread_.joinable()) thread_.join();
  running_ = false;
  try {
    setLeadersTorque(false);  // a leader left stiff would fight the next teleoperator
  } catch (const std::exception&) {
    // The bus may be gone: nothing more can be sent.
  }
}

void ControlLoop::runTicks(std::uint64_t n) {
  stopRequested_ = false;  // a loop thread stopped earlier does not stop ticks stepped by hand
  for (std::uint64_t i = 0; i < n && !stopRequested_; ++i) {
    if (!guardedTick()) {
      stopFollowersSafely();
      return;
    }
    if (manualClock_) manualClock_->advance(period_);
  }
}

// A device error costs one tick (the followers keep their last goal); a run of them stops the loop.
bool ControlLoop::guardedTick() {
  try {
    tick();
    consecutiveFailures_ = 0;
    return true;
  } catch (const DeviceError& e) {
    ++consecutiveFailures_;
    std::lock_guard lock(statusMutex_);
    ++status_.failedTicks;
    status_.lastDeviceError = e.what();
    if (consecutiveFailures_ < rig_.safety.maxFailedTicks) return true;
    status_.error = std::string(e.what()) + " (" + std::to_string(consecutiveFailures_) +
                    " failed ticks in a row; followers " +
                    (rig_.safety.onStop == StopBehaviour::Limp ? "released" : "holding their last goal") +
                    ")";
    return false;
  } catch (const std::exception& e) {
    std::lock_guard lock(statusMutex_);
    status_.error = e.what();
    return false;
  }
}

// On exit, error or Ctrl-C: servos with torque on hold their last goal by themselves; limp releases them.
void ControlLoop::stopFollowersSafely() {
  if (rig_.safety.onStop != StopBehaviour::Limp) return;
  for (Arm* follower : devices_.followers) {
    try {
      follower->setTorque(false);
    } catch (const std::exception&) {
      // The bus may be gone (unplugged): nothing more can be sent.
    }
  }
}

// A paced loop asks for SCHED_FIFO (best effort: it keeps the period steady while cameras and the writer
// compete); it sleeps most of each period, so it cannot starve the machine. A flat-out loop never sleeps:
// at real-time priority it would starve everything else until the kernel throttles it, serial threads
// included. It runs at normal priority, even when started from a real-time thread (threads inherit it).
void ControlLoop::setThreadPriority(bool paced) {
  sched_param param{};
  if (paced) {
    param.sched_priority = 50;
    realTimePriority_ = pthread_setschedparam(pthread_self(), SCHED_FIFO, &param) == 0;
  } else {
    param.sched_priority = 0;
    pthread_setschedparam(pthread_self(), SCHED_OTHER, &param);
    realTimePriority_ = false;
  }
  int policy = -1;
  if (pthread_getschedparam(pthread_self(), &policy, &param) == 0) threadPolicy_ = policy;
}

void ControlLoop::threadMain() {
  const bool paced = clock_.isRealTime() && !manualClock_;
  setThreadPriority(paced);
  nextDeadline_ = clock_.now();
  bool deadlineMissed = false;
  while (!stopRequested_) {
    // Late: the previous tick ran past this one's deadline, or the wake-up came half a period late.
    tickLate_ = paced && (deadlineMissed || clock_.now() - nextDeadline_ > period_ * 0.5);
    if (!guardedTick()) break;
    if (!paced) {
      if (manualClock_) manualClock_->advance(period_);
      continue;
    }
    nextDeadline_ += period_;
    const double now = clock_.now();
    deadlineMissed = now > nextDeadline_;
    if (deadlineMissed)
      nextDeadline_ = now;  // start the next tick at once (an overrun), do not bunch up to catch up
    else
      sleepUntil(nextDeadline_);
  }
  tickLate_ = false;
  running_ = false;
}

// The steady clock and CLOCK_MONOTONIC share an epoch on Linux, so an absolute sleep avoids drift.
void ControlLoop::sleepUntil(double deadline) const {
  timespec ts{};
  ts.tv_sec = static_cast<time_t>(deadline);
  ts.tv_nsec = static_cast<long>((deadline - static_cast<double>(ts.tv_sec)) * 1e9);
  while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, nullptr) == EINTR) {
  }
}

JointState ControlLoop::readAll(const std::vector<Arm*>& arms) const {
  JointState all;
  for (Arm* arm : arms) {
    JointState s = arm->read();
    all.position.insert(all.position.end(), s.position.begin(), s.position.end());
    all.velocity.insert(all.velocity.end(), s.velocity.begin(), s.velocity.end());
    all.effort.insert(all.effort.end(), s.effort.begin(), s.effort.end());
  }
  return all;
}

// update: the installed controller decides; with none, the followers hold their last goal.
std::pair<ControlMode, ControlOutput> ControlLoop::update(const std::vector<JointState>& leaderStates,
                                                          double start) {
  std::lock_guard lock(controllerMutex_);
  if (!controller_) {
    ControlOutput hold;
    hold.followerGoal = *lastGoal_;
    return {ControlMode::Idle, std::move(hold)};
  }
  const ControlInput input{tick_,      start,          latest_.state, leaderStates,
                           *lastGoal_, leadersDriven_, layout_,       limits_.maxStep};
  return {controller_->mode(), controller_->update(input)};
}

void ControlLoop::writeFollowers(const JointVector& goal) {
  for (std::size_t i = 0; i < devices_.followers.size(); ++i) {
    auto first = goal.begin() + static_cast<long>(layout_.followerOffsets[i]);
    devices_.followers[i]->write(
        JointVector(first, first + static_cast<long>(devices_.followers[i]->jointCount())));
  }
}

// Driven leaders get their goal first, so that torque comes on without a jump; without a goal they go limp.
void ControlLoop::writeLeaders(const std::optional<JointVector>& goal) {
  if (goal)
    for (auto [leader, follower] : devices_.pairs) {
      auto first = goal->begin() + static_cast<long>(layout_.followerOffsets[follower]);
      devices_.leaders[leader]->write(
          JointVector(first, first + static_cast<long>(devices_.leaders[leader]->jointCount())));
    }
  setLeadersTorque(goal.has_value());
}

// Torque on so the leaders can follow the followers (and a human feels the robot when grabbing them);
// torque off so a human moves them freely.
void ControlLoop::setLeadersTorque(bool on) {
  if (on == leadersDriven_) return;
  std::string firstError;
  for (Arm* leader : devices_.leaders) {
    try {
      leader->setTorque(on);  // every leader, even when one fails
    } catch (const DeviceError& e) {
      if (firstError.empty()) firstError = e.what();
    }
  }
  if (!firstError.empty()) throw DeviceError(firstError);  // flag unchanged: tried again next tick
  leadersDriven_ = on;
}

// read → update → safety → write → hand the tick to the recorder.
void ControlLoop::tick() {
  const double start = clock_.now();
  const bool overrun = tickLate_ && tick_ > 0;

  std::vector<JointState> leaderStates;
  for (Arm* arm : devices_.leaders)
    leaderStates.push_back(arm->read());
  latest_.state = readAll(devices_.followers);
  latest_.tick = tick_;
  latest_.time = start;
  if (!lastGoal_ || resyncRequested_.exchange(false)) lastGoal_ = latest_.state.position;

  auto [mode, output] = update(leaderStates, start);
  const JointVector goal = applySafety(output.followerGoal, *lastGoal_, limits_, safety_);
  writeLeaders(output.leaderGoal);
  if (mode != ControlMode::Idle) writeFollowers(goal);
  lastGoal_ = goal;

  JointState leaders;
  for (const JointState& s : leaderStates)
    leaders.position.insert(leaders.position.end(), s.position.begin(), s.position.end());
  publish(mode, output, std::move(leaders));
  if (devices_.simulation) devices_.simulation->advance(period_);

  const double end = clock_.now();
  stats_.record(lastTickStart_ < 0 ? 0.0 : start - lastTickStart_, end - start, overrun);
  lastTickStart_ = start;
  ++tick_;
}

// The recorder gets every decimated tick; the status always has the last one.
void ControlLoop::publish(ControlMode mode, const ControlOutput& output, JointState leaders) {
  const bool humanCorrectsPolicy = mode == ControlMode::Policy && output.inControl == InControl::Human;
  latest_.action = *lastGoal_;
  latest_.intervention = humanCorrectsPolicy;
  latest_.policyAction = output.proposal;
  latest_.policySource = mode == ControlMode::Policy ? output.source : PolicySource::None;
  if (tick_ % static_cast<std::uint64_t>(decimation_) == 0) {
    if (ObservationSink* sink = sink_.load()) {
      latest_.frames.clear();
      latest_.cameraError.clear();
      for (Camera* camera : devices_.cameras) {
        latest_.frames.push_back(camera->latest());
        if (std::string error = camera->error(); !error.empty() && latest_.cameraError.empty())
          latest_.cameraError = error;
      }
      sink->onObservation(latest_);
    }
  }
  std::lock_guard lock(statusMutex_);
  status_.mode = humanCorrectsPolicy ? ControlMode::Intervention : mode;
  status_.inControl = output.inControl;
  status_.leaders = std::move(leaders);
  status_.followers = latest_.state;
  status_.goal = *lastGoal_;
  status_.safety = safety_;
  status_.tick = tick_;
}

LoopStatus ControlLoop::status() const {
  std::lock_guard lock(statusMutex_);
  return status_;
}

}  // namespace flywheel
