// copyEpisode: reads the kept ticks of a recording and appends them to a new file through EpisodeLayout.
#include "recorder/episode_export.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstring>

#include "recorder/episode_reader.hpp"
#include "recorder/labels.hpp"

namespace flywheel {

namespace {

constexpr std::size_t kBatchRows = 16;
const std::vector<std::string> kOpenpiCameras{"cam_high", "cam_low", "cam_left_wrist", "cam_right_wrist"};

bool hasDataset(const EpisodeSummary& summary, const std::string& path) {
  return std::any_of(summary.datasets.begin(), summary.datasets.end(),
                     [&](const DatasetShape& d) { return d.path == path; });
}

// Everything of the source but the frames, read once: per-tick rows of `joints` values.
struct SourceRows {
  std::size_t joints = 0;
  std::vector<double> qpos, qvel, effort, action, policyAction, time, intervention;
  std::vector<PolicySource> policySource;         // checked by the reader: each value names a source
  std::vector<std::vector<double>> captureTimes;  // per camera
};

// A per-tick dataset with exactly `width` values a tick: the reader checks only its rows, and a narrower
// one would be read past its end.
std::vector<double> perTick(const EpisodeReader& reader, const EpisodeSummary& s, const std::string& name,
                            std::size_t width) {
  std::vector<double> values = reader.readDoubles(name);
  if (values.size() != s.ticks * width)
    throw RecorderError(s.path + ": " + name + " holds " + std::to_string(values.size()) +
                        " values, expected " + std::to_string(s.ticks) + " x " + std::to_string(width));
  return values;
}

SourceRows readRows(const EpisodeReader& reader, const EpisodeSummary& s) {
  SourceRows rows;
  rows.joints = s.joints;
  auto optional = [&](const std::string& name, std::size_t width) {
    return hasDataset(s, name) ? perTick(reader, s, name, width) : std::vector<double>(s.ticks * width, 0.0);
  };
  rows.qpos = perTick(reader, s, "/observations/qpos", s.joints);
  rows.action = perTick(reader, s, "/action", s.joints);
  rows.qvel = optional("/observations/qvel", s.joints);
  rows.effort = optional("/observations/effort", s.joints);
  rows.intervention = optional("/intervention", 1);
  rows.policySource = reader.readPolicySources();
  if (rows.policySource.empty()) rows.policySource.assign(s.ticks, PolicySource::None);
  if (hasDataset(s, "/policy_action")) rows.policyAction = perTick(reader, s, "/policy_action", s.joints);
  if (hasDataset(s, "/timestamp")) {
    rows.time = perTick(reader, s, "/timestamp", 1);
  } else {  // files without /timestamp: the nominal clock
    for (std::size_t t = 0; t < s.ticks; ++t)
      rows.time.push_back(s.fps > 0 ? static_cast<double>(t) / s.fps : 0.0);
  }
  for (const CameraSummary& cam : s.cameras) {
    const std::string stamps = "/observations/image_timestamps/" + cam.name;
    rows.captureTimes.push_back(hasDataset(s, stamps) ? perTick(reader, s, stamps, 1) : rows.time);
  }
  return rows;
}

JointVector rowOf(const std::vector<double>& values, std::size_t tick, std::size_t width) {
  return JointVector(values.begin() + tick * width, values.begin() + (tick + 1) * width);
}

// openpi's converter swaps the decoded channels back: the layout encodes what it is given as BGR, so
// handing it BGR makes a true-colour JPEG.
Image swapRedBlue(const Image& image) {
  std::shared_ptr<std::uint8_t[]> pixels(new std::uint8_t[image.byteSize()]);
  const std::uint8_t* in = image.pixels.get();
  for (std::size_t i = 0; i < image.byteSize(); i += 3) {
    pixels[i] = in[i + 2];
    pixels[i + 1] = in[i + 1];
    pixels[i + 2] = in[i];
  }
  Image swapped = image;
  swapped.pixels = std::move(pixels);
  return swapped;
}

EpisodeInfo infoFor(const EpisodeReader& reader, const EpisodeSummary& s, const EpisodeLabels& labels,
                    const EpisodeCopyOptions& options) {
  EpisodeInfo info;
  info.task = labels.task;
  info.operatorName = labels.operatorName;
  info.tags = labels.tags;
  info.imageStorage = options.jpeg ? ImageStorage::Jpeg : ImageStorage::Raw;
  info.jpegQuality = options.jpegQuality;
  info.fps = s.fps;
  info.sim = s.sim;
  info.rigName = s.rigName;
  info.rigConfigText = reader.rigConfigText();
  info.joints = s.joints;
  for (const CameraSummary& cam : s.cameras) {
    auto renamed = options.cameraNames.find(cam.name);
    info.cameras.push_back(
        {renamed == options.cameraNames.end() ? cam.name : renamed->second, cam.width, cam.height});
  }
  if (h5::hasAttribute(reader.file(), "policy"))
    info.policy = h5::readStringAttribute(reader.file(), "policy");
  return info;
}

// The source's labels on the new timeline: segments moved by the kept part's start and cut to it.
EpisodeLabels labelsFor(EpisodeLabels labels, double start, double duration) {
  std::vector<Segment> kept;
  for (Segment segment : labels.segments) {
    segment.start = std::max(0.0, segment.start - start);
    segment.end = std::min(duration, segment.end - start);
    if (segment.end > segment.start) kept.push_back(segment);
  }
  labels.segments = kept;
  labels.trimStart.reset();
  labels.trimEnd.reset();
  return labels;
}

// Pushes the closed file past the page cache, so that a finished export is on disk.
void syncFile(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) throw RecorderError(path + ": cannot reopen to sync: " + std::strerror(errno));
  const bool synced = ::fsync(fd) == 0;
  const int error = errno;
  if (::close(fd) != 0 || !synced)
    throw RecorderError(path + ": sync failed: " + std::strerror(synced ? errno : error));
}

class Copier {
 public:
  Copier(const EpisodeReader& reader, const EpisodeSummary& s, TickRange kept, const EpisodeCopyOptions& o)
      : reader_(reader), s_(s), kept_(kept), options_(o), rows_(readRows(reader, s)) {}

