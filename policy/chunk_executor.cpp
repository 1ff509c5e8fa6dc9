#include "policy/chunk_executor.hpp"

#include <algorithm>
#include <cmath>

namespace flywheel {

namespace {
constexpr std::size_t kRecentAnswers = 64;
constexpr double kLatencySmoothing = 0.3;
}  // namespace

const char* nameOf(PolicyHealth health) {
  switch (health) {
    case PolicyHealth::Starting:
      return "starting";
    case PolicyHealth::Running:
      return "running";
    case PolicyHealth::Waiting:
      return "waiting";
    case PolicyHealth::Holding:
      return "holding";
    case PolicyHealth::Paused:
      return "paused";
  }
  return "?";
}

ChunkExecutor::ChunkExecutor(Policy& policy, std::vector<Camera*> cameras, std::size_t joints,
                             ExecutorOptions options, const Clock& clock, std::string prompt)
    : policy_(policy),
      cameras_(std::move(cameras)),
      joints_(joints),
      options_(options),
      clock_(clock),
      plan_(options.plan),
      prompt_(std::move(prompt)) {
  if (options_.ticksPerStep < 1) throw PolicyError("ticks per policy step must be at least 1");
  status_.prompt = prompt_;
  status_.reason = "waiting for the first chunk from " + policy_.describe();
  worker_ = std::thread([this] { workerMain(); });
}

ChunkExecutor::~ChunkExecutor() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  policy_.cancel();  // a remote request in flight is aborted rather than left to time out
  worker_.join();
}

void ChunkExecutor::setPrompt(std::string prompt) {
  std::lock_guard lock(mutex_);
  prompt_ = std::move(prompt);
  status_.prompt = prompt_;
}

void ChunkExecutor::setPaused(bool paused) {
  std::lock_guard lock(mutex_);
  paused_ = paused;
}

ExecutorStatus ChunkExecutor::status() const {
  std::lock_guard lock(mutex_);
  return status_;
}

std::array<double, 3> ChunkExecutor::latencyPercentiles() const {
  std::vector<double> sorted;
  {
    std::lock_guard lock(mutex_);
    sorted = latencies_;
  }
  if (sorted.empty()) return {0.0, 0.0, 0.0};
  std::sort(sorted.begin(), sorted.end());
  auto at = [&](double q) {
    return sorted[static_cast<std::size_t>(q * static_cast<double>(sorted.size() - 1))];
  };
  return {at(0.5), at(0.95), sorted.back()};
}

void ChunkExecutor::workerMain() {
  std::unique_lock lock(mutex_);
  for (;;) {
    wake_.wait(lock, [&] { return stopping_ || requestSlot_.has_value(); });
    if (stopping_) return;
    auto [observation, step] = std::move(*requestSlot_);
    requestSlot_.reset();
    const std::string prompt = prompt_;
    lock.unlock();
    Answer answer;
    answer.observedStep = step;
    try {
      answer.output = policy_.infer(observation, prompt);
    } catch (const std::exception& e) {
      answer.error = e.what();
    }
    answer.answerTime = clock_.now();
    answer.answerWall = std::chrono::steady_clock::now();
    lock.lock();
    answerSlot_ = std::move(answer);
    wake_.notify_all();
  }
}

std::optional<JointVector> ChunkExecutor::nextAction(const ControlInput& input) {
  const long step = static_cast<long>(input.tick) / options_.ticksPerStep;
  const long tickInStep = static_cast<long>(input.tick) % options_.ticksPerStep;
  bool paused;
  {
    std::lock_guard lock(mutex_);
    paused = paused_;
  }
  if (paused) {
    plan_.clear();  // a plan made before the pause would replay a stale future afterwards
    discardBefore_ = step + 1;
    setHealth(PolicyHealth::Paused, "paused by the operator", step);
    return std::nullopt;
  }
  integrate(step);
  keepToWallTimeDuringOutage();
  const double latencySteps = status().latencyEstimate / options_.stepSeconds;
  if (!pending_ && clock_.now() >= retryAt_ && plan_.wantsInference(step, latencySteps)) request(input, step);
  if (options_.lockstep && pending_) waitInLockstep(step);
  return planned(step, tickInStep);
}

void ChunkExecutor::waitInLockstep(long step) {
  std::unique_lock lock(mutex_);
  if (!options_.wallLatency) {
    wake_.wait(lock, [&] { return answerSlot_.has_value() || stopping_; });
  } else {
    // Simulated time may be as far past the request as wall time is, no further.
    const auto rigElapsed = std::chrono::duration<double>(clock_.now() - pendingSince_);
    const auto until =
        pendingSinceWall_ + std::chrono::duration_cast<std::chrono::steady_clock::duration>(rigElapsed);
    wake_.wait_until(lock, until, [&] { return answerSlot_.has_value() || stopping_; });
  }
  lock.unlock();
  integrate(step);
}

// Wall-latency lockstep during an outage: simulated time since it began may not pass wall time's.
void ChunkExecutor::keepToWallTimeDuringOutage() const {
  if (!options_.lockstep || !options_.wallLatency || lastProblem_.empty()) return;
  const auto rigElapsed = std::chrono::duration<double>(clock_.now() - problemSince_);
  std::this_thread::sleep_until(problemSinceWall_ +
                                std::chrono::duration_cast<std::chrono::steady_clock::duration>(rigElapsed));
}

