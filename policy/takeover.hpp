// Human takeover while a policy drives the followers: the state machine that decides, tick by tick, who
// is in control; the PolicyController (policy_controller.hpp) feeds it and mirrors the leaders. The
// operator takes over by moving a leader arm (while the policy runs, the leaders follow the followers with
// torque on, so a push shows as the leader leaving its goal; leaders that cannot be driven are watched for
// moving from where they rest) or by a key. The followers then track the leaders. Handing back blends from
// the human's last command to the policy's actions over a configurable time.
#pragma once

#include <atomic>
#include <deque>
#include <mutex>
#include <optional>
#include <string>

#include "core/config.hpp"
#include "core/types.hpp"

namespace flywheel {

enum class Control { Policy, Human, HandingBack };
const char* nameOf(Control control);

struct TakeoverStatus {
  Control control = Control::Policy;
  std::uint64_t takeovers = 0;
  std::string lastCause;  // "key", or which joint of the leader moved and by how much
};

// One tick as the supervisor sees it, in follower joint order.
struct TakeoverTick {
  const JointVector& leaderCommand;            // the follower goals the leaders command (as in teleop)
  const std::vector<bool>& ledByLeader;        // per follower joint: has a paired leader
  const JointVector& leaderGoal;               // per follower joint: the last goal mirrored to its leader
  const std::optional<JointVector>& proposed;  // the policy's action this tick, if it has one
};

struct TakeoverDecision {
  std::optional<JointVector> goal;  // nullopt holds the previous goal
  bool humanInControl = false;      // recorded as /intervention
  bool mirrorLeaders = false;       // leaders torque on, following their followers
};

class TakeoverSupervisor {
 public:
  // controlPeriod: seconds per tick.
  TakeoverSupervisor(const TakeoverConfig& config, double controlPeriod);

  TakeoverDecision decide(const TakeoverTick& tick);

  void requestTakeover() { takeoverRequested_ = true; }
  void requestHandBack() { handBackRequested_ = true; }
  TakeoverStatus status() const;

 private:
  std::pair<double, double> allowedRange(std::size_t joint, double position) const;
  std::optional<std::string> leaderPushed(const TakeoverTick& tick);
  void enter(Control control, const std::string& cause = {});

  TakeoverConfig config_;
  long blendTicks_;
  std::size_t lagTicks_;  // ticks of leader goals a mirrored leader may trail
  std::atomic<bool> takeoverRequested_{false};
  std::atomic<bool> handBackRequested_{false};

  // Loop-thread state.
  Control control_ = Control::Policy;
  int ticksOverThreshold_ = 0;
  double lastDeviation_ = 0.0;    // the largest leader deviation on the previous tick
  long blendTicksDone_ = 0;       // hand-back: ticks of the blend that had a policy action
  JointVector humanLastCommand_;  // frozen at hand-back, the start of the blend
  JointVector restingLeaders_;    // leaders that are not mirrored: where they were when the policy took over
  std::deque<JointVector> recentLeaderGoals_;  // mirrored leaders: their goals over the last lagTicks_

  mutable std::mutex mutex_;
  TakeoverStatus status_;
};

}  // namespace flywheel
