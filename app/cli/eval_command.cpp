// `flywheel eval`: a policy runs N episodes on seeds S, S+1, ... through the same PolicySession as `run`;
// each row says how the episode went, the last line the success rate with its 95% Wilson interval. On a
// simulated rig the simulator judges (the cube at rest in the bin); on a real rig the operator, s or f.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <iterator>
#include <thread>

#include "app/cli/command_support.hpp"
#include "app/cli/commands.hpp"
#include "app/cli/policy_options.hpp"
#include "app/cli/terminal_keys.hpp"
#include "app/policy_session.hpp"
#include "core/wilson_interval.hpp"
#include "devices/sim/sim_world.hpp"
#include "recorder/dataset_index.hpp"
#include "recorder/episode_reader.hpp"

namespace flywheel::app {

namespace {

struct EpisodeRow {
  unsigned seed = 0;
  std::optional<bool> success;           // none: nobody could judge, or the episode was stopped
  std::optional<double> secondsToFirst;  // simulated rigs: when the cube first rested in the bin
  std::uint64_t takeovers = 0;
  std::vector<SourceSwitch> switches;        // --fallback: times relative to the episode's start
  std::vector<sim::Correction> corrections;  // --supervisor: times relative to the episode's start
  bool stopped = false;                      // q or Ctrl-C: not counted
  std::string saved;                         // --record: the episode file
  std::string prompt;                        // what the policy was asked
};

// Everything one eval needs between episodes.
struct Evaluation {
  const EvalOptions& options;
  Studio& studio;
  PolicyRunOptions run;
  std::optional<DatasetFolder> dataset;
  TerminalKeys& keys;
  bool stepping = false;  // --fast: simulated time, stepped here tick by tick
  bool quit = false;      // q pressed: no further episodes
  bool recordingFailed = false;
};

bool loopStopped(const Evaluation& e) {
  return e.stepping ? !e.studio.loop().status().error.empty() : !e.studio.loop().running();
}

// Drives one episode until its length, a success (when not recording), q, Ctrl-C or a loop error.
void drive(Evaluation& e, PolicySession& session, EpisodeRow& row) {
  const bool simulated = e.studio.rig().simWorld() != nullptr;
  const double start = session.startedAt();
  bool humanHasIt = false;
  for (;;) {
    const double elapsed = e.studio.clock().now() - start;
    if (simulated && !row.secondsToFirst && e.studio.sceneSuccess().value_or(false))
      row.secondsToFirst = elapsed;
    if (row.secondsToFirst && !e.dataset) return;  // nothing more to learn from this seed
    const bool done = e.dataset ? e.studio.recorder().reachedLength() : elapsed >= e.options.seconds;
    if (done || loopStopped(e)) return;
    const char key = e.keys.poll();
    if (key == 'q' || interruptRequested()) {
      row.stopped = e.quit = true;
      return;
    }
    if (key == 't') {
      humanHasIt ? session.handBack() : session.takeOver();
      humanHasIt = !humanHasIt;
    }
    if (e.stepping)
      e.studio.loop().runTicks(1);
    else
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
}

// Real rigs: the operator says how it went. Without a terminal nobody can: unknown.
std::optional<bool> askOperator(Evaluation& e) {
  if (!e.keys.active()) return std::nullopt;
  std::printf("    how did it go? s = success, f = failure, q = stop\n");
  std::fflush(stdout);
  while (!interruptRequested()) {
    const char key = e.keys.poll();
    if (key == 's' || key == 'f') return key == 's';
    if (key == 'q') break;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  e.quit = true;
  return std::nullopt;
}

// Real rigs: the next episode starts once the operator has put the scene back.
void waitForReset(Evaluation& e) {
  if (!e.keys.active()) return;
  std::printf("    reset the scene, then Enter starts the next episode (q = stop)\n");
  std::fflush(stdout);
  while (!interruptRequested()) {
    const char key = e.keys.poll();
    if (key == '\n' || key == '\r' || key == ' ') return;
    if (key == 'q') break;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  e.quit = true;
}

// Saves the recorded episode; on a real rig the operator's verdict becomes its success label.
void saveRecording(Evaluation& e, PolicySession& session, EpisodeRow& row, bool simulated) {
  try {
    EpisodeResult result = session.endRecording();
    row.saved = result.path;
    if (simulated) row.success = result.success;  // the outcome stored in the file: its last tick
    if (!result.complete) {
      std::cerr << "flywheel: episode " << result.path << " was cut short: " << result.stopReason << "\n";
      e.recordingFailed = true;
    }
  } catch (const RecorderError& error) {
    std::cerr << "flywheel: recording stopped: " << error.what() << "\n";
    e.recordingFailed = true;
  }
}

void labelOutcome(const EpisodeRow& row) {
  if (row.saved.empty() || !row.success) return;
  EpisodeLabels labels = readLabels(row.saved);
  labels.success = row.success;
  writeLabels(row.saved, labels);
  DatasetIndex(std::filesystem::path(row.saved).parent_path().string()).update(row.saved);
}

EpisodeRow runEpisode(Evaluation& e, std::unique_ptr<PolicySession> session, unsigned seed) {
  EpisodeRow row;
  row.seed = seed;
  row.prompt = e.run.prompt;
  if (e.dataset)
    session->beginRecording(*e.dataset, e.options.seconds, seed,
                            e.options.jpeg ? ImageStorage::Jpeg : ImageStorage::Raw);
  else
    e.studio.newScene(seed);
  session->start();
  drive(e, *session, row);
  row.takeovers = session->takeoverStatus().takeovers;
  row.switches = session->switches();
  for (SourceSwitch& change : row.switches)
    change.time -= session->startedAt();
  row.corrections = session->corrections();
  for (sim::Correction& correction : row.corrections) {
    correction.start -= session->startedAt();
    if (correction.end >= 0) correction.end -= session->startedAt();
  }
  const bool simulated = e.studio.rig().simWorld() != nullptr;
  if (simulated) row.success = row.secondsToFirst.has_value();
  if (e.dataset) saveRecording(e, *session, row, simulated);
  session.reset();  // the followers hold while the operator judges and resets the scene
  if (row.stopped) row.success.reset();
  if (!simulated && !row.stopped) {
    row.success = askOperator(e);
    labelOutcome(row);
  }
  return row;
}

const char* outcomeWord(const EpisodeRow& row) {
  if (row.stopped) return "stopped";
  return row.success ? (*row.success ? "success" : "failure") : "unknown";
}

void printRow(const EpisodeRow& row) {
  char toSuccess[32] = "-";
  if (row.success.value_or(false) && row.secondsToFirst)
    std::snprintf(toSuccess, sizeof toSuccess, "%.1f s", *row.secondsToFirst);
  std::printf("  %10u  %-8s  %10s  %9llu%s%s\n", row.seed, outcomeWord(row), toSuccess,
              static_cast<unsigned long long>(row.takeovers), row.saved.empty() ? "" : "  ",
              row.saved.c_str());
  for (const SourceSwitch& change : row.switches)
    std::printf("              %6.2f s  to %-8s  %s\n", change.time, nameOf(change.to),
                change.reason.c_str());
  for (const sim::Correction& c : row.corrections)
    std::printf("              %6.2f s  correction: %s\n", c.start, c.reason.c_str());
  std::fflush(stdout);
}

// Episode `index`'s prompt: --prompts in turn; else --task, unless it names no bin of a rig with several:
// then the instruction drawn from the episode's seed, as `record` draws it.
std::string promptOf(const EvalOptions& options, const SimConfig& sim, unsigned seed, int index) {
  if (!options.prompts.empty()) return options.prompts[std::size_t(index) % options.prompts.size()];
  if (sim::instructedBin(sim, options.task) < 0) return sim::defaultInstruction(sim, seed);
  return options.task;
}

// The success line: successes of the judged episodes, with the 95% Wilson interval.
void printRateOf(const std::vector<EpisodeRow>& rows) {
  int successes = 0, judged = 0;
  for (const EpisodeRow& row : rows)
    if (row.success) {
      ++judged;
      successes += *row.success ? 1 : 0;
    }
  const RateInterval ci = wilsonInterval(successes, judged);
  const double rate = judged ? 100.0 * successes / judged : 0.0;
  const std::size_t uncounted = rows.size() - static_cast<std::size_t>(judged);
  std::printf("success %d/%d (%.1f%%, 95%% CI %.1f-%.1f%%)", successes, judged, rate, 100.0 * ci.low,
              100.0 * ci.high);
  if (uncounted) std::printf("; %zu episode(s) not judged, not counted", uncounted);
  std::printf("\n");
}

// With more than one prompt, the rate of each, in the order they first came.
void printRatePerPrompt(const std::vector<EpisodeRow>& rows) {
  std::vector<std::string> prompts;
  for (const EpisodeRow& row : rows)
    if (std::find(prompts.begin(), prompts.end(), row.prompt) == prompts.end()) prompts.push_back(row.prompt);
  if (prompts.size() < 2) return;
  for (const std::string& prompt : prompts) {
    std::vector<EpisodeRow> mine;
    std::copy_if(rows.begin(), rows.end(), std::back_inserter(mine),
                 [&](const EpisodeRow& row) { return row.prompt == prompt; });
    std::printf("  \"%s\": ", printable(prompt).c_str());
    printRateOf(mine);
  }
}

void printRate(const std::vector<EpisodeRow>& rows) {
  printRateOf(rows);
  printRatePerPrompt(rows);
  std::size_t switches = 0, withFallback = 0;
  for (const EpisodeRow& row : rows) {
    switches += row.switches.size();
    withFallback += row.switches.empty() ? 0 : 1;
  }
  if (withFallback) std::printf("fallback: %zu switch(es) in %zu episode(s)\n", switches, withFallback);
  std::uint64_t takeovers = 0;
  std::size_t takenOver = 0;
  for (const EpisodeRow& row : rows) {
    takeovers += row.takeovers;
    takenOver += row.takeovers ? 1 : 0;
  }
  if (takeovers)
    std::printf("takeovers: %llu in %zu episode(s)\n", static_cast<unsigned long long>(takeovers), takenOver);
}

void printHeader(const Evaluation& e, const PolicySession& first, unsigned seed) {
  const EvalOptions& o = e.options;
  const unsigned last = seed + static_cast<unsigned>(o.episodes) - 1;
  const std::string seeds = last == seed ? "seed " + std::to_string(seed)
                                         : "seeds " + std::to_string(seed) + "-" + std::to_string(last);
  std::printf("Evaluating %s on rig '%s': %d episode(s), %s, at most %.1f s each, %s chunks\n",
              first.describe().c_str(), e.studio.config().name.c_str(), o.episodes, seeds.c_str(), o.seconds,
              o.mode.c_str());
  for (const std::string& note : first.notes())
    std::printf("  note: %s\n", note.c_str());
  if (first.hasFallback())
    std::printf("  fallback %s drives while the main policy does not answer within %.1f s\n",
                first.describeFallback().c_str(), o.watchdogSeconds);
  if (!e.studio.rig().simWorld())
    std::printf(e.keys.active() ? "  after each episode: s = success, f = failure\n"
                                : "  no terminal: nobody can judge the episodes of a real rig; they are "
                                  "reported as unknown\n");
  if (!o.supervisor.empty())
    std::printf(
        "  the scripted operator supervises: it takes over by the leader arm when the robot goes wrong\n");
  if (e.keys.active()) std::printf("  keys: t = take over / hand back, q = stop\n");
  std::printf("  %10s  %-8s  %10s  %9s\n", "seed", "outcome", "to success", "takeovers");
}

}  // namespace

int runEval(const EvalOptions& options) {
  LabelText text{{"--task", options.task}};
  for (const std::string& prompt : options.prompts)
    text.emplace_back("--prompts", prompt);
  if (!labelTextIsUtf8(text)) return 2;
  RigConfig config = loadRigConfig(options.rig);
  if (!fastAllowed(config, options.fast) || !supervisorAllowed(config, options.supervisor)) return 2;
  const unsigned firstSeed = options.seed.value_or(config.sim.seed);
  Studio studio(std::move(config), options.fast);
  TerminalKeys keys;
  Evaluation e{options, studio, policyRunOptionsOf(options), std::nullopt, keys, options.fast};
  e.run.prompt = promptOf(options, studio.config().sim, firstSeed, 0);
  std::unique_ptr<PolicySession> session;
  try {
    session = std::make_unique<PolicySession>(studio, e.run);  // a bad policy is refused before any run
  } catch (const PolicyError& error) {
    std::cerr << "flywheel: " << error.what() << "\n";
    return 2;
  }
  catchInterrupts();
  printHeader(e, *session, firstSeed);
  studio.start(nullptr, !e.stepping);
  if (!options.record.empty()) e.dataset.emplace(options.record);
  std::vector<EpisodeRow> rows;
  for (int i = 0; i < options.episodes && !e.quit && !loopStopped(e); ++i) {
    try {
      e.run.prompt = promptOf(options, studio.config().sim, firstSeed + static_cast<unsigned>(i), i);
      if (!session) session = std::make_unique<PolicySession>(studio, e.run);
    } catch (const PolicyError& error) {  // a server gone between episodes
      std::cerr << "flywheel: " << error.what() << "\n";
      break;
    }
    rows.push_back(runEpisode(e, std::move(session), firstSeed + static_cast<unsigned>(i)));
    printRow(rows.back());
    if (!studio.rig().simWorld() && !e.quit && i + 1 < options.episodes) waitForReset(e);
  }
  printRate(rows);
  studio.stop();
  if (std::string error = studio.loop().status().error; !error.empty()) {
    std::cerr << "flywheel: the control loop stopped: " << error << "\n";
    return 1;
  }
  return interruptExitCode(e.recordingFailed ? 1 : 0);
}

}  // namespace flywheel::app
