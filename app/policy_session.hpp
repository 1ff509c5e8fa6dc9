// A policy driving a Studio's rig: the policy (TorchScript file or openpi server), its chunk executor and
// the policy controller (takeover included), installed in the control loop. The one owner of what drives
// the robot during a run: `flywheel run` and the GUI's Run view both go through it, recording included.
#pragma once

#include <memory>

#include "app/studio.hpp"
#include "devices/sim/scripted_supervisor.hpp"
#include "policy/chunk_executor.hpp"
#include "policy/fallback_source.hpp"
#include "policy/policy_controller.hpp"
#include "recorder/labels.hpp"

namespace flywheel {

struct PolicyRunOptions {
  std::string policy;  // MODEL.pt, a bundled name (app/bundled_policies.hpp), or ws:// / wss://HOST:PORT
  std::string prompt;
  ChunkMode mode = ChunkMode::Asynchronous;
  int executeSteps = 0;  // 0: half a chunk
  double watchdogSeconds = 1.0;
  std::string apiKey;
  bool acceptAnyCertificate = false;
  // A TorchScript .pt file or bundled name that drives while the main policy cannot (policy/
  // fallback_source.hpp); empty: none, the watchdog holds the robot.
  std::string fallback;
  // Simulated time in lockstep (--fast, eval) passes for the model as wall time does (ExecutorOptions::
  // wallLatency): latency and stalls cost the simulated task what they would cost a real one. Always on
  // for the main policy when a fallback is given.
  bool wallLatency = false;
  double fallbackBlendSeconds = 0.3;
  int fallbackValidToReturn = 3;
  // "scripted": on a simulated rig the scripted operator supervises the run and takes over when the robot
  // goes wrong (devices/sim/scripted_supervisor.hpp); empty: none. Refused on other rigs.
  std::string supervisor{};
};

// Builds the policy a user named: a .pt file or a websocket address. Throws PolicyError.
std::unique_ptr<Policy> makePolicy(const PolicyRunOptions& options, const RigConfig& rig);

class PolicySession {
 public:
  // Loads the policy (a model is checked against the rig; a server is connected to). Throws PolicyError.
  PolicySession(Studio& studio, const PolicyRunOptions& options);
  // Gives the loop back to the controller it had before start() (the leaders in the window, none in
  // `flywheel run`); a recording still open is left to the Studio, which saves it when it stops.
  ~PolicySession();

  // Records the run as an episode of `dataset` (call before start()): the prompt is its task, it is tagged
  // "policy", and it ends by itself after `seconds`. `seed` sets the simulated scene; `images` how frames
  // are stored (JPEG: about 1/40 of the raw size). Returns its path.
  std::string beginRecording(const DatasetFolder& dataset, double seconds, unsigned seed,
                             ImageStorage images = ImageStorage::Raw);
  // Saves the recording; when the prompt changed during the run, each prompt is a labelled segment.
  // Throws RecorderError (what was written is kept).
  EpisodeResult endRecording();
  bool recording() const { return recording_; }

  void start();                                    // the policy drives the followers from now on
  double startedAt() const { return startedAt_; }  // rig clock seconds
  void setPaused(bool paused);
  void takeOver();  // the key; on the simulated rig the scripted hand grabs the leaders
  void handBack();
  void setPrompt(const std::string& prompt);

  std::string describe() const { return policy_->describe(); }              // a server's address redacted
  std::string serverMetadata() const { return policy_->serverMetadata(); }  // empty for a model
  std::uint64_t reconnects() const { return policy_->reconnects(); }
  std::vector<std::string> notes() const { return policy_->notes(); }
  ExecutorStatus executorStatus() const { return executor_->status(); }
  std::array<double, 3> latencyPercentiles() const { return executor_->latencyPercentiles(); }
  TakeoverStatus takeoverStatus() const { return controller_->takeoverStatus(); }
  // The fallback policy, when one was given: its description, its executor, which policy drives now and
  // every switch so far (rig clock times).
  bool hasFallback() const { return fallbackSource_ != nullptr; }
  std::string describeFallback() const { return fallbackPolicy_ ? fallbackPolicy_->describe() : ""; }
  ExecutorStatus fallbackStatus() const { return fallbackExecutor_->status(); }
  PolicySource driving() const { return fallbackSource_ ? fallbackSource_->driving() : PolicySource::Main; }
  // Ticks the robot held since the first action: with a fallback, those neither policy had an action for.
  std::uint64_t heldTicks() const {
    return fallbackSource_ ? fallbackSource_->heldTicks() : executor_->status().heldTicks;
  }
  // What produced the goal of the latest tick (as /policy_source records it).
  PolicySource currentSource() const;
  std::vector<SourceSwitch> switches() const {
    return fallbackSource_ ? fallbackSource_->switches() : std::vector<SourceSwitch>{};
  }
  bool supervised() const { return supervisor_ != nullptr; }  // the scripted operator watches this run
  // The scripted supervisor's corrections so far (rig clock seconds); none without --supervisor.
  std::vector<sim::Correction> corrections() const {
    return supervisor_ ? supervisor_->corrections() : std::vector<sim::Correction>{};
  }
  // The corrections as "correction: <reason>" segments of the run since `since`, as promptSegments.
  std::vector<Segment> correctionSegments(double since, double until) const;
  // The prompts given so far, as segments of the run since `since` (rig clock seconds).
  std::vector<Segment> promptSegments(double since, double until) const;

 private:
  void installSupervisor(const std::string& kind);

  Studio& studio_;
  std::unique_ptr<Policy> policy_;
  std::unique_ptr<Policy> fallbackPolicy_;
  std::unique_ptr<ChunkExecutor> executor_;
  std::unique_ptr<ChunkExecutor> fallbackExecutor_;
  std::unique_ptr<FallbackSource> fallbackSource_;
  std::unique_ptr<PolicyController> controller_;
  std::unique_ptr<sim::ScriptedSupervisor> supervisor_;
  std::unique_ptr<Controller> supervised_;  // controller_ with the supervisor watching each tick
  Controller* previous_ = nullptr;          // what drove the loop before start()
  bool started_ = false;
  bool recording_ = false;
  double startedAt_ = 0.0;
  std::vector<std::pair<double, std::string>> prompts_;  // (rig time it was set, prompt)
};

}  // namespace flywheel
