// Runs a policy off the control thread and turns its chunks into one goal per control tick: the loop asks
// nextAction() every tick and never waits for the model (except in lockstep, for simulated time).
//
// Policy steps run at the rig's record rate; between two planned actions the goal is interpolated at the
// control rate. A watchdog holds the robot (nullopt) when the plan runs out, when a request has gone
// unanswered for longer than the watchdog time, or when the last answer was an error or a malformed chunk;
// it resumes as soon as a valid chunk arrives.
#pragma once

#include <array>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>

#include "core/clock.hpp"
#include "core/hardware.hpp"
#include "policy/action_source.hpp"
#include "policy/chunk_plan.hpp"
#include "policy/policy.hpp"

namespace flywheel {

struct ExecutorOptions {
  ChunkPlanOptions plan;
  int ticksPerStep = 1;          // control ticks per policy step (control rate / record rate)
  double stepSeconds = 0.02;     // one policy step (1 / record rate)
  double watchdogSeconds = 1.0;  // longest wait for an answer before holding
  double retrySeconds = 0.25;    // pause after a failed inference before asking again
  bool lockstep = false;         // wait for every inference: simulated time stands still while it runs
  // Lockstep only: an answer reaches the plan as many rig seconds after its request as it took in wall
  // seconds, and simulated time never gets ahead of the request's wall time while it is on its way. A slow
  // or stalled server then costs simulated time as it would cost real time (the watchdog fires in it), and
  // so does an outage: while answers are errors, simulated time runs no faster than wall time (a client's
  // reconnection back-off is wall time).
  bool wallLatency = false;
};

enum class PolicyHealth {
  Starting,  // no chunk yet
  Running,   // executing planned actions
  Waiting,   // the plan ran out and an answer is on its way (synchronous mode's normal pause)
  Holding,   // the watchdog holds the robot: see `reason`
  Paused,
};
const char* nameOf(PolicyHealth health);

// One answered request, for the GUI's chunk timeline and the latency figures.
struct ChunkEvent {
  double requestTime = 0.0;  // rig clock
  double answerTime = 0.0;
  long observedStep = 0;
  long arrivalStep = 0;
  int horizon = 0;
  bool accepted = false;
};

struct ExecutorStatus {
  PolicyHealth health = PolicyHealth::Starting;
  std::string reason;  // why it holds or waits
  std::string prompt;
  long step = 0;
  long stepsAhead = 0;
  std::uint64_t inferences = 0;   // answered requests, errors included
  std::uint64_t refused = 0;      // malformed chunks (wrong shape, NaN)
  std::uint64_t failures = 0;     // errors: server gone, model threw
  std::uint64_t heldTicks = 0;    // ticks without an action since the first chunk
  std::uint64_t validInARow = 0;  // accepted chunks since the last problem or watchdog hold
  InferenceTiming lastTiming;
  // Request to answer in wall seconds: in lockstep, simulated time stands still while the model runs,
  // which must not hide what inference really costs.
  double lastLatency = 0.0;
  double latencyEstimate = 0.0;   // smoothed, rig clock seconds (what the plan must allow for)
  std::deque<ChunkEvent> recent;  // the last few dozen answers
};

class ChunkExecutor final : public ActionSource {
 public:
  ChunkExecutor(Policy& policy, std::vector<Camera*> cameras, std::size_t joints, ExecutorOptions options,
                const Clock& clock, std::string prompt);
  ~ChunkExecutor() override;
  ChunkExecutor(const ChunkExecutor&) = delete;
  ChunkExecutor& operator=(const ChunkExecutor&) = delete;

  std::optional<JointVector> nextAction(const ControlInput& input) override;

  void setPrompt(std::string prompt);
  void setPaused(bool paused);
  ExecutorStatus status() const;
  // Request-to-answer wall seconds of every accepted chunk: {p50, p95, max}; zeros before the first.
  std::array<double, 3> latencyPercentiles() const;

 private:
  struct Answer {
    long observedStep = 0;
    double answerTime = 0.0;  // rig clock, when the worker had the answer
    std::chrono::steady_clock::time_point answerWall;
    PolicyOutput output;
    std::string error;  // non-empty: the policy failed
  };
  void workerMain();
  void request(const ControlInput& input, long step);
  void integrate(long step);
  void waitInLockstep(long step);
  void keepToWallTimeDuringOutage() const;
  bool answerDue(const Answer& answer) const;
  std::optional<JointVector> planned(long step, long tickInStep);
  std::optional<std::string> watchdogReason(double now) const;
  void setHealth(PolicyHealth health, std::string reason, long step);

  Policy& policy_;
  std::vector<Camera*> cameras_;
  std::size_t joints_;
  ExecutorOptions options_;
  const Clock& clock_;

  // Loop-thread state.
  ChunkPlan plan_;
  bool pending_ = false;
  double pendingSince_ = 0.0;
  std::chrono::steady_clock::time_point pendingSinceWall_;
  double retryAt_ = 0.0;
  std::string lastProblem_;    // the newest answer's error or refusal; cleared by a valid chunk
  double problemSince_ = 0.0;  // when lastProblem_ began (rig clock, and wall clock)
  std::chrono::steady_clock::time_point problemSinceWall_;
  long discardBefore_ = 0;  // answers to requests from before a pause are stale
  bool everAccepted_ = false;

  // Shared with the worker and readers.
  mutable std::mutex mutex_;
  std::condition_variable wake_;
  std::optional<std::pair<Observation, long>> requestSlot_;
  std::optional<Answer> answerSlot_;
  std::string prompt_;
  bool paused_ = false;
  bool stopping_ = false;
  ExecutorStatus status_;
  std::vector<double> latencies_;
  std::thread worker_;
};

}  // namespace flywheel
