// Reads an episode file back: its layout, attributes, joint data and frames. Any HDF5 file is accepted:
// nothing is read before its size, rank, shape and type are checked, and what is missing or damaged is
// reported (EpisodeSummary::problem, or RecorderError naming the file) rather than crashing.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "core/types.hpp"
#include "recorder/episode_writer.hpp"

namespace flywheel {

struct DatasetShape {
  std::string path;  // "/observations/qpos"
  std::vector<unsigned long long> shape;
  std::string dtype;
};

struct CameraSummary {
  std::string name;
  std::size_t frames = 0;
  int height = 0, width = 0;
  std::size_t repeatedFrames = 0;  // ticks that reused the previous tick's frame
};

struct EpisodeSummary {
  std::string path;
  std::string task;
  bool sim = false;
  double fps = 0.0;
  std::size_t ticks = 0;
  std::size_t joints = 0;
  double measuredDuration = 0.0;  // last timestamp - first, seconds
  bool complete = false;
  std::string stopReason;  // why a take cut short by an error stopped (root attribute stop_reason)
  std::optional<bool> success;
  std::string rigName, softwareVersion, startTime;
  std::string operatorName, tags;  // tags comma-separated
  int interventions = 0;           // human takeovers (rising edges of /intervention)
  bool jpeg = false;               // images stored as JPEG (ALOHA's compressed layout)
  std::vector<CameraSummary> cameras;
  std::vector<DatasetShape> datasets;
  std::string problem;  // why this is not a readable episode ("" when it is); the fields above may be partial
};

// HDF5's file lock refused the open: another process has the file open for writing.
struct EpisodeBusy : RecorderError {
  using RecorderError::RecorderError;
};

// Text from a file (dataset names, a JSON parser's excerpt) made safe to print: control characters and,
// unless the whole text is valid UTF-8, every non-ASCII byte become '?'.
std::string printable(std::string text);

// Limits no real recording comes near; larger claims are a damaged or hostile file, not a reason to
// allocate gigabytes.
constexpr unsigned long long kMaxTicks = 10'000'000, kMaxJoints = 4096, kMaxImageSide = 16384;

class EpisodeReader {
 public:
  explicit EpisodeReader(const std::string& path);  // throws RecorderError, EpisodeBusy
  // Reads an episode from a file image in memory (copied); `name` stands for the path in messages.
  EpisodeReader(const void* image, std::size_t size, const std::string& name);
  ~EpisodeReader();
  EpisodeReader(const EpisodeReader&) = delete;
  EpisodeReader& operator=(const EpisodeReader&) = delete;

  EpisodeSummary summary() const;  // never throws for a damaged file: see EpisodeSummary::problem
  std::vector<double> readDoubles(const std::string& dataset) const;  // flattened, row-major
  Image readFrame(const std::string& camera, std::size_t tick) const;
  // /policy_source, one per tick (empty when the file has none: older recordings, or not a policy run).
  // Throws RecorderError when it is not [ticks] integers, or holds a value that names no source.
  std::vector<PolicySource> readPolicySources() const;
  std::string rigConfigText() const;
  long long file() const { return file_; }

 private:
  void checkLayout(EpisodeSummary& s) const;
  Image readJpegFrame(long long dataset, const std::string& camera, std::size_t tick,
                      const std::vector<unsigned long long>& shape) const;

  std::string path_;
  long long file_ = -1;
};

}  // namespace flywheel