  std::size_t rowCount() const { return options_.length ? *options_.length : kept_.size(); }

  // Row r of the new file: kept tick first + r, or the last kept tick again once past the end.
  Observation observation(std::size_t r) {
    const std::size_t held = r >= kept_.size() ? r - kept_.size() + 1 : 0;
    const std::size_t tick = kept_.first + std::min(r, kept_.size() - 1);
    const double period = s_.fps > 0 ? 1.0 / s_.fps : 0.0;
    Observation obs;
    obs.tick = r;
    obs.time = rows_.time[tick] + static_cast<double>(held) * period;
    obs.state.position = rowOf(rows_.qpos, tick, s_.joints);
    obs.state.velocity = rowOf(rows_.qvel, tick, s_.joints);
    obs.state.effort = rowOf(rows_.effort, tick, s_.joints);
    obs.action = rowOf(rows_.action, tick, s_.joints);
    obs.intervention = rows_.intervention[tick] != 0.0;
    obs.policySource = rows_.policySource[tick];
    if (!rows_.policyAction.empty()) obs.policyAction = rowOf(rows_.policyAction, tick, s_.joints);
    if (tick != framesTick_) {  // a held tick reuses the frames already read
      frames_.clear();
      for (std::size_t c = 0; c < s_.cameras.size(); ++c) {
        Image image = reader_.readFrame(s_.cameras[c].name, tick);
        if (options_.jpeg && options_.consumer == ExportConsumer::Openpi) image = swapRedBlue(image);
        frames_.push_back({image, rows_.captureTimes[c][tick], tick});
      }
      framesTick_ = tick;
    }
    obs.frames = frames_;
    return obs;
  }

  // What writeClosingAttributes stores per camera, over the rows written.
  void count(const Observation& obs) {
    if (stats_.empty()) stats_.assign(obs.frames.size(), {});
    for (std::size_t c = 0; c < obs.frames.size(); ++c) {
      if (lastCapture_.size() == obs.frames.size() && obs.frames[c].captureTime == lastCapture_[c])
        ++stats_[c].repeatedFrames;
      stats_[c].maxFrameAge = std::max(stats_[c].maxFrameAge, obs.time - obs.frames[c].captureTime);
    }
    lastCapture_.clear();
    for (const CameraFrame& frame : obs.frames)
      lastCapture_.push_back(frame.captureTime);
  }

  const std::vector<CameraStats>& stats() const { return stats_; }
  // Seconds from the source's first tick to the first kept one: where the new timeline starts.
  double keptStart() const { return rows_.time[kept_.first] - rows_.time.front(); }
  // Seconds of the new timeline the source's ticks fill, measured as the labels are: to one period past
  // the last source tick written (padding only repeats it).
  double keptDuration() const {
    const std::size_t last = kept_.first + std::min(rowCount(), kept_.size()) - 1;
    return rows_.time[last] - rows_.time[kept_.first] + (s_.fps > 0 ? 1.0 / s_.fps : 0.0);
  }

