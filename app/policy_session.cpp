#include "app/policy_session.hpp"

#include <cmath>

#include "app/bundled_policies.hpp"
#include "devices/sim/sim_world.hpp"
#include "policy/openpi_client.hpp"
#include "policy/torchscript_policy.hpp"

namespace flywheel {

std::unique_ptr<Policy> makePolicy(const PolicyRunOptions& options, const RigConfig& rig) {
  const PolicyRigSpec spec = PolicyRigSpec::of(rig);
  if (options.policy.starts_with("ws://") || options.policy.starts_with("wss://")) {
    OpenPiOptions remote;
    remote.url = options.policy;
    remote.apiKey = options.apiKey;
    remote.acceptAnyCertificate = options.acceptAnyCertificate;
    auto policy = std::make_unique<OpenPiPolicy>(remote, spec);
    policy->connect();  // a wrong address is reported now, not as the robot starts
    return policy;
  }
  if (options.policy.empty())
    throw PolicyError("no policy given: a TorchScript .pt file, a bundled policy or ws://HOST:PORT");
  if (options.policy.find("://") != std::string::npos)  // an address, not a file: never echoed with secrets
    throw PolicyError("a policy is a TorchScript .pt file or a ws:// or wss:// address, got '" +
                      redactAddress(options.policy) + "'");
  return std::make_unique<TorchScriptPolicy>(resolvePolicy(options.policy), spec);  // a bundled name too
}

// The fallback is loaded and dry-run like a main policy (refused up front when it does not fit the rig);
// it runs in-process, so a server is refused.
std::unique_ptr<Policy> makeFallback(const PolicyRunOptions& options, const RigConfig& rig) {
  if (options.fallback.empty()) return nullptr;
  if (options.fallback.find("://") != std::string::npos)
    throw PolicyError("a fallback runs on this computer: a TorchScript .pt file or a bundled policy, got '" +
                      redactAddress(options.fallback) + "'");
  PolicyRunOptions fallback = options;
  fallback.policy = options.fallback;
  try {
    return makePolicy(fallback, rig);
  } catch (const PolicyError& e) {
    throw PolicyError(std::string("fallback: ") + e.what());
  }
}

PolicySession::PolicySession(Studio& studio, const PolicyRunOptions& options)
    : studio_(studio),
      policy_(makePolicy(options, studio.config())),
      fallbackPolicy_(makeFallback(options, studio.config())) {
  const RigConfig& rig = studio.config();
  ExecutorOptions execution;
  execution.plan.mode = options.mode;
  execution.plan.executeSteps = options.executeSteps;
  execution.ticksPerStep = rig.recordDecimation();
  execution.stepSeconds = 1.0 / rig.recordRateHz;
  execution.watchdogSeconds = options.watchdogSeconds;
  execution.lockstep = studio.fasterThanRealTime();  // simulated time waits for the model
  execution.wallLatency = options.wallLatency;
  const auto& cameras = studio.rig().devices().cameras;
  if (fallbackPolicy_) {
    fallbackExecutor_ = std::make_unique<ChunkExecutor>(*fallbackPolicy_, cameras, rig.followerJointCount(),
                                                        execution, studio.clock(), options.prompt);
    // A stalled server must cost simulated time, or the watchdog never fires in lockstep.
    execution.wallLatency = true;
  }
  executor_ = std::make_unique<ChunkExecutor>(*policy_, cameras, rig.followerJointCount(), execution,
                                              studio.clock(), options.prompt);
  ActionSource* actions = executor_.get();
  if (fallbackPolicy_) {
    FallbackOptions fallback{options.fallbackBlendSeconds, options.fallbackValidToReturn,
                             1.0 / rig.controlRateHz};
    fallbackSource_ =
        std::make_unique<FallbackSource>(*executor_, *fallbackExecutor_, fallback, studio.clock());
    actions = fallbackSource_.get();
  }
  controller_ = std::make_unique<PolicyController>(*actions, rig.takeover, 1.0 / rig.controlRateHz);
  if (!options.supervisor.empty()) installSupervisor(options.supervisor);
  prompts_.emplace_back(studio.clock().now(), options.prompt);
  // The simulator judges the run by what it was asked (which bin, on a rig with several).
  if (sim::SimWorld* world = studio.rig().simWorld()) world->setInstruction(options.prompt);
}

// The scripted operator's "done" key is the controller's requestHandBack: letting go of a leader is not
// detected by itself (a released leader just holds still), so the hand lets go and presses it, as a
// person on a real rig lets go and presses the key.
void PolicySession::installSupervisor(const std::string& kind) {
  if (kind != "scripted") throw PolicyError("--supervisor takes 'scripted', got '" + kind + "'");
  sim::SimWorld* world = studio_.rig().simWorld();
  if (!world)
    throw PolicyError("--supervisor scripted needs a simulated rig: rig '" + studio_.config().name +
                      "' moves real arms, where a person supervises (t takes over)");
  PolicyController* controller = controller_.get();
  supervisor_ =
      std::make_unique<sim::ScriptedSupervisor>(*world, [controller] { controller->requestHandBack(); });
  supervised_ = std::make_unique<sim::SupervisedController>(*controller_, *supervisor_);
}

PolicySession::~PolicySession() {
  if (!started_) return;
  studio_.loop().setController(previous_);  // returns once the loop is out of our controller
  if (sim::SimWorld* world = studio_.rig().simWorld()) world->setHandOnLeaders(true);
}

std::string PolicySession::beginRecording(const DatasetFolder& dataset, double seconds, unsigned seed,
                                          ImageStorage images) {
  TakeOptions take;
  take.imageStorage = images;
  take.task = prompts_.front().second;
  take.seed = seed;
  take.maxTicks = static_cast<std::uint64_t>(std::llround(seconds * studio_.config().recordRateHz));
  take.policy = describe();
  take.tags = {"policy"};
  std::string path = studio_.beginTake(dataset, take);
  recording_ = true;
  return path;
}

EpisodeResult PolicySession::endRecording() {
  recording_ = false;
  const double end = studio_.clock().now();
  EpisodeResult result = studio_.endTake();
  std::vector<Segment> segments = promptSegments(startedAt_, end);
  if (segments.size() < 2) segments.clear();  // one prompt is the episode's task
  // Within the recorded ticks (ticks / fps), which `label` and the Review view hold segments to.
  for (Segment& correction : correctionSegments(startedAt_, std::min(end, startedAt_ + result.seconds)))
    segments.push_back(std::move(correction));
  if (!segments.empty()) {
    EpisodeLabels labels = readLabels(result.path);
    labels.segments = std::move(segments);
    writeLabels(result.path, labels);
  }
  return result;
}

void PolicySession::start() {
  if (started_) return;
  if (sim::SimWorld* world = studio_.rig().simWorld()) world->setHandOnLeaders(false);
  previous_ = studio_.loop().controller();
  startedAt_ = studio_.clock().now();
  studio_.loop().setController(supervised_ ? supervised_.get() : controller_.get());
  started_ = true;
}

void PolicySession::setPaused(bool paused) {
  executor_->setPaused(paused);
}

void PolicySession::takeOver() {
  if (sim::SimWorld* world = studio_.rig().simWorld()) world->setHandOnLeaders(true);
  controller_->requestTakeover();
}

void PolicySession::handBack() {
  if (sim::SimWorld* world = studio_.rig().simWorld()) world->setHandOnLeaders(false);
  controller_->requestHandBack();
}

void PolicySession::setPrompt(const std::string& prompt) {
  executor_->setPrompt(prompt);
  if (fallbackExecutor_) fallbackExecutor_->setPrompt(prompt);
  prompts_.emplace_back(studio_.clock().now(), prompt);
  if (sim::SimWorld* world = studio_.rig().simWorld()) world->setInstruction(prompt);
}

PolicySource PolicySession::currentSource() const {
  if (controller_->takeoverStatus().control != Control::Policy) return PolicySource::Human;
  if (fallbackSource_) return fallbackSource_->source();
  return executor_->status().health == PolicyHealth::Running ? PolicySource::Main : PolicySource::None;
}

std::vector<Segment> PolicySession::correctionSegments(double since, double until) const {
  std::vector<Segment> segments;
  for (const sim::Correction& c : corrections()) {
    const double start = std::max(c.start, since);
    const double end = std::min(c.end < 0 ? until : c.end, until);
    if (end > start) segments.push_back({start - since, end - since, "correction: " + c.reason});
  }
  return segments;
}

std::vector<Segment> PolicySession::promptSegments(double since, double until) const {
  std::vector<Segment> segments;
  for (std::size_t i = 0; i < prompts_.size(); ++i) {
    const double start = std::max(prompts_[i].first, since);
    const double end = i + 1 < prompts_.size() ? std::min(prompts_[i + 1].first, until) : until;
    if (end > start) segments.push_back({start - since, end - since, prompts_[i].second});
  }
  return segments;
}

}  // namespace flywheel
