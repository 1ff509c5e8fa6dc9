// Human takeover while a policy drives the followers. The operator takes over by moving a leader arm
// (while the policy runs, the leaders follow the followers with torque on, so a push shows as the leader
// leaving its goal; leaders that cannot be driven are watched for moving from where they rest) or by a
// key. The followers then track the leaders. Handing back blends from the human's last command to the
// policy's actions over a configurable time. Every tick says who was in control, and what the policy
// proposed, for the recording.
#pragma once

#include <atomic>
#include <deque>
#include <mutex>

#include "core/config.hpp"
#include "core/control_loop.hpp"

namespace flywheel {

enum class Control { Policy, Human, HandingBack };
const char* nameOf(Control control);

struct TakeoverStatus {
  Control control = Control::Policy;
  std::uint64_t takeovers = 0;
  std::string lastCause;  // "key", or which joint of the leader moved and by how much
};

class TakeoverSupervisor final : public ActionSource {
 public:
  // policy: where the policy's actions come from (a ChunkExecutor). controlPeriod: seconds per tick.
  TakeoverSupervisor(ActionSource& policy, const TakeoverConfig& config, double controlPeriod);

  std::optional<JointVector> nextAction(const Observation& latest) override {
    return policy_.nextAction(latest);
  }
  PolicyDecision decide(const PolicyTick& tick) override;

  void requestTakeover() { takeoverRequested_ = true; }
  void requestHandBack() { handBackRequested_ = true; }
  TakeoverStatus status() const;

 private:
  std::pair<double, double> allowedRange(std::size_t joint, double position) const;
  std::optional<std::string> leaderPushed(const PolicyTick& tick);
  void enter(Control control, const std::string& cause = {});

  ActionSource& policy_;
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
