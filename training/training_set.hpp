// Episodes as training samples, without LibTorch: which episodes are usable (damaged and incomplete ones
// are skipped with the reason), which cameras, a held-out split by episode, normalisation statistics from
// the data, and batches decoded on demand. Frames are prepared exactly as the policy runtime prepares
// them (policy/image_prep: letterboxed to the model's size), so a model sees the same pixels in training
// and on the robot. Memory does not grow with the dataset: frames are read from the files when a batch
// needs them, through a bounded cache of decoded frames at the training resolution.
#pragma once

#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "core/types.hpp"

namespace flywheel {

struct TrainingError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

struct TrainingSetOptions {
  std::vector<std::string> sources;  // dataset folders (every episode_*.hdf5 in them) or episode files
  std::vector<std::string> cameras;  // empty: the cameras of the first usable episode, in its order
  int imageHeight = 60;
  int imageWidth = 80;
  int horizon = 20;             // actions per target chunk; past an episode's end its last action repeats
  double heldOutShare = 0.1;    // of the episodes, at least one when there are two or more
  unsigned seed = 1;            // the held-out split
  std::size_t cacheBytes = std::size_t(1) << 30;  // decoded frames kept at the training resolution
};

struct SkippedEpisode {
  std::string path;
  std::string reason;  // "damaged: ...", "incomplete: ...", "no camera 'top'", "14 joints, not 7", ...
};

struct NormalisationStats {
  JointVector stateMean, stateStd, actionMean, actionStd;  // std floored at 0.01, as the runtime floors it
};

// One training example: tick `tick` of used episode `episode`.
struct SampleRef {
  std::uint32_t episode = 0;
  std::uint32_t tick = 0;
};

struct TrainingBatch {
  std::size_t size = 0;
  int joints = 0, horizon = 0, cameras = 0, height = 0, width = 0;
  std::vector<float> state;           // [B, J], normalised
  std::vector<std::uint8_t> images;   // [B, C, 3, H, W], RGB bytes as the runtime letterboxes them
  std::vector<float> actions;         // [B, horizon, J], normalised targets
};

class TrainingSet {
 public:
  // Throws TrainingError when nothing is usable or a named camera is in no episode.
  explicit TrainingSet(const TrainingSetOptions& options);

  const std::vector<std::string>& episodes() const;       // used, in a stable order
  const std::vector<SkippedEpisode>& skipped() const;
  const std::vector<std::string>& cameras() const;
  std::size_t joints() const;
  const NormalisationStats& stats() const;
  // Demonstrations give every tick; policy runs only the ticks a human controlled (/intervention true:
  // their /action is the correction).
  const std::vector<SampleRef>& trainSamples() const;
  const std::vector<SampleRef>& heldOutSamples() const;
  std::vector<std::string> heldOutEpisodes() const;
  // Thread-safe: several loader threads may build batches at once.
  TrainingBatch batch(const std::vector<SampleRef>& samples) const;
  std::size_t cacheBytesUsed() const;

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

}  // namespace flywheel
