// `flywheel train`: reads episodes through the training set, says which it skipped and why, trains the
// chunked policy (training/trainer) and prints a line per epoch, with a progress bar on a terminal. Ctrl-C
// ends the current epoch early; the best model so far stays in --out.
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <iostream>
#include <sstream>

#include "app/cli/command_support.hpp"
#include "app/cli/commands.hpp"
#include "training/trainer.hpp"
#include "training/training_set.hpp"

namespace flywheel::app {

namespace {

// "60x80" → {60, 80}; false when it is not two positive numbers.
bool parseImageSize(const std::string& text, int& height, int& width) {
  std::istringstream in(text);
  char x = 0;
  std::string rest;
  return bool(in >> height >> x >> width) && x == 'x' && !(in >> rest) && height > 0 && width > 0;
}

std::vector<std::string> splitCommas(const std::string& text) {
  std::vector<std::string> parts;
  std::stringstream in(text);
  for (std::string part; std::getline(in, part, ',');)
    if (!part.empty()) parts.push_back(part);
  return parts;
}

std::string duration(double seconds) {
  const long s = std::lround(seconds);
  char text[32];
  if (s >= 3600)
    std::snprintf(text, sizeof text, "%ldh%02ldm", s / 3600, s / 60 % 60);
  else if (s >= 60)
    std::snprintf(text, sizeof text, "%ldm%02lds", s / 60, s % 60);
  else
    std::snprintf(text, sizeof text, "%lds", s);
  return text;
}

std::string joined(const std::vector<std::string>& items) {
  std::string text;
  for (const std::string& item : items)
    text += (text.empty() ? "" : ",") + item;
  return text;
}

void describe(const TrainingSet& set) {
  for (const SkippedEpisode& s : set.skipped())
    std::cout << "skipped " << s.path << ": " << s.reason << "\n";
  std::size_t policyRuns = 0;
  for (const EpisodeUse& use : set.usage())
    policyRuns += use.policyRun ? 1 : 0;
  const TrainingSetOptions& o = set.options();
  std::cout << set.episodes().size() << " episodes (" << policyRuns
            << " policy runs: their interventions only), " << set.heldOutEpisodes().size() << " held out; "
            << set.trainSamples().size() << " training and " << set.heldOutSamples().size()
            << " held-out samples\n"
            << "cameras " << joined(set.cameras()) << " at " << o.imageHeight << "x" << o.imageWidth << ", "
            << set.joints() << " joints, horizon " << o.horizon << "\n";
}

// A progress line on a terminal: redrawn in place, at most ~10 times a second.
class ProgressBar {
 public:
  ProgressBar() : enabled_(isatty(STDOUT_FILENO) != 0) {}
  void draw(const TrainProgress& p) {
    if (!enabled_) return;
    const auto now = std::chrono::steady_clock::now();
    if (now - last_ < std::chrono::milliseconds(100)) return;
    last_ = now;
    const int width = 30, filled = static_cast<int>(p.epochFraction * width);
    std::cout << "\r  epoch " << p.epoch << " [" << std::string(std::size_t(filled), '#')
              << std::string(std::size_t(width - filled), '.') << "] " << std::lround(p.epochFraction * 100)
              << "%" << std::flush;
    drawn_ = true;
  }
  void clear() {
    if (drawn_) std::cout << "\r" << std::string(50, ' ') << "\r";
    drawn_ = false;
  }

 private:
  bool enabled_;
  bool drawn_ = false;
  std::chrono::steady_clock::time_point last_{};
};

void printEpoch(const TrainProgress& p) {
  char line[200];
  const std::string of = p.epochs ? "/" + std::to_string(p.epochs) : "";
  char heldOut[32] = "-";  // no held-out episodes
  if (std::isfinite(p.heldOutLoss)) std::snprintf(heldOut, sizeof heldOut, "%.4f", p.heldOutLoss);
  std::snprintf(line, sizeof line, "epoch %d%s  train %.4f  held-out %s  %.0f samples/s  %s left%s", p.epoch,
                of.c_str(), p.trainLoss, heldOut, p.samplesPerSecond, duration(p.secondsLeft).c_str(),
                p.improved ? "  (saved)" : "");
  std::cout << line << std::endl;
}

}  // namespace

int runTrain(const TrainCommandOptions& options) {
  TrainingSetOptions data;
  data.sources = options.data;
  data.cameras = splitCommas(options.cameras);
  data.horizon = options.horizon;
  data.seed = options.seed;
  data.heldOutShare = options.heldOut;
  data.cacheBytes = std::size_t(options.cacheMegabytes) << 20;
  if (!parseImageSize(options.imageSize, data.imageHeight, data.imageWidth)) {
    std::cerr << "flywheel train: --image-size " << options.imageSize << ": expected HxW, e.g. 60x80\n";
    return 2;
  }
  TrainOptions train;
  train.out = options.out;
  train.epochs = options.epochs;
  train.minutes = options.minutes;
  train.batchSize = options.batchSize;
  train.learningRate = options.learningRate;
  train.stateNoise = options.stateNoise;
  train.seed = options.seed;
  train.threads = options.threads;
  train.promptConditioned = options.promptConditioned;
  catchInterrupts();
  try {
    const TrainingSet set(data);
    describe(set);
    ProgressBar bar;
    int bestEpoch = 0;
    const TrainResult result = trainPolicy(
        set, train,
        [&](const TrainProgress& p) {
          if (!p.epochDone) return bar.draw(p);
          bar.clear();
          printEpoch(p);
          if (p.improved) bestEpoch = p.epoch;
        },
        interruptRequested());
    if (result.cancelled) std::cout << "stopped: the best model so far is kept\n";
    std::cout << "model: " << result.modelPath << " (epoch " << bestEpoch << " of " << result.epochs;
    if (std::isfinite(result.bestHeldOutLoss))
      std::cout << ", held-out loss " << result.bestHeldOutLoss;
    else
      std::cout << ", no held-out episodes: the last epoch";
    std::cout << "; " << std::lround(result.samplesPerSecond) << " samples/s; decoded-frame cache "
              << (set.cacheBytesUsed() >> 20) << " MB)\n";
    if (!result.vocabulary.empty())
      std::cout << "prompt-conditioned: vocabulary " << joined(result.vocabulary) << "\n";
  } catch (const TrainingError& e) {
    std::cerr << "flywheel train: " << e.what() << "\n";
    return 1;
  }
  return interruptExitCode(0);
}

}  // namespace flywheel::app