// Wall-latency lockstep: an answer is taken once simulated time has caught up with its wall latency.
bool ChunkExecutor::answerDue(const Answer& answer) const {
  if (!options_.lockstep || !options_.wallLatency) return true;
  const double wall = std::chrono::duration<double>(answer.answerWall - pendingSinceWall_).count();
  return clock_.now() - pendingSince_ >= wall;
}

void ChunkExecutor::request(const ControlInput& input, long step) {
  Observation snapshot;
  snapshot.tick = input.tick;
  snapshot.time = input.time;
  snapshot.state = input.followers;
  for (Camera* camera : cameras_)
    snapshot.frames.push_back(camera->latest());  // shares the pixels
  // Stamped before the worker can see the request: it may answer before this thread runs again.
  pending_ = true;
  pendingSince_ = clock_.now();
  pendingSinceWall_ = std::chrono::steady_clock::now();
  {
    std::lock_guard lock(mutex_);
    requestSlot_.emplace(std::move(snapshot), step);
  }
  wake_.notify_all();
}

// Takes the worker's answer, if there is one, into the plan (or records why it was refused).
void ChunkExecutor::integrate(long step) {
  std::optional<Answer> answer;
  {
    std::lock_guard lock(mutex_);
    if (answerSlot_ && !answerDue(*answerSlot_)) return;
    answer.swap(answerSlot_);
  }
  if (!answer) return;
  pending_ = false;
  const double now = clock_.now();
  if (options_.lockstep && options_.wallLatency)  // it arrives in simulated time as late as it took
    answer->answerTime =
        pendingSince_ + std::chrono::duration<double>(answer->answerWall - pendingSinceWall_).count();
  const ActionChunk& chunk = answer->output.actions;
  // Latency is measured to the answer itself, not to the tick that picked it up.
  ChunkEvent event{pendingSince_, answer->answerTime, answer->observedStep, step, chunk.horizon, false};
  std::string problem;
  if (!answer->error.empty()) {
    problem = answer->error;
  } else if (std::string shape = chunkProblem(chunk, joints_); !shape.empty()) {
    problem = policy_.describe() + " sent " + shape + ": refused";
  } else if (answer->observedStep >= discardBefore_) {
    plan_.add(chunk, answer->observedStep, step);
    event.accepted = true;
    everAccepted_ = true;
  }
  if (lastProblem_.empty() && !problem.empty()) {
    problemSince_ = now;
    problemSinceWall_ = std::chrono::steady_clock::now();
  }
  lastProblem_ = problem;
  if (!problem.empty()) retryAt_ = now + options_.retrySeconds;

  std::lock_guard lock(mutex_);
  ++status_.inferences;
  if (!answer->error.empty()) ++status_.failures;
  if (!event.accepted && answer->error.empty() && !problem.empty()) ++status_.refused;
  if (event.accepted) ++status_.validInARow;
  if (!problem.empty()) status_.validInARow = 0;
  if (event.accepted) {
    status_.lastTiming = answer->output.timing;
    status_.lastLatency = std::chrono::duration<double>(answer->answerWall - pendingSinceWall_).count();
    if (latencies_.size() < 100000) latencies_.push_back(status_.lastLatency);
    const double rigLatency = event.answerTime - event.requestTime;
    status_.latencyEstimate = latencies_.size() == 1 ? rigLatency
                                                     : (1.0 - kLatencySmoothing) * status_.latencyEstimate +
                                                           kLatencySmoothing * rigLatency;
  }
  status_.recent.push_back(event);
  if (status_.recent.size() > kRecentAnswers) status_.recent.pop_front();
}

std::optional<std::string> ChunkExecutor::watchdogReason(double now) const {
  if (!lastProblem_.empty()) return lastProblem_;
  if (pending_ && now - pendingSince_ > options_.watchdogSeconds) {
    char seconds[32];
    std::snprintf(seconds, sizeof seconds, "%.1f", now - pendingSince_);
    return "no answer from " + policy_.describe() + " for " + seconds + " s";
  }
  return std::nullopt;
}

// The planned action for this tick, interpolated towards the next step's; nullopt holds the robot.
std::optional<JointVector> ChunkExecutor::planned(long step, long tickInStep) {
  if (auto reason = watchdogReason(clock_.now())) {
    setHealth(PolicyHealth::Holding, *reason, step);
    std::lock_guard lock(mutex_);
    status_.validInARow = 0;  // a stall breaks the run of valid answers as an error does
    return std::nullopt;
  }
  std::optional<JointVector> action = plan_.actionAt(step);
  if (!action) {
    if (!everAccepted_)
      setHealth(PolicyHealth::Starting, "waiting for the first chunk from " + policy_.describe(), step);
    else
      setHealth(PolicyHealth::Waiting, pending_ ? "waiting for the next chunk" : "the plan ran out", step);
    return std::nullopt;
  }
  setHealth(PolicyHealth::Running, "", step);
  if (tickInStep == 0) return action;
  std::optional<JointVector> next = plan_.actionAt(step + 1);
  if (!next) return action;
  const double fraction = static_cast<double>(tickInStep) / options_.ticksPerStep;
  for (std::size_t j = 0; j < action->size(); ++j)
    (*action)[j] += fraction * ((*next)[j] - (*action)[j]);
  return action;
}

void ChunkExecutor::setHealth(PolicyHealth health, std::string reason, long step) {
  std::lock_guard lock(mutex_);
  if (health != PolicyHealth::Running && everAccepted_) ++status_.heldTicks;
  status_.health = health;
  status_.reason = std::move(reason);
  status_.step = step;
  status_.stepsAhead = plan_.stepsAhead(step);
}

}  // namespace flywheel
