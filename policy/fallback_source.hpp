// A main policy with a local fallback: an ActionSource composing two chunk executors, so that the policy
// controller and takeover work as they do with one. The main policy (usually a remote server) drives while
// it answers within its budget; when its watchdog would hold (no answer within the watchdog time, an error,
// a refused chunk) the fallback (a TorchScript model in-process) drives from the same observations. It
// hands back once the main policy has answered validly `validToReturn` requests in a row. Every switch
// blends from the last executed goal to the new source's actions over `blendSeconds`, as the takeover's
// hand-back does, so the followers never jump.
//
// The fallback's executor is paused (not inferring) while the main policy drives, and resumed at a switch.
// Measured on the simulated rig (10 s real-time runs, a loopback server as main, the bundled sim policy as
// fallback): kept warm, it answered 46 requests and flywheel's CPU rose from 0.8 s to 1.0-1.1 s (+30%);
// paused, a switch costs one local answer (p50 6.6 ms) of hold inside the 0.3 s blend. The link is good
// most of the time, so the CPU is better spent elsewhere.
#pragma once

#include <atomic>
#include <mutex>
#include <string>
#include <vector>

#include "policy/chunk_executor.hpp"

namespace flywheel {

struct FallbackOptions {
  double blendSeconds = 0.3;  // a switch fades from the last goal to the new source over this time
  int validToReturn = 3;      // valid main answers in a row before the main policy drives again
  double controlPeriod = 0.01;
};

struct SourceSwitch {
  double time = 0.0;  // rig clock seconds
  PolicySource to = PolicySource::Main;
  std::string reason;
};

class FallbackSource final : public ActionSource {
 public:
  // main and fallback: not owned, outlive this object.
  FallbackSource(ChunkExecutor& main, ChunkExecutor& fallback, FallbackOptions options, const Clock& clock);

  std::optional<JointVector> nextAction(const ControlInput& input) override;
  PolicySource source() const override { return last_.load(); }  // thread-safe

  // Thread-safe.
  PolicySource driving() const { return driving_.load(); }  // Main or Fallback
  std::vector<SourceSwitch> switches() const;
  // Ticks on which neither policy had an action since the first action: the robot held.
  std::uint64_t heldTicks() const { return heldTicks_.load(); }

 private:
  void switchTo(PolicySource to, std::string reason, const ControlInput& input);
  JointVector blended(const JointVector& target);

  ChunkExecutor& main_;
  ChunkExecutor& fallback_;
  FallbackOptions options_;
  const Clock& clock_;
  long blendTicks_;

  // Loop-thread state.
  JointVector blendFrom_;  // the goal executed when the switch happened
  long blendTicksDone_ = 0;
  bool blending_ = false;

  std::atomic<PolicySource> driving_{PolicySource::Main};
  std::atomic<PolicySource> last_{PolicySource::None};  // written on the loop thread
  std::atomic<std::uint64_t> heldTicks_{0};
  bool everActed_ = false;  // loop thread
  mutable std::mutex mutex_;
  std::vector<SourceSwitch> switches_;
};

}  // namespace flywheel
