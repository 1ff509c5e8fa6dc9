// Which action to execute at each policy step, given the chunks that have arrived so far. Pure logic on
// step numbers (no threads, no clock), so that each execution mode is tested exactly.
//
//   Synchronous         the robot waits for each chunk, executes its first k actions, then asks again.
//   TemporalEnsembling  ACT: ask every step; a step's action is the average of every chunk's prediction
//                       for it, weighted exp(-k i) with i = 0 the oldest prediction (k = 0.01).
//   Asynchronous        ask for the next chunk while executing this one. A chunk computed from step s's
//                       observation arrives d steps later: its first d actions are skipped, and the
//                       overlap with the previous chunk is blended over a few steps.
#pragma once

#include <deque>
#include <optional>

#include "core/types.hpp"

namespace flywheel {

enum class ChunkMode { Synchronous, TemporalEnsembling, Asynchronous };
const char* nameOf(ChunkMode mode);
std::optional<ChunkMode> chunkModeFromString(const std::string& text);

struct ChunkPlanOptions {
  ChunkMode mode = ChunkMode::Asynchronous;
  int executeSteps = 0;         // synchronous/asynchronous: actions per chunk before asking again (0: H/2)
  double ensembleDecay = 0.01;  // ACT's k
  int blendSteps = 5;           // asynchronous: steps over which a new chunk takes over from the old
};

class ChunkPlan {
 public:
  explicit ChunkPlan(ChunkPlanOptions options) : options_(options) {}

  // A valid chunk computed from the observation of `observedStep`, available from `arrivalStep` on.
  void add(const ActionChunk& chunk, long observedStep, long arrivalStep);
  // The action for `step`; nullopt when nothing was planned for it (the robot holds).
  std::optional<JointVector> actionAt(long step) const;
  // Whether a new inference should start at `step`, given the policy's latency in steps.
  bool wantsInference(long step, double latencySteps) const;
  // Steps planned ahead of `step` (0 when the plan has run out).
  long stepsAhead(long step) const;
  void clear() { chunks_.clear(); }
  const ChunkPlanOptions& options() const { return options_; }

 private:
  struct Anchored {
    ActionChunk chunk;
    long first = 0;        // the step chunk row 0 is meant for
    long usableFrom = 0;   // first step this chunk may drive
    long usableUntil = 0;  // one past its last
    long arrival = 0;
  };
  int executeSteps(const ActionChunk& chunk) const;
  std::optional<JointVector> ensembleAt(long step) const;
  std::optional<JointVector> asyncAt(long step) const;

  ChunkPlanOptions options_;
  std::deque<Anchored> chunks_;  // oldest first
};

}  // namespace flywheel
