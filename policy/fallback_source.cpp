#include "policy/fallback_source.hpp"

#include <algorithm>
#include <cmath>

namespace flywheel {

FallbackSource::FallbackSource(ChunkExecutor& main, ChunkExecutor& fallback, FallbackOptions options,
                               const Clock& clock)
    : main_(main),
      fallback_(fallback),
      options_(options),
      clock_(clock),
      blendTicks_(std::max(1L, std::lround(options.blendSeconds / options.controlPeriod))) {
  if (options_.validToReturn < 1)
    throw PolicyError("the main policy needs at least 1 valid answer to return");
  fallback_.setPaused(true);
}

std::vector<SourceSwitch> FallbackSource::switches() const {
  std::lock_guard lock(mutex_);
  return switches_;
}

std::optional<JointVector> FallbackSource::nextAction(const ControlInput& input) {
  std::optional<JointVector> mainAction = main_.nextAction(input);
  const ExecutorStatus main = main_.status();
  const PolicySource driving = driving_.load();
  if (main.health == PolicyHealth::Paused) {  // the operator paused the run: neither policy drives
    if (driving == PolicySource::Fallback) fallback_.setPaused(true);
    fallback_.nextAction(input);
    last_ = PolicySource::None;
    return std::nullopt;
  }
  if (driving == PolicySource::Main && main.health == PolicyHealth::Holding) {
    switchTo(PolicySource::Fallback, main.reason, input);
  } else if (driving == PolicySource::Fallback && main.health != PolicyHealth::Holding &&
             main.validInARow >= static_cast<std::uint64_t>(options_.validToReturn)) {
    switchTo(PolicySource::Main, std::to_string(main.validInARow) + " valid answers in a row", input);
  }
  fallback_.setPaused(driving_.load() != PolicySource::Fallback);
  std::optional<JointVector> fallbackAction = fallback_.nextAction(input);
  std::optional<JointVector>& target = driving_.load() == PolicySource::Main ? mainAction : fallbackAction;
  if (!target) {  // hold where the followers are; a blend resumes from there when actions come
    last_ = PolicySource::None;
    if (everActed_) ++heldTicks_;
    return std::nullopt;
  }
  everActed_ = true;
  last_ = driving_.load();
  return blending_ ? blended(*target) : *target;
}

void FallbackSource::switchTo(PolicySource to, std::string reason, const ControlInput& input) {
  driving_ = to;
  blendFrom_ = input.lastGoal;
  blendTicksDone_ = 0;
  blending_ = !blendFrom_.empty();
  std::lock_guard lock(mutex_);
  switches_.push_back({clock_.now(), to, std::move(reason)});
}

// The blend advances only on ticks with an action, so a source still starting up holds, not snaps.
JointVector FallbackSource::blended(const JointVector& target) {
  ++blendTicksDone_;
  const double alpha = std::min(1.0, static_cast<double>(blendTicksDone_) / static_cast<double>(blendTicks_));
  if (alpha >= 1.0 || blendFrom_.size() != target.size()) {
    blending_ = false;
    return target;
  }
  JointVector goal = blendFrom_;
  for (std::size_t j = 0; j < goal.size(); ++j)
    goal[j] += alpha * (target[j] - goal[j]);
  return goal;
}

}  // namespace flywheel
