#include "policy/policy.hpp"

#include <algorithm>

namespace flywheel {

SynchronousChunkExecutor::SynchronousChunkExecutor(Policy& policy, std::string prompt, int stepsPerChunk)
    : policy_(policy), prompt_(std::move(prompt)), stepsPerChunk_(stepsPerChunk) {}

std::optional<JointVector> SynchronousChunkExecutor::nextAction(const Observation& latest) {
  if (chunk_.horizon == 0 || next_ >= std::min(stepsPerChunk_, chunk_.horizon)) {
    chunk_ = policy_.infer(latest, prompt_);
    ++inferences_;
    next_ = 0;
    if (chunk_.horizon == 0) return std::nullopt;  // nothing to do: hold
  }
  return chunk_.step(next_++);
}

ReplayPolicy::ReplayPolicy(std::vector<double> actions, std::size_t joints, int horizon)
    : actions_(std::move(actions)), joints_(joints), horizon_(horizon) {
  if (joints_ == 0 || actions_.size() % joints_ != 0) throw PolicyError("replay: actions are not [T, J]");
  if (horizon_ < 1) throw PolicyError("replay: the chunk horizon must be at least 1");
}

std::string ReplayPolicy::describe() const {
  return "replay of " + std::to_string(length()) + " recorded actions";
}

// Returns the next `horizon` recorded actions; past the end, an empty chunk (the loop holds).
ActionChunk ReplayPolicy::infer(const Observation& observation, const std::string& prompt) {
  ActionChunk chunk;
  chunk.joints = static_cast<int>(joints_);
  std::size_t available = length() > cursor_ ? length() - cursor_ : 0;
  chunk.horizon = static_cast<int>(std::min<std::size_t>(available, static_cast<std::size_t>(horizon_)));
  auto first = actions_.begin() + static_cast<long>(cursor_ * joints_);
  chunk.values.assign(first, first + static_cast<long>(chunk.horizon * joints_));
  cursor_ += static_cast<std::size_t>(chunk.horizon);
  return chunk;
}

}  // namespace flywheel
