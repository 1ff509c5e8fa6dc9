// A policy turns an observation and a language prompt into a chunk of future actions.
#pragma once

#include <string>

#include "core/config.hpp"
#include "core/types.hpp"

namespace flywheel {

struct PolicyError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// What a policy is bound to: the rig's follower joints and cameras, in rig order.
struct PolicyRigSpec {
  std::size_t joints = 0;
  std::vector<std::string> cameras;
  double fps = 50.0;  // the rate the policy's actions are meant for (the rig's record rate)

  static PolicyRigSpec of(const RigConfig& rig);
};

// Seconds spent on one inference. For a remote policy, forward is the server's own inference time and
// network is what the round trip cost beyond it.
struct InferenceTiming {
  double preprocess = 0.0;
  double forward = 0.0;
  double postprocess = 0.0;
  double network = 0.0;
  double total = 0.0;
};

struct PolicyOutput {
  ActionChunk actions;  // [H, J]
  InferenceTiming timing;
};

class Policy {
 public:
  virtual ~Policy() = default;
  virtual std::string describe() const = 0;
  // observation.frames are in the rig's camera order. Throws PolicyError (the caller holds the robot).
  virtual PolicyOutput infer(const Observation& observation, const std::string& prompt) = 0;
  // Called from another thread when the caller is going away: an inference in flight should end soon
  // (with a PolicyError), and later ones at once. A local model may simply finish.
  virtual void cancel() {}
  // A remote policy: what its server said about itself on connect (one line), and how many times the
  // client connected again after a failure. Empty and 0 for a local model.
  virtual std::string serverMetadata() const { return {}; }
  virtual std::uint64_t reconnects() const { return 0; }
  // What the operator should know about how the policy is run (statistics it had to correct, say).
  virtual std::vector<std::string> notes() const { return {}; }
};

// A policy address as it may be shown or stored: credentials and query values hidden
// (ws://user:pass@host/?token=abc -> ws://***@host/?token=***), a fragment too. Anything without "://"
// (a model file) is returned as it is. Every print, error, file attribute and label goes through this.
std::string redactAddress(const std::string& address);

// Empty when the chunk can drive `joints` joints; otherwise why not (wrong shape, NaN or infinity).
std::string chunkProblem(const ActionChunk& chunk, std::size_t joints);

// Plays back the actions of a recorded episode, chunk by chunk: the simplest policy there is, and a check
// that a recording reproduces its motion on the rig.
class ReplayPolicy final : public Policy {
 public:
  // actions: [T, J] row-major, as an episode's /action holds them.
  ReplayPolicy(std::vector<double> actions, std::size_t joints, int horizon);
  std::string describe() const override;
  PolicyOutput infer(const Observation& observation, const std::string& prompt) override;
  std::size_t length() const { return actions_.size() / joints_; }

 private:
  std::vector<double> actions_;
  std::size_t joints_;
  int horizon_;
  std::size_t cursor_ = 0;
};

}  // namespace flywheel
