// `run` and `eval` name a policy with the same flags (RunOptions and EvalOptions share those fields):
// one conversion to the PolicySession's options serves both.
#pragma once

#include "app/policy_session.hpp"

namespace flywheel::app {

template <class CommandOptions>
PolicyRunOptions policyRunOptionsOf(const CommandOptions& options) {
  PolicyRunOptions run;
  run.policy = options.policy;
  run.prompt = options.task;
  run.mode = *chunkModeFromString(options.mode);  // checked by the command line's validator
  run.executeSteps = options.executeSteps;
  run.watchdogSeconds = options.watchdogSeconds;
  run.apiKey = options.apiKey;
  run.acceptAnyCertificate = options.insecure;
  run.fallback = options.fallback;
  run.wallLatency = options.wallLatency;
  run.supervisor = options.supervisor;
  return run;
}

}  // namespace flywheel::app
