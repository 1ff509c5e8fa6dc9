// Reads an episode file back: its layout, attributes, joint data and frames. Any HDF5 file is accepted;
// what is missing or damaged is reported with the file's name rather than crashing.
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
  std::optional<bool> success;
  std::string rigName, softwareVersion, startTime;
  std::string operatorName, tags;  // tags comma-separated
  int interventions = 0;           // human takeovers (rising edges of /intervention)
  bool jpeg = false;               // images stored as JPEG (ALOHA's compressed layout)
  std::vector<CameraSummary> cameras;
  std::vector<DatasetShape> datasets;
};

class EpisodeReader {
 public:
  explicit EpisodeReader(const std::string& path);  // throws RecorderError
  ~EpisodeReader();
  EpisodeReader(const EpisodeReader&) = delete;
  EpisodeReader& operator=(const EpisodeReader&) = delete;

  EpisodeSummary summary() const;
  std::vector<double> readDoubles(const std::string& dataset) const;  // flattened, row-major
  Image readFrame(const std::string& camera, std::size_t tick) const;
  std::string rigConfigText() const;

 private:
  Image readJpegFrame(long long dataset, const std::string& camera, std::size_t tick,
                      const std::vector<unsigned long long>& shape) const;

  std::string path_;
  long long file_;
};

}  // namespace flywheel
