// `flywheel run`: a policy drives the rig while the operator watches, takes over and hands back; with
// --record the run is saved as an episode, interventions and the policy's proposals included.
#include <atomic>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <iostream>
#include <thread>

#include "app/cli/command_support.hpp"
#include "app/cli/commands.hpp"
#include "app/cli/policy_options.hpp"
#include "app/cli/terminal_keys.hpp"
#include "app/policy_session.hpp"
#include "recorder/dataset_index.hpp"

namespace flywheel::app {

namespace {

double ms(double seconds) {
  return seconds * 1000.0;
}

// A number of seconds from an option's value; throws std::invalid_argument naming the option.
double secondsIn(const std::string& text, const char* option, const std::string& value) {
  try {
    std::size_t used = 0;
    const double seconds = std::stod(text, &used);
    if (used == text.size() && std::isfinite(seconds) && seconds >= 0) return seconds;
  } catch (const std::exception&) {
  }
  throw std::invalid_argument(std::string(option) + " takes SECONDS:VALUE with SECONDS a number, got '" +
                              value + "'");
}

// "12.5:text" → (12.5, "text"); throws std::invalid_argument naming the option.
std::pair<double, std::string> timedText(const std::string& value, const char* option) {
  const auto colon = value.find(':');
  if (colon == std::string::npos)
    throw std::invalid_argument(std::string(option) + " takes SECONDS:VALUE, got '" + value + "'");
  return {secondsIn(value.substr(0, colon), option, value), value.substr(colon + 1)};
}

std::string serverLine(const PolicySession& session) {
  const std::string metadata = session.serverMetadata();
  return metadata.empty() ? "(no metadata)" : metadata;
}

const char* outcomeName(std::optional<bool> success) {
  return success ? (*success ? "success" : "failure") : "unknown";
}

void printStatus(double elapsed, const PolicySession& session) {
  ExecutorStatus e = session.executorStatus();
  TakeoverStatus t = session.takeoverStatus();
  std::printf(
      "  %6.1f s  %-12s %-8s latency %5.1f ms (pre %.1f, forward %.1f, post %.1f, network %.1f)  answers "
      "%llu",
      elapsed, nameOf(t.control), nameOf(e.health), ms(e.lastLatency), ms(e.lastTiming.preprocess),
      ms(e.lastTiming.forward), ms(e.lastTiming.postprocess), ms(e.lastTiming.network),
      static_cast<unsigned long long>(e.inferences));
  if (session.describe().find("://") != std::string::npos)
    std::printf("  reconnects %llu", static_cast<unsigned long long>(session.reconnects()));
  if (session.hasFallback()) std::printf("  driving %s", nameOf(session.driving()));
  if (e.health != PolicyHealth::Running && !e.reason.empty()) std::printf("  [%s]", e.reason.c_str());
  std::printf("\n");
  std::fflush(stdout);
}

// --fallback: how often it drove, and each switch with its time into the run and its reason.
void printSwitches(const PolicySession& session) {
  if (!session.hasFallback()) return;
  const std::vector<SourceSwitch> switches = session.switches();
  const ExecutorStatus f = session.fallbackStatus();
  std::printf("  fallback %s: %zu switch(es), %llu answers (%llu refused, %llu failed)\n",
              session.describeFallback().c_str(), switches.size(),
              static_cast<unsigned long long>(f.inferences), static_cast<unsigned long long>(f.refused),
              static_cast<unsigned long long>(f.failures));
  for (const SourceSwitch& change : switches)
    std::printf("    %7.2f s  to %-8s  %s\n", change.time - session.startedAt(), nameOf(change.to),
                change.reason.c_str());
}

void printSummary(const PolicySession& session, Studio& studio) {
  ExecutorStatus e = session.executorStatus();
  auto [p50, p95, worst] = session.latencyPercentiles();
  TakeoverStatus t = session.takeoverStatus();
  std::printf(
      "Policy %s: %llu answers (%llu refused, %llu failed); observation to chunk p50 %.1f ms, p95 %.1f ms, "
      "max %.1f ms (wall time)\n",
      session.describe().c_str(), static_cast<unsigned long long>(e.inferences),
      static_cast<unsigned long long>(e.refused), static_cast<unsigned long long>(e.failures), ms(p50),
      ms(p95), ms(worst));
  std::printf("  last answer: preprocess %.2f ms, forward %.2f ms, postprocess %.2f ms, network %.2f ms\n",
              ms(e.lastTiming.preprocess), ms(e.lastTiming.forward), ms(e.lastTiming.postprocess),
              ms(e.lastTiming.network));
  if (session.describe().find("://") != std::string::npos)
    std::printf("  server: %s; %llu reconnect(s)\n", serverLine(session).c_str(),
                static_cast<unsigned long long>(session.reconnects()));
  std::printf("  held the robot for %llu ticks; %llu takeover(s)%s%s\n",
              static_cast<unsigned long long>(session.heldTicks()),
              static_cast<unsigned long long>(t.takeovers), t.takeovers ? ", last by " : "",
              t.takeovers ? t.lastCause.c_str() : "");
  printSwitches(session);
  auto stats = studio.loop().stats();
  std::printf("  control loop: %ld Hz achieved of %ld Hz, jitter p99 %ld us, %llu overruns\n",
              std::lround(stats.achievedRateHz), std::lround(studio.config().controlRateHz),
              std::lround(stats.jitterP99 * 1e6), static_cast<unsigned long long>(stats.overruns));
  printBusCounters(studio);
}

}  // namespace

int runPolicy(const RunOptions& options) {
  LabelText labelText{{"--task", options.task}};
  for (const std::string& prompt : options.promptAt)
    labelText.emplace_back("--prompt-at", prompt);
  if (!labelTextIsUtf8(labelText)) return 2;
  RigConfig config = loadRigConfig(options.rig);
  if (!fastAllowed(config, options.fast) || !supervisorAllowed(config, options.supervisor)) return 2;
  std::vector<std::pair<double, std::string>> prompts;
  std::vector<std::pair<double, double>> takeovers;  // (take over, hand back) seconds into the run
  try {
    for (const std::string& p : options.promptAt)
      prompts.push_back(timedText(p, "--prompt-at"));
    for (const std::string& t : options.takeoverAt) {
      auto [from, to] = timedText(t, "--takeover-at");
      takeovers.emplace_back(from, secondsIn(to, "--takeover-at", t));
    }
  } catch (const std::invalid_argument& e) {
    std::cerr << "flywheel: " << e.what() << "\n";
    return 2;
  }

  Studio studio(std::move(config), options.fast);
  const PolicyRunOptions run = policyRunOptionsOf(options);
  std::unique_ptr<PolicySession> session;
  try {
    session = std::make_unique<PolicySession>(studio, run);
  } catch (const PolicyError& e) {
    std::cerr << "flywheel: " << e.what() << "\n";
    return 2;
  }
  catchInterrupts();
  const RigConfig& rig = studio.config();
  std::printf("Running %s on rig '%s' for %.1f s, %s chunks, prompt \"%s\"\n", session->describe().c_str(),
              rig.name.c_str(), options.seconds, options.mode.c_str(), options.task.c_str());
  if (session->describe().find("://") != std::string::npos)
    std::printf("  server: %s\n", serverLine(*session).c_str());
  if (session->hasFallback())
    std::printf("  fallback %s drives while the main policy does not answer within %.1f s\n",
                session->describeFallback().c_str(), options.watchdogSeconds);
  for (const std::string& note : session->notes())
    std::printf("  note: %s\n", note.c_str());
  for (const std::string& warning : studio.rig().warnings())
    std::printf("  warning: %s\n", warning.c_str());

  // Simulated time is stepped here, tick by tick, so that scripted takeovers and prompts land on the
  // same tick every run, however busy the machine.
  const bool stepping = options.fast;
  studio.start(nullptr, !stepping);
  std::optional<DatasetFolder> dataset;
  if (!options.record.empty()) {
    dataset.emplace(options.record);
    session->beginRecording(*dataset, options.seconds, options.seed.value_or(rig.sim.seed),
                            options.jpeg ? ImageStorage::Jpeg : ImageStorage::Raw);
  }
  session->start();
  const double start = session->startedAt();
  TerminalKeys keys;
  if (keys.active()) std::printf("  keys: t = take over / hand back, p = pause / resume, q = stop\n");

  bool humanHasIt = false, paused = false;
  double lastPrint = -1.0;
  std::size_t nextPrompt = 0, nextTakeover = 0;
  for (;;) {
    const double elapsed = studio.clock().now() - start;
    const bool done = dataset ? studio.recorder().reachedLength() : elapsed >= options.seconds;
    const bool loopStopped = stepping ? !studio.loop().status().error.empty() : !studio.loop().running();
    if (done || interruptRequested() || loopStopped) break;
    const char key = keys.poll();
    if (key == 'q') break;
    if (key == 'p') session->setPaused(paused = !paused);
    const bool scriptedToggle =
        nextTakeover < takeovers.size() &&
        elapsed >= (humanHasIt ? takeovers[nextTakeover].second : takeovers[nextTakeover].first);
    if (key == 't' || scriptedToggle) {
      humanHasIt ? session->handBack() : session->takeOver();
      if (scriptedToggle && humanHasIt) ++nextTakeover;
      humanHasIt = !humanHasIt;
    }
    if (nextPrompt < prompts.size() && elapsed >= prompts[nextPrompt].first)
      session->setPrompt(prompts[nextPrompt++].second);
    const double wall =
        std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
    if (wall - lastPrint >= 1.0) {
      printStatus(elapsed, *session);
      lastPrint = wall;
    }
    if (stepping)
      studio.loop().runTicks(1);
    else
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  int status = 0;
  if (dataset) {
    try {
      EpisodeResult result = session->endRecording();
      // The outcome printed is the one stored in the file.
      std::printf("Saved %s: %llu ticks, %.2f s, %llu dropped%s%s\n", result.path.c_str(),
                  static_cast<unsigned long long>(result.stats.written), result.seconds,
                  static_cast<unsigned long long>(result.stats.dropped), result.success ? ", " : "",
                  result.success ? outcomeName(result.success) : "");
      if (!result.complete) {  // as record says it: kept, but not a whole run
        std::cerr << "flywheel: the run was cut short: " << result.stopReason
                  << "\n  saved as incomplete, with what was recorded up to then.\n";
        status = 1;
      }
    } catch (const RecorderError& e) {
      std::cerr << "flywheel: recording stopped: " << e.what()
                << "\n  what was written up to then is kept.\n";
      status = 1;
    }
  } else if (std::optional<bool> success = studio.sceneSuccess())
    std::printf("Outcome: %s\n", outcomeName(success));
  printSummary(*session, studio);
  session.reset();
  studio.stop();
  if (std::string error = studio.loop().status().error; !error.empty()) {
    std::cerr << "flywheel: the control loop stopped: " << error << "\n";
    return 1;
  }
  return status != 0 ? status : interruptExitCode(0);
}

}  // namespace flywheel::app
