#include "training/training_set.hpp"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <map>
#include <random>
#include <set>
#include <thread>
#include <tuple>

#include "recorder/dataset_folder.hpp"
#include "recorder/episode_reader.hpp"
#include "recorder/labels.hpp"
#include "recorder/recording_mark.hpp"
#include "recorder/trims.hpp"
#include "training/frame_source.hpp"

namespace flywheel {

namespace fs = std::filesystem;

namespace {

constexpr double kMinStd = 0.01;  // as the runtime floors flywheel.json's statistics (and ACT)
constexpr int kMinImageSide = 8, kMaxImageSide = 1024;

// One usable episode as read at construction: its joint data (small) in memory, its frames left on disk.
struct Scanned {
  std::string path;
  std::size_t ticks = 0, joints = 0;
  std::vector<std::string> cameras;
  std::map<std::string, std::vector<double>> captureTimes;  // per camera, when recorded
  std::vector<double> qpos, action;                         // [ticks, joints]
  std::vector<std::uint32_t> sampleTicks;
  std::size_t keptFirst = 0, keptEnd = 0;  // the ticks the trim keeps
  bool policyRun = false;
  std::string task;
};

// Every episode file the sources name, each once, folders' files by episode number.
std::vector<std::string> episodeFiles(const std::vector<std::string>& sources) {
  std::vector<std::string> files;
  std::set<std::string> seen;
  auto add = [&](const fs::path& path) {
    std::error_code error;
    const fs::path canonical = fs::weakly_canonical(path, error);
    if (seen.insert(error ? path.string() : canonical.string()).second) files.push_back(path.string());
  };
  for (const std::string& source : sources) {
    std::error_code error;
    if (fs::is_directory(source, error)) {
      std::vector<std::pair<int, fs::path>> numbered;
      for (const fs::directory_entry& entry : fs::directory_iterator(source, error)) {
        const int number = DatasetFolder::episodeNumber(entry.path().filename().string());
        if (number >= 0) numbered.emplace_back(number, entry.path());
      }
      std::sort(numbered.begin(), numbered.end());
      for (const auto& [number, path] : numbered)
        add(path);
    } else if (fs::exists(source, error)) {
      add(source);
    } else {
      throw TrainingError(source + ": no such dataset folder or episode file");
    }
  }
  return files;
}

bool hasDataset(const EpisodeSummary& s, const std::string& path) {
  return std::any_of(s.datasets.begin(), s.datasets.end(),
                     [&](const DatasetShape& d) { return d.path == path; });
}

std::string joined(const std::vector<std::string>& names) {
  std::string text;
  for (const std::string& name : names)
    text += (text.empty() ? "" : ", ") + name;
  return text.empty() ? "none" : text;
}

// Reads `path`'s layout and joint data; returns the reason it cannot be used ("" when it can).
std::string scan(const std::string& path, Scanned& out) {
  if (RecordingMark::held(path)) return "being recorded";
  try {
    EpisodeReader reader(path);
    const EpisodeSummary s = reader.summary();
    if (!s.problem.empty()) return "damaged: " + s.problem;
    if (!s.complete)
      return "incomplete: " + (s.stopReason.empty() ? std::string("interrupted while recording")
                                                    : "cut short: " + printable(s.stopReason));
    if (s.ticks == 0) return "empty: no ticks";
    out.path = path;
    out.task = s.task;
    out.ticks = s.ticks;
    out.joints = s.joints;
    for (const CameraSummary& camera : s.cameras) {
      out.cameras.push_back(camera.name);
      const std::string stamps = "/observations/image_timestamps/" + camera.name;
      if (camera.repeatedFrames > 0 && hasDataset(s, stamps))
        out.captureTimes[camera.name] = reader.readDoubles(stamps);
    }
    out.qpos = reader.readDoubles("/observations/qpos");
    out.action = reader.readDoubles("/action");
    for (const auto* values : {&out.qpos, &out.action})
      if (!std::all_of(values->begin(), values->end(), [](double v) { return std::isfinite(v); }))
        return std::string("damaged: a joint value is not a finite number");
    // Only the ticks inside the trim marks (recorder/labels.hpp). Policy runs (recorded by `run`, with the
    // policy's own proposals) teach only where a human corrected: their human ticks, less those the
    // operator marked as recovery (bringing the robot back is not the task).
    const EpisodeLabels labels = readLabelsOf(reader.file());
    const std::vector<double> times = tickTimes(reader, s);
    std::tie(out.keptFirst, out.keptEnd) = trimmedTicks(labels, times);
    out.policyRun = hasDataset(s, "/policy_action");
    std::vector<double> intervention;
    if (out.policyRun && hasDataset(s, "/intervention")) intervention = reader.readDoubles("/intervention");
    for (std::size_t t = out.keptFirst; t < out.keptEnd; ++t)
      if (!out.policyRun || (t < intervention.size() && intervention[t] != 0.0 &&
                             !insideSpanOf(labels.segments, SpanKind::Recovery, times[t])))
        out.sampleTicks.push_back(static_cast<std::uint32_t>(t));
  } catch (const EpisodeBusy&) {
    return "busy: open for writing in another program";
  } catch (const std::exception& e) {
    std::string why = printable(e.what());
    if (why.starts_with(path + ": ")) why.erase(0, path.size() + 2);  // the skip list names the file
    return "damaged: " + why;
  }
  return "";
}

void checkOptions(const TrainingSetOptions& o) {
  if (o.sources.empty()) throw TrainingError("no episodes: name a dataset folder or episode file");
  if (o.horizon < 1)
    throw TrainingError("horizon " + std::to_string(o.horizon) + ": a chunk holds at least 1 action");
  for (int side : {o.imageHeight, o.imageWidth})
    if (side < kMinImageSide || side > kMaxImageSide)
      throw TrainingError("image size " + std::to_string(o.imageHeight) + "x" + std::to_string(o.imageWidth) +
                          ": each side must be " + std::to_string(kMinImageSide) + ".." +
                          std::to_string(kMaxImageSide));
  if (!(o.heldOutShare >= 0.0 && o.heldOutShare < 1.0))
    throw TrainingError("held-out share " + std::to_string(o.heldOutShare) + ": must be 0 or more, below 1");
  std::set<std::string> unique(o.cameras.begin(), o.cameras.end());
  if (unique.size() != o.cameras.size())
    throw TrainingError("cameras " + joined(o.cameras) + ": one is named twice");
}

// Mean and standard deviation (floored) of the rows of `values` [n, joints] at `ticks`.
void meanAndStd(const std::vector<const std::vector<double>*>& values,
                const std::vector<const std::vector<std::uint32_t>*>& ticks, std::size_t joints,
                JointVector& mean, JointVector& stdev) {
  mean.assign(joints, 0.0);
  stdev.assign(joints, 0.0);
  std::size_t n = 0;
  for (std::size_t e = 0; e < values.size(); ++e)
    for (std::uint32_t t : *ticks[e]) {
      for (std::size_t j = 0; j < joints; ++j)
        mean[j] += (*values[e])[t * joints + j];
      ++n;
    }
  for (double& m : mean)
    m /= static_cast<double>(std::max<std::size_t>(n, 1));
  for (std::size_t e = 0; e < values.size(); ++e)
    for (std::uint32_t t : *ticks[e])
      for (std::size_t j = 0; j < joints; ++j) {
        const double d = (*values[e])[t * joints + j] - mean[j];
        stdev[j] += d * d;
      }
  for (double& s : stdev)
    s = std::max(kMinStd, std::sqrt(s / static_cast<double>(std::max<std::size_t>(n, 1))));
}

// Per camera, the tick whose frame each tick repeats (same capture time); empty where nothing repeats.
std::vector<std::vector<std::uint32_t>> repeatedFrames(const Scanned& episode,
                                                       const std::vector<std::string>& cameras) {
  std::vector<std::vector<std::uint32_t>> source(cameras.size());
  for (std::size_t c = 0; c < cameras.size(); ++c) {
    auto found = episode.captureTimes.find(cameras[c]);
    if (found == episode.captureTimes.end() || found->second.size() != episode.ticks) continue;
    const std::vector<double>& times = found->second;
    source[c].resize(episode.ticks);
    for (std::uint32_t t = 0; t < episode.ticks; ++t)
      source[c][t] = t > 0 && times[t] == times[t - 1] ? source[c][t - 1] : t;
  }
  return source;
}

std::vector<float> normalised(const std::vector<double>& values, const JointVector& mean,
                              const JointVector& stdev) {
  std::vector<float> out(values.size());
  for (std::size_t i = 0; i < values.size(); ++i)
    out[i] = static_cast<float>((values[i] - mean[i % mean.size()]) / stdev[i % mean.size()]);
  return out;
}

}  // namespace

struct TrainingSet::Impl {
  TrainingSetOptions options;
  std::vector<std::string> episodes;
  std::vector<EpisodeUse> usage;
  std::vector<SkippedEpisode> skipped;
  std::vector<std::string> cameras;
  std::size_t joints = 0;
  NormalisationStats stats;
  std::vector<SampleRef> train, heldOut;
  std::vector<std::vector<float>> states, actions;  // per used episode, [ticks, joints], normalised
  std::unique_ptr<FrameSource> frames;
  int decodeThreads = 1;

