#include "policy/chunk_plan.hpp"

#include <algorithm>
#include <cmath>

namespace flywheel {

const char* nameOf(ChunkMode mode) {
  switch (mode) {
    case ChunkMode::Synchronous:
      return "sync";
    case ChunkMode::TemporalEnsembling:
      return "ensemble";
    case ChunkMode::Asynchronous:
      return "async";
  }
  return "?";
}

std::optional<ChunkMode> chunkModeFromString(const std::string& text) {
  for (ChunkMode mode : {ChunkMode::Synchronous, ChunkMode::TemporalEnsembling, ChunkMode::Asynchronous})
    if (text == nameOf(mode)) return mode;
  return std::nullopt;
}

int ChunkPlan::executeSteps(const ActionChunk& chunk) const {
  int steps = options_.executeSteps > 0 ? options_.executeSteps : std::max(1, chunk.horizon / 2);
  return std::min(steps, chunk.horizon);
}

void ChunkPlan::add(const ActionChunk& chunk, long observedStep, long arrivalStep) {
  Anchored anchored{chunk, observedStep, arrivalStep, observedStep + chunk.horizon, arrivalStep};
  switch (options_.mode) {
    case ChunkMode::Synchronous:
      // The robot held while the policy thought: row 0 is executed now.
      anchored.first = anchored.usableFrom = arrivalStep;
      anchored.usableUntil = arrivalStep + executeSteps(chunk);
      chunks_.clear();
      break;
    case ChunkMode::TemporalEnsembling:
      while (!chunks_.empty() && chunks_.front().usableUntil <= arrivalStep)
        chunks_.pop_front();
      anchored.usableFrom = observedStep;  // every prediction for a step counts, however late it came
      break;
    case ChunkMode::Asynchronous:
      // Only the chunk being executed stays, to blend the overlap; it stops where the blend ends.
      while (chunks_.size() > 1)
        chunks_.pop_front();
      if (!chunks_.empty())
        chunks_.front().usableUntil =
            std::min(chunks_.front().usableUntil, arrivalStep + static_cast<long>(options_.blendSteps));
      break;
  }
  chunks_.push_back(std::move(anchored));
}

std::optional<JointVector> ChunkPlan::actionAt(long step) const {
  if (chunks_.empty()) return std::nullopt;
  switch (options_.mode) {
    case ChunkMode::Synchronous: {
      const Anchored& c = chunks_.back();
      if (step < c.usableFrom || step >= c.usableUntil) return std::nullopt;
      return c.chunk.step(static_cast<int>(step - c.first));
    }
    case ChunkMode::TemporalEnsembling:
      return ensembleAt(step);
    case ChunkMode::Asynchronous:
      return asyncAt(step);
  }
  return std::nullopt;
}

std::optional<JointVector> ChunkPlan::ensembleAt(long step) const {
  JointVector sum;
  double weightSum = 0.0;
  int age = 0;  // 0 for the oldest prediction of this step
  for (const Anchored& c : chunks_) {
    if (step < c.usableFrom || step >= c.usableUntil) continue;
    const double weight = std::exp(-options_.ensembleDecay * age++);
    JointVector action = c.chunk.step(static_cast<int>(step - c.first));
    if (sum.empty()) sum.assign(action.size(), 0.0);
    for (std::size_t j = 0; j < action.size(); ++j)
      sum[j] += weight * action[j];
    weightSum += weight;
  }
  if (weightSum == 0.0) return std::nullopt;
  for (double& value : sum)
    value /= weightSum;
  return sum;
}

std::optional<JointVector> ChunkPlan::asyncAt(long step) const {
  const Anchored& newest = chunks_.back();
  const bool newCovers = step >= newest.usableFrom && step < newest.usableUntil;
  if (chunks_.size() == 1 || step >= chunks_.front().usableUntil || step < chunks_.front().usableFrom) {
    if (!newCovers) return std::nullopt;
    return newest.chunk.step(static_cast<int>(step - newest.first));
  }
  const Anchored& old = chunks_.front();
  JointVector previous = old.chunk.step(static_cast<int>(step - old.first));
  if (!newCovers || step < newest.arrival) return previous;
  // Linear cross-fade: the new chunk's weight grows 1/(n+1), 2/(n+1), ... over the blend.
  const double alpha = static_cast<double>(step - newest.arrival + 1) / (options_.blendSteps + 1);
  JointVector next = newest.chunk.step(static_cast<int>(step - newest.first));
  for (std::size_t j = 0; j < next.size(); ++j)
    next[j] = (1.0 - alpha) * previous[j] + alpha * next[j];
  return next;
}

long ChunkPlan::stepsAhead(long step) const {
  if (chunks_.empty()) return 0;
  long until = 0;
  for (const Anchored& c : chunks_)
    until = std::max(until, c.usableUntil);
  return std::max(0L, until - step);
}

bool ChunkPlan::wantsInference(long step, double latencySteps) const {
  if (chunks_.empty()) return true;
  const Anchored& newest = chunks_.back();
  switch (options_.mode) {
    case ChunkMode::Synchronous:
      return step >= newest.usableUntil;
    case ChunkMode::TemporalEnsembling:
      return true;
    case ChunkMode::Asynchronous: {
      const bool executedEnough = step - newest.usableFrom >= executeSteps(newest.chunk);
      const bool runningOut = static_cast<double>(newest.usableUntil - step) <= std::ceil(latencySteps) + 1.0;
      return executedEnough || runningOut;
    }
  }
  return true;
}

}  // namespace flywheel
