// A policy turns an observation and a language prompt into a chunk of future actions.
#pragma once

#include <string>

#include "core/control_loop.hpp"
#include "core/types.hpp"

namespace flywheel {

struct PolicyError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

class Policy {
 public:
  virtual ~Policy() = default;
  virtual std::string describe() const = 0;
  // Returns an [H, J] chunk; J must equal the rig's follower joint count. Throws PolicyError.
  virtual ActionChunk infer(const Observation& observation, const std::string& prompt) = 0;
};

// Synchronous chunk execution: run `stepsPerChunk` actions of each chunk, then ask the policy again.
// Runs inference on the loop thread, so it suits policies that answer within a tick (replay, tiny models).
class SynchronousChunkExecutor final : public ActionSource {
 public:
  SynchronousChunkExecutor(Policy& policy, std::string prompt, int stepsPerChunk);
  std::optional<JointVector> nextAction(const Observation& latest) override;
  std::uint64_t inferences() const { return inferences_; }

 private:
  Policy& policy_;
  std::string prompt_;
  int stepsPerChunk_;
  ActionChunk chunk_;
  int next_ = 0;
  std::uint64_t inferences_ = 0;
};

// Plays back the actions of a recorded episode, chunk by chunk: the simplest policy there is, and a check
// that a recording reproduces its motion on the rig.
class ReplayPolicy final : public Policy {
 public:
  // actions: [T, J] row-major, as an episode's /action holds them.
  ReplayPolicy(std::vector<double> actions, std::size_t joints, int horizon);
  std::string describe() const override;
  ActionChunk infer(const Observation& observation, const std::string& prompt) override;
  std::size_t length() const { return actions_.size() / joints_; }

 private:
  std::vector<double> actions_;
  std::size_t joints_;
  int horizon_;
  std::size_t cursor_ = 0;
};

}  // namespace flywheel