  std::vector<Scanned> scanAll();
  void split(const std::vector<Scanned>& used);
  void normalise(const std::vector<Scanned>& used);
};

// The usable episodes; the first fixes the joint count (and the cameras, unless they are named).
std::vector<Scanned> TrainingSet::Impl::scanAll() {
  std::vector<Scanned> used;
  std::set<std::string> camerasSeen;
  bool anyReadable = false;
  for (const std::string& path : episodeFiles(options.sources)) {
    Scanned episode;
    std::string why = scan(path, episode);
    if (why.empty()) {
      anyReadable = true;
      camerasSeen.insert(episode.cameras.begin(), episode.cameras.end());
      if (used.empty()) {
        joints = episode.joints;
        cameras = options.cameras.empty() ? episode.cameras : options.cameras;
      }
      if (episode.joints != joints)
        why = std::to_string(episode.joints) + " joints, not " + std::to_string(joints);
      for (const std::string& camera : cameras)
        if (why.empty() &&
            std::find(episode.cameras.begin(), episode.cameras.end(), camera) == episode.cameras.end())
          why = "no camera '" + camera + "' (it has " + joined(episode.cameras) + ")";
    }
    if (why.empty())
      used.push_back(std::move(episode));
    else
      skipped.push_back({path, why});
  }
  for (const std::string& camera : options.cameras)
    if (anyReadable && !camerasSeen.contains(camera))
      throw TrainingError("no episode has camera '" + camera + "' (they have " +
                          joined({camerasSeen.begin(), camerasSeen.end()}) + ")");
  if (used.empty()) {
    std::string why = "no usable episodes in " + joined(options.sources);
    for (std::size_t i = 0; i < skipped.size() && i < 5; ++i)
      why += "\n  " + skipped[i].path + ": " + skipped[i].reason;
    if (skipped.size() > 5) why += "\n  and " + std::to_string(skipped.size() - 5) + " more";
    throw TrainingError(why);
  }
  return used;
}

// Held-out episodes drawn by a seeded Fisher-Yates shuffle: std::mt19937 gives the same sequence on every
// platform (std::shuffle and the distributions do not promise that).
void TrainingSet::Impl::split(const std::vector<Scanned>& used) {
  std::vector<std::uint32_t> candidates;
  for (std::uint32_t e = 0; e < used.size(); ++e)
    if (!used[e].sampleTicks.empty()) candidates.push_back(e);
  if (candidates.empty())
    throw TrainingError("no samples: the " + std::to_string(used.size()) +
                        " usable episodes are policy runs in which nobody took over");
  std::size_t count = 0;
  if (candidates.size() >= 2 && options.heldOutShare > 0.0)
    count = std::clamp<std::size_t>(std::llround(options.heldOutShare * candidates.size()), 1,
                                    candidates.size() - 1);
  std::mt19937 random(options.seed);
  for (std::size_t i = candidates.size(); i > 1; --i)
    std::swap(candidates[i - 1], candidates[random() % i]);
  for (std::size_t i = 0; i < count; ++i)
    usage[candidates[i]].heldOut = true;
  for (std::uint32_t e = 0; e < used.size(); ++e)
    for (std::uint32_t t : used[e].sampleTicks)
      (usage[e].heldOut ? heldOut : train).push_back({e, t});
}

// Statistics over the training samples only, so the held-out loss measures unseen episodes honestly.
void TrainingSet::Impl::normalise(const std::vector<Scanned>& used) {
  std::vector<const std::vector<double>*> qpos, action;
  std::vector<const std::vector<std::uint32_t>*> ticks;
  for (std::size_t e = 0; e < used.size(); ++e) {
    if (usage[e].heldOut) continue;
    qpos.push_back(&used[e].qpos);
    action.push_back(&used[e].action);
    ticks.push_back(&used[e].sampleTicks);
  }
  meanAndStd(qpos, ticks, joints, stats.stateMean, stats.stateStd);
  meanAndStd(action, ticks, joints, stats.actionMean, stats.actionStd);
  for (const Scanned& episode : used) {
    states.push_back(normalised(episode.qpos, stats.stateMean, stats.stateStd));
    actions.push_back(normalised(episode.action, stats.actionMean, stats.actionStd));
  }
}

TrainingSet::TrainingSet(const TrainingSetOptions& options) : impl_(std::make_shared<Impl>()) {
  Impl& m = *impl_;
  checkOptions(options);
  m.options = options;
  std::vector<Scanned> used = m.scanAll();
  for (const Scanned& episode : used) {
    m.episodes.push_back(episode.path);
    m.usage.push_back({episode.path, episode.ticks, episode.sampleTicks.size(), episode.policyRun, false,
                       episode.keptFirst, episode.keptEnd, episode.task});
  }
  m.split(used);
  m.normalise(used);
  FrameSource::RepeatMap repeats;
  for (const Scanned& episode : used)
    repeats.push_back(repeatedFrames(episode, m.cameras));
  m.decodeThreads = options.decodeThreads > 0
                        ? options.decodeThreads
                        : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  m.frames = std::make_unique<FrameSource>(m.episodes, m.cameras, std::move(repeats), options.imageHeight,
                                           options.imageWidth, options.cacheBytes);
}

const TrainingSetOptions& TrainingSet::options() const {
  return impl_->options;
}
const std::vector<std::string>& TrainingSet::episodes() const {
  return impl_->episodes;
}
const std::vector<EpisodeUse>& TrainingSet::usage() const {
  return impl_->usage;
}
const std::vector<SkippedEpisode>& TrainingSet::skipped() const {
  return impl_->skipped;
}
const std::vector<std::string>& TrainingSet::cameras() const {
  return impl_->cameras;
}
std::size_t TrainingSet::joints() const {
  return impl_->joints;
}
const NormalisationStats& TrainingSet::stats() const {
  return impl_->stats;
}
const std::vector<SampleRef>& TrainingSet::trainSamples() const {
  return impl_->train;
}
const std::vector<SampleRef>& TrainingSet::heldOutSamples() const {
  return impl_->heldOut;
}
std::size_t TrainingSet::cacheBytesUsed() const {
  return impl_->frames->bytesUsed();
}

std::vector<std::string> TrainingSet::heldOutEpisodes() const {
  std::vector<std::string> paths;
  for (const EpisodeUse& use : impl_->usage)
    if (use.heldOut) paths.push_back(use.path);
  return paths;
}

TrainingBatch TrainingSet::batch(const std::vector<SampleRef>& samples) const {
  const Impl& m = *impl_;
  TrainingBatch b;
  b.size = samples.size();
  b.joints = static_cast<int>(m.joints);
  b.horizon = m.options.horizon;
  b.cameras = static_cast<int>(m.cameras.size());
  b.height = m.options.imageHeight;
  b.width = m.options.imageWidth;
  const std::size_t J = m.joints, H = static_cast<std::size_t>(b.horizon), C = m.cameras.size();
  const std::size_t frameBytes = m.frames->frameBytes();
  b.state.resize(b.size * J);
  b.actions.resize(b.size * H * J);
  b.images.resize(b.size * C * frameBytes);
  std::vector<FrameSource::Request> requests;
  requests.reserve(b.size * C);
  for (std::size_t i = 0; i < b.size; ++i) {
    const SampleRef s = samples[i];
    if (s.episode >= m.usage.size() || s.tick >= m.usage[s.episode].ticks)
      throw TrainingError("sample (episode " + std::to_string(s.episode) + ", tick " +
                          std::to_string(s.tick) + ") is not in the training set");
    b.episodes.push_back(s.episode);
    const std::vector<float>& state = m.states[s.episode];
    const std::vector<float>& action = m.actions[s.episode];
    std::copy_n(state.begin() + s.tick * J, J, b.state.begin() + i * J);
    // The chunk ends where the kept part ends: past the trim's end the last kept action repeats.
    const std::size_t last = std::max<std::size_t>(m.usage[s.episode].keptEnd, s.tick + 1) - 1;
    for (std::size_t h = 0; h < H; ++h)
      std::copy_n(action.begin() + std::min<std::size_t>(s.tick + h, last) * J, J,
                  b.actions.begin() + (i * H + h) * J);
    for (std::uint32_t c = 0; c < C; ++c)
      requests.push_back({s.episode, c, s.tick, b.images.data() + (i * C + c) * frameBytes});
  }
  m.frames->gather(requests, m.decodeThreads);
  return b;
}

}  // namespace flywheel
