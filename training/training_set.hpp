// Episodes as training samples, without LibTorch: which episodes are usable (damaged and incomplete ones
// are skipped with the reason), which cameras, a held-out split by episode, normalisation statistics from
// the data, and batches decoded on demand. Frames are prepared exactly as the policy runtime prepares
// them (policy/image_prep: letterboxed to the model's size), so a model sees the same pixels in training
// and on the robot. Memory does not grow with the dataset: frames are read from the files when a batch
// needs them, through a bounded cache of decoded frames at the training resolution (filled until
// cacheBytes, then kept: with batches drawn in a fresh random order each epoch, a full cache that keeps
// what it holds hits cacheBytes / dataset of the time, where an LRU one would mostly miss). At most a few
// episode files are open at once.
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
  // Dataset folders (every episode_<N>.hdf5 in them, by number) or episode files; a source that does not
  // exist is an error, the same file named twice is used once.
  std::vector<std::string> sources;
  // Empty: the cameras of the first usable episode, in the file's (alphabetical) order.
  std::vector<std::string> cameras;
  int imageHeight = 60;  // 8..1024 each
  int imageWidth = 80;
  // Actions per target chunk (>= 1); past an episode's end (or its trim's end) its last action repeats.
  int horizon = 20;
  // Of the episodes with samples, rounded, at least one when there are two or more (and never all of
  // them); 0 holds none out.
  double heldOutShare = 0.1;
  unsigned seed = 1;                              // the held-out split
  std::size_t cacheBytes = std::size_t(1) << 30;  // decoded frames kept at the training resolution
  int decodeThreads = 0;  // per batch() call, for frames not in the cache yet; 0: every core
};

struct SkippedEpisode {
  std::string path;
  // "damaged: ...", "incomplete: ...", "being recorded", "busy: ...", "empty: no ticks",
  // "no camera 'top' (it has front)", "14 joints, not 7"
  std::string reason;
};

// What each used episode gives: a policy run with no intervention is used but gives no samples.
struct EpisodeUse {
  std::string path;
  std::size_t ticks = 0;
  std::size_t samples = 0;
  bool policyRun = false;  // recorded by `run` (/policy_action): only its /intervention ticks are samples
  bool heldOut = false;
  std::size_t keptFirst = 0, keptEnd = 0;  // [first, end) of the ticks its trim marks keep (all untrimmed)
  std::string task;  // the episode's task: a prompt-conditioned model's prompt for its samples
};

struct NormalisationStats {
  JointVector stateMean, stateStd, actionMean, actionStd;  // std floored at 0.01, as the runtime floors it
};

// One training example: tick `tick` of used episode `episode`.
struct SampleRef {
  std::uint32_t episode = 0;
  std::uint32_t tick = 0;
};

// Everything row-major, sample by sample in the order asked.
struct TrainingBatch {
  std::size_t size = 0;
  int joints = 0, horizon = 0, cameras = 0, height = 0, width = 0;
  std::vector<float> state;             // [B, J], normalised
  std::vector<std::uint8_t> images;     // [B, C, 3, H, W], RGB bytes as the runtime letterboxes them
  std::vector<float> actions;           // [B, horizon, J], normalised targets
  std::vector<std::uint32_t> episodes;  // [B], each sample's episode (an index of usage(): its task)
};

class TrainingSet {
 public:
  // Throws TrainingError when nothing is usable (the message lists why each file was skipped), no used
  // episode has a sample, a named camera is in no episode, a source does not exist, or an option is out
  // of range.
  explicit TrainingSet(const TrainingSetOptions& options);

  const TrainingSetOptions& options() const;
  const std::vector<std::string>& episodes() const;  // used, in a stable order (sources, then number)
  const std::vector<EpisodeUse>& usage() const;      // parallel to episodes()
  const std::vector<SkippedEpisode>& skipped() const;
  const std::vector<std::string>& cameras() const;
  std::size_t joints() const;
  const NormalisationStats& stats() const;
  // Only ticks inside the episode's trim marks. Demonstrations give every such tick; policy runs only the
  // ticks a human controlled (/intervention true: their /action is the correction), less those in
  // segments marked "recovery" (recorder/labels.hpp: SpanKind).
  const std::vector<SampleRef>& trainSamples() const;
  const std::vector<SampleRef>& heldOutSamples() const;
  std::vector<std::string> heldOutEpisodes() const;
  // Thread-safe: several loader threads may build batches at once. Throws TrainingError (naming the file)
  // when a frame cannot be read, or a SampleRef is out of range.
  TrainingBatch batch(const std::vector<SampleRef>& samples) const;
  std::size_t cacheBytesUsed() const;

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

}  // namespace flywheel