 private:
  const EpisodeReader& reader_;
  const EpisodeSummary& s_;
  TickRange kept_;
  const EpisodeCopyOptions& options_;
  SourceRows rows_;
  std::size_t framesTick_ = static_cast<std::size_t>(-1);
  std::vector<CameraFrame> frames_;
  std::vector<CameraStats> stats_;
  std::vector<double> lastCapture_;
};

void writeRows(EpisodeLayout& layout, Copier& copier, const std::function<bool()>& cancelled) {
  const std::size_t rows = copier.rowCount();
  for (std::size_t r = 0; r < rows;) {
    if (cancelled && cancelled()) throw RecorderError("interrupted");
    std::vector<Observation> batch;
    for (; r < rows && batch.size() < kBatchRows; ++r) {
      batch.push_back(copier.observation(r));
      copier.count(batch.back());
    }
    layout.append(batch);
  }
}

}  // namespace

const char* nameOf(ExportConsumer consumer) {
  return consumer == ExportConsumer::Openpi ? "openpi" : "aloha";
}

std::string consumerProblem(ExportConsumer consumer, const std::vector<std::string>& cameras,
                            std::size_t joints, const std::vector<std::pair<int, int>>& heightWidth) {
  if (consumer != ExportConsumer::Openpi) return "";
  for (const std::string& name : cameras)
    if (std::find(kOpenpiCameras.begin(), kOpenpiCameras.end(), name) == kOpenpiCameras.end())
      return "camera '" + name +
             "' is not one openpi's ALOHA converter declares (cam_high, cam_low, cam_left_wrist, "
             "cam_right_wrist): rename it with --camera " +
             name + "=cam_...";
  for (const std::string& name : kOpenpiCameras)
    if (std::find(cameras.begin(), cameras.end(), name) == cameras.end())
      return "no camera '" + name + "': openpi's ALOHA converter needs all four ALOHA cameras";
  if (joints != 14)
    return std::to_string(joints) + " joints: openpi's ALOHA converter declares 14 (two 7-joint arms)";
  for (const auto& [height, width] : heightWidth)
    if (height != 480 || width != 640)
      return "frames of " + std::to_string(width) + "x" + std::to_string(height) +
             ": openpi's ALOHA converter declares 640x480";
  return "";
}

CopiedEpisode copyEpisode(const std::string& source, const std::string& destination, TickRange kept,
                          const EpisodeCopyOptions& options, const std::function<bool()>& cancelled) {
  EpisodeReader reader(source);
  const EpisodeSummary s = reader.summary();
  if (!s.problem.empty()) throw RecorderError(source + ": " + s.problem);
  if (kept.size() == 0 || kept.end > s.ticks)
    throw RecorderError(source + ": no ticks kept (trim " + std::to_string(kept.first) + ".." +
                        std::to_string(kept.end) + " of " + std::to_string(s.ticks) + ")");
  if (options.length && *options.length == 0) throw RecorderError("--length must be at least 1");
  EpisodeLabels labels;
  try {
    labels = readLabelsOf(reader.file());
  } catch (const RecorderError& e) {
    throw RecorderError(source + ": " + e.what());
  }
  const EpisodeInfo info = infoFor(reader, s, labels, options);
  Copier copier(reader, s, kept, options);
  CopiedEpisode copied{copier.rowCount(), 0, 0};
  if (copied.rows > kept.size()) copied.padded = copied.rows - kept.size();
  if (copied.rows < kept.size()) copied.cut = kept.size() - copied.rows;

  h5::quietErrors();
  errno = 0;  // HDF5 does not say why a write failed: the system's reason is added when there is one
  h5::Handle access = h5::plist(H5Pcreate(H5P_FILE_ACCESS));
  H5Pset_libver_bounds(access, H5F_LIBVER_V18, H5F_LIBVER_V110);  // as the recorder writes its files
  hid_t file = H5Fcreate(destination.c_str(), H5F_ACC_EXCL, H5P_DEFAULT, access);
  if (file < 0)
    throw RecorderError(destination + ": cannot be created" +
                        (errno ? std::string(": ") + std::strerror(errno) : " (exists, or not writable)"));
  try {
    EpisodeLayout layout(h5::file(file), info, options.precision);
    writeRows(layout, copier, cancelled);
    layout.writeClosingAttributes(copier.stats(), labels.success, "");
    setRecordedLabels(file, labelsFor(labels, copier.keptStart(), copier.keptDuration()));
    h5::writeStringAttribute(file, "start_time", s.startTime);
    h5::writeStringAttribute(file, "export_source", source);
    h5::writeDoubleAttribute(file, "export_first_tick", static_cast<double>(kept.first));
    h5::writeDoubleAttribute(file, "export_end_tick", static_cast<double>(kept.end));
    h5::check(H5Fflush(file, H5F_SCOPE_LOCAL), "flush");
  } catch (const h5::Error& e) {
    const std::string why = errno ? std::string(" (") + std::strerror(errno) + ")" : "";
    throw RecorderError(destination + ": " + e.what() + why);
  } catch (const RecorderError& e) {
    throw RecorderError(destination + ": " + e.what());
  }
  syncFile(destination);
  return copied;
}

}  // namespace flywheel
