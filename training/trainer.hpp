// Trains a chunked visuomotor policy (ACT-style, sized for a CPU) on a TrainingSet and saves it as a
// TorchScript file that follows the flywheel.json contract (README "Policies"): `flywheel run`, the Run
// view and python3-torch's torch.jit.load all read it. LibTorch stays in trainer.cpp.
#pragma once

#include <atomic>
#include <functional>
#include <string>

#include "training/training_set.hpp"

namespace flywheel {

struct TrainOptions {
  std::string out;  // MODEL.pt; the best model so far (lowest held-out loss) is kept there
  int epochs = 0;   // one of epochs / minutes; neither: 10 epochs
  double minutes = 0.0;
  int batchSize = 64;
  double learningRate = 1e-3;
  // Gaussian noise (std, in normalised units) added to the state of each training sample. Without it the
  // model reads where the arm is heading from the state alone and learns to ignore the cameras (measured:
  // a model trained without noise barely changed its actions when shown black frames, and failed 50/50).
  double stateNoise = 0.3;
  // A prompt-conditioned model (takes_prompt, a vocabulary of the training episodes' task words): always
  // when the training episodes have more than one task, or when this is set.
  bool promptConditioned = false;
  unsigned seed = 1;  // initial weights, batch order, augmentation
  int threads = 0;    // 0: every core
};

struct TrainProgress {
  int epoch = 0;             // 1-based
  int epochs = 0;            // planned; 0 when training by minutes
  double epochFraction = 0;  // 0..1 within this epoch (for a progress bar)
  bool epochDone = false;    // the fields below are set when an epoch ends
  double trainLoss = 0, heldOutLoss = 0;
  double samplesPerSecond = 0;
  double secondsLeft = 0;
  bool improved = false;  // this epoch's model was saved as the best so far
};

struct TrainResult {
  std::string modelPath;
  int epochs = 0;
  double bestHeldOutLoss = 0;
  double samplesPerSecond = 0;
  bool cancelled = false;               // stopped by `cancel`; the best model so far is saved
  std::vector<std::string> vocabulary;  // prompt-conditioned models: flywheel.json's prompt_vocabulary
};

// Calls `progress` on the calling thread, often (for a bar) and at the end of each epoch.
// Throws TrainingError (bad options, an unwritable output).
TrainResult trainPolicy(const TrainingSet& data, const TrainOptions& options,
                        const std::function<void(const TrainProgress&)>& progress,
                        const std::atomic<bool>& cancel);

}  // namespace flywheel
