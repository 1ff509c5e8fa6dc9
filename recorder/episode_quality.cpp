// Measures an episode from its datasets: /timestamp for rate, jitter and idle time, /observations/qpos for
// motion, image_timestamps for camera freshness, /intervention for human control, root attributes for what
// only the recorder knew (writer drops, bus retries, failed ticks).
#include "recorder/episode_quality.hpp"

#include <algorithm>
#include <cmath>

#include "core/loop_stats.hpp"
#include "recorder/episode_reader.hpp"
#include "recorder/h5.hpp"

namespace flywheel {

namespace {

// The series one episode offers; vectors are empty where the file lacks them.
struct Series {
  std::string name;
  double fps = 0.0;
  std::size_t ticks = 0, joints = 0;
  std::vector<double> time, qpos, intervention;
  bool policyRun = false;
  std::vector<std::pair<std::string, std::vector<double>>> captureTimes;  // per camera
  RigConfig rig;                                                          // as recorded, when it parses
  bool haveRig = false;
};

bool hasDataset(hid_t file, const std::string& path) {
  return H5Lexists(file, path.c_str(), H5P_DEFAULT) > 0 &&
         H5Oexists_by_name(file, path.c_str(), H5P_DEFAULT) > 0;
}

// A numeric dataset of exactly `rows` x `cols` values, read as doubles; anything else is a RecorderError.
std::vector<double> readChecked(hid_t file, const std::string& name, const std::string& path,
                                std::size_t rows, std::size_t cols) {
  h5::Handle ds = h5::dataset(H5Dopen2(file, path.c_str(), H5P_DEFAULT));
  if (!ds.valid()) throw RecorderError(name + ": cannot open " + path);
  h5::DatasetInfo info;
  try {
    info = h5::datasetInfo(ds);
  } catch (const h5::Error& e) {
    throw RecorderError(name + ": " + path + ": " + e.what());
  }
  const bool shaped =
      info.shape.size() == (cols ? 2u : 1u) && info.shape[0] == rows && (cols == 0 || info.shape[1] == cols);
  if (!info.numeric() || !shaped) throw RecorderError(name + ": " + path + " is " + info.describe());
  std::vector<double> values(rows * std::max<std::size_t>(cols, 1));
  if (!values.empty() && H5Dread(ds, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, values.data()) < 0)
    throw RecorderError(name + ": cannot read " + path + " (damaged)");
  return values;
}

herr_t collectName(hid_t, const char* name, const H5L_info_t*, void* out) {
  auto* names = static_cast<std::vector<std::string>*>(out);
  if (names->size() >= 256) return 1;
  names->push_back(name);
  return 0;
}

std::optional<double> attribute(hid_t file, const char* name) {
  try {
    if (!h5::hasAttribute(file, name)) return std::nullopt;
    const double value = h5::readDoubleAttribute(file, name);
    if (std::isfinite(value) && value >= 0) return value;
  } catch (const h5::Error&) {
  }
  return std::nullopt;  // a damaged attribute is as good as none
}

Series readSeries(hid_t file, const std::string& name) {
  Series s;
  s.name = name;
  s.fps = attribute(file, "fps").value_or(0.0);
  if (!hasDataset(file, "/observations/qpos")) throw RecorderError(name + ": no dataset /observations/qpos");
  {
    h5::Handle ds = h5::dataset(H5Dopen2(file, "/observations/qpos", H5P_DEFAULT));
    const auto shape = h5::shapeOf(ds);
    if (shape.size() != 2 || shape[0] > kMaxTicks || shape[1] == 0 || shape[1] > kMaxJoints)
      throw RecorderError(name + ": /observations/qpos is not [ticks, joints]");
    s.ticks = shape[0];
    s.joints = shape[1];
  }
  s.qpos = readChecked(file, name, "/observations/qpos", s.ticks, s.joints);
  if (hasDataset(file, "/timestamp")) s.time = readChecked(file, name, "/timestamp", s.ticks, 0);
  if (!std::all_of(s.time.begin(), s.time.end(), [](double t) { return std::isfinite(t); })) s.time.clear();
  s.policyRun = h5::hasAttribute(file, "policy") || hasDataset(file, "/policy_action");
  if (hasDataset(file, "/intervention"))
    s.intervention = readChecked(file, name, "/intervention", s.ticks, 0);
  std::vector<std::string> cameras;
  if (hasDataset(file, "/observations/images"))
    H5Literate_by_name(file, "/observations/images", H5_INDEX_NAME, H5_ITER_INC, nullptr, collectName,
                       &cameras, H5P_DEFAULT);
  for (const std::string& camera : cameras) {
    const std::string stamps = "/observations/image_timestamps/" + camera;
    s.captureTimes.emplace_back(printable(camera), hasDataset(file, stamps)
                                                       ? readChecked(file, name, stamps, s.ticks, 0)
                                                       : std::vector<double>{});
  }
  try {
    if (h5::hasAttribute(file, "rig_config")) {
      s.rig = parseRigConfig(h5::readStringAttribute(file, "rig_config"), name + " (rig_config)");
      s.haveRig = true;
    }
  } catch (const std::exception&) {  // an unreadable rig file: no gripper joints known, default thresholds
  }
  return s;
}

// Seconds of tick k: measured when the file has /timestamp, nominal otherwise.
double timeOf(const Series& s, std::size_t k) {
  if (!s.time.empty()) return s.time[k];
  return s.fps > 0 ? static_cast<double>(k) / s.fps : 0.0;
}

void measureRate(const Series& s, EpisodeQuality& q) {
  if (s.time.size() < 2) return;
  const double duration = s.time.back() - s.time.front();
  if (duration > 0) q.meanRateHz = static_cast<double>(s.time.size() - 1) / duration;
  if (duration >= 1.0) {  // the fewest ticks starting within one second of a tick
    std::size_t fewest = s.time.size(), end = 0;
    for (std::size_t i = 0; i < s.time.size() && s.time[i] + 1.0 <= s.time.back() + 1e-9; ++i) {
      end = std::max(end, i);
      while (end < s.time.size() && s.time[end] < s.time[i] + 1.0 - 1e-9)
        ++end;
      fewest = std::min(fewest, end - i);
    }
    q.worstWindowRateHz = static_cast<double>(fewest);
  }
  if (s.fps <= 0) return;
  const double period = 1.0 / s.fps;
  std::vector<double> jitter;
  std::uint64_t overruns = 0;
  for (std::size_t k = 1; k < s.time.size(); ++k) {
    const double interval = s.time[k] - s.time[k - 1];
    jitter.push_back(std::abs(interval - period));
    if (interval > 1.5 * period) ++overruns;
  }
  q.jitterP99 = percentile(jitter, 0.99);
  q.overruns = overruns;
}

void measureCameras(const Series& s, EpisodeQuality& q) {
  for (const auto& [camera, capture] : s.captureTimes) {
    CameraQuality c{camera, std::nullopt, std::nullopt, std::nullopt};
    for (const CameraConfig& config : s.haveRig&& s.fps > 0 ? s.rig.cameras : std::vector<CameraConfig>{})
      if (config.name == camera) c.expectedRepeatedShare = std::max(0.0, 1.0 - config.fps / s.fps);
    if (capture.size() >= 2) {
      std::size_t repeated = 0;
      for (std::size_t k = 1; k < capture.size(); ++k)
        if (capture[k] == capture[k - 1]) ++repeated;
      c.repeatedShare = static_cast<double>(repeated) / static_cast<double>(capture.size() - 1);
    }
    if (!capture.empty() && !s.time.empty()) {  // both count from the first tick's time
      double oldest = 0.0;
      for (std::size_t k = 0; k < capture.size(); ++k)
        if (std::isfinite(capture[k])) oldest = std::max(oldest, s.time[k] - capture[k]);
      c.maxFrameAge = oldest;
    }
    q.cameras.push_back(c);
  }
}

bool movedFrom(const Series& s, std::size_t k, std::size_t rest, double threshold) {
  for (std::size_t j = 0; j < s.joints; ++j)
    if (std::abs(s.qpos[k * s.joints + j] - s.qpos[rest * s.joints + j]) > threshold) return true;
  return false;
}

// Idle head: until the first tick where a joint left its first position; tail: after the last tick away
// from the final position. An episode where nothing moved is all head.
void measureIdle(const Series& s, double threshold, EpisodeQuality& q) {
  if (s.ticks < 2) return;
  const std::size_t last = s.ticks - 1;
  std::size_t first = 0;
  while (first <= last && !movedFrom(s, first, 0, threshold))
    ++first;
  if (first > last) {
    q.idleHeadSeconds = timeOf(s, last) - timeOf(s, 0);
    return;
  }
  q.idleHeadSeconds = timeOf(s, first) - timeOf(s, 0);
  std::size_t lastMoved = last;
  while (lastMoved > first && !movedFrom(s, lastMoved, last, threshold))
    --lastMoved;
  q.idleTailSeconds = timeOf(s, last) - timeOf(s, lastMoved);
}

// The follower joints in recorded order, when the stored rig file matches the file's joint count.
std::vector<const JointConfig*> recordedJoints(const Series& s) {
  std::vector<const JointConfig*> joints;
  if (!s.haveRig) return joints;
  for (const ArmConfig* arm : s.rig.followers())
    for (const JointConfig& joint : arm->joints)
      joints.push_back(&joint);
  if (joints.size() != s.joints) joints.clear();
  return joints;
}

// Gripper state with hysteresis (open above 60% of its range, closed under 40%); each change is an event.
int gripperEvents(const Series& s, std::size_t j, const JointConfig& joint) {
  const double range = joint.max - joint.min;
  int events = 0, state = -1;  // -1 unknown, 0 closed, 1 open
  for (std::size_t k = 0; k < s.ticks; ++k) {
    const double share = range > 0 ? (s.qpos[k * s.joints + j] - joint.min) / range : 0.0;
    const int now = share > 0.6 ? 1 : share < 0.4 ? 0 : state;
    if (state >= 0 && now != state) ++events;
    state = now;
  }
  return events;
}

void measureMotion(const Series& s, EpisodeQuality& q) {
  const auto joints = recordedJoints(s);
  auto gripper = [&](std::size_t j) { return !joints.empty() && joints[j]->isGripper(); };
  if (s.ticks >= 2 && (!s.time.empty() || s.fps > 0)) {
    double path = 0.0, peak = 0.0;
    for (std::size_t k = 1; k < s.ticks; ++k) {
      const double dt = timeOf(s, k) - timeOf(s, k - 1);
      for (std::size_t j = 0; j < s.joints; ++j) {
        if (gripper(j)) continue;
        const double step = std::abs(s.qpos[k * s.joints + j] - s.qpos[(k - 1) * s.joints + j]);
        if (!std::isfinite(step)) continue;
        path += step;
        if (dt > 0) peak = std::max(peak, step / dt);
      }
    }
    q.pathLength = path;
    q.peakJointSpeed = peak;
  }
  if (joints.empty()) return;
  int events = 0;
  bool any = false;
  for (std::size_t j = 0; j < s.joints; ++j)
    if (gripper(j)) {
      events += gripperEvents(s, j, *joints[j]);
      any = true;
    }
  if (any) q.gripperEvents = events;
}

void measureControl(const Series& s, EpisodeQuality& q) {
  if (!s.policyRun || s.intervention.empty()) return;
  int takeovers = 0;
  std::size_t human = 0;
  for (std::size_t k = 0; k < s.intervention.size(); ++k) {
    const bool on = s.intervention[k] != 0.0;
    human += on;
    if (on && (k == 0 || s.intervention[k - 1] == 0.0)) ++takeovers;
  }
  q.takeovers = takeovers;
  q.humanShare = static_cast<double>(human) / static_cast<double>(s.intervention.size());
}

std::optional<std::uint64_t> countAttribute(hid_t file, const char* name) {
  auto value = attribute(file, name);
  if (!value) return std::nullopt;
  return static_cast<std::uint64_t>(std::min(*value, 1e18));
}

}  // namespace

QualityThresholds thresholdsFor(const std::string& rigConfigText) {
  if (rigConfigText.empty()) return {};
  try {
    return parseRigConfig(rigConfigText, "rig_config").quality;
  } catch (const std::exception&) {
    return {};
  }
}

EpisodeQuality measureOpenEpisode(long long file, const std::string& name) {
  const Series s = readSeries(file, name);
  EpisodeQuality q;
  q.nominalRateHz = s.fps;
  q.ticks = s.ticks;
  measureRate(s, q);
  q.droppedTicks = countAttribute(file, "dropped_ticks");
  q.busRetries = countAttribute(file, "bus_retries");
  q.failedTicks = countAttribute(file, "failed_ticks");
  measureCameras(s, q);
  measureIdle(s, s.haveRig ? s.rig.quality.idleMotion : QualityThresholds{}.idleMotion, q);
  measureMotion(s, q);
  measureControl(s, q);
  return q;
}

EpisodeQuality measureEpisode(const std::string& path) {
  EpisodeReader reader(path);
  const EpisodeSummary summary = reader.summary();
  if (!summary.problem.empty()) throw RecorderError(path + ": " + summary.problem);
  return measureOpenEpisode(reader.file(), path);
}

}  // namespace flywheel
