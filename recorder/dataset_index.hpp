// The dataset index, <dataset>/index.json: one entry per episode file (duration, frames, task, success,
// operator, tags, interventions, and whether the file is complete, interrupted or damaged). The files are
// the truth: the index is rebuilt from them when a session starts and updated after each save, under a
// lock, and replaced atomically, so it stays consistent with the files even after a crash.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "recorder/episode_quality.hpp"

namespace flywheel {

enum class EpisodeStatus {
  Complete,    // closed properly
  Incomplete,  // interrupted while recording (crash, kill, power cut): readable up to the last flush
  Damaged,     // cannot be read as an episode (`problem` says why)
  Recording,   // a take in progress (its writer holds the recording mark)
  Busy,        // open for writing in another process: HDF5's lock refused even a read
};
const char* nameOf(EpisodeStatus status);
// Complete and incomplete episodes can be read; the others are listed, never opened.
inline bool readable(EpisodeStatus status) {
  return status == EpisodeStatus::Complete || status == EpisodeStatus::Incomplete;
}

struct EpisodeEntry {
  std::string file;  // name within the dataset folder
  int number = -1;
  EpisodeStatus status = EpisodeStatus::Complete;
  std::string problem;  // why it is damaged (or busy), or why an incomplete take was cut short
  std::size_t ticks = 0;
  double duration = 0.0;                      // seconds, ticks / fps
  std::map<std::string, std::size_t> frames;  // per camera
  std::string task;
  std::optional<bool> success;
  std::string operatorName;
  std::vector<std::string> tags;
  int interventions = 0;
  std::string notes;
  std::size_t segments = 0;  // language segments on the timeline
  // Readable episodes: what was measured and the verdict from the thresholds of the rig file it stores.
  std::optional<EpisodeQuality> quality;
  Verdict verdict = Verdict::Good;
  std::vector<std::string> verdictReasons;
  // The file's size and modification time when `quality` was measured: re-indexing an unchanged file
  // takes the quality from index.json instead of measuring it again.
  std::uint64_t fileSize = 0;
  std::int64_t fileTimeNs = 0;
  bool labelled() const { return !task.empty() && success.has_value(); }
};

// Reads one episode file into an entry; never throws. A file that cannot be read becomes a Damaged entry
// with the reason, a take being recorded a Recording one, a file locked by another process a Busy one.
// `cached`: the file's entry in the index as stored, whose quality is reused when the file is unchanged.
EpisodeEntry describeEpisode(const std::string& path, const EpisodeEntry* cached = nullptr);

class DatasetIndex {
 public:
  explicit DatasetIndex(std::string datasetFolder);
  // Scans every episode file and rewrites the index from them (throws RecorderError when it cannot).
  std::vector<EpisodeEntry> rebuild() const;
  // The same for read-only commands: when index.json cannot be written (a read-only folder, a full disk)
  // the entries are still returned and `notWritten` says why instead of an exception.
  std::vector<EpisodeEntry> scan(std::string& notWritten) const;
  // Re-reads one episode file and replaces (or adds) its entry.
  void update(const std::string& episodePath) const;
  // Drops the entry of a file that is gone (a discarded take).
  void remove(const std::string& episodePath) const;
  std::vector<EpisodeEntry> read() const;  // the index as stored (empty when there is none)
  std::string path() const;

 private:
  // Replaces index.json atomically, unless it already holds exactly these entries.
  void write(const std::vector<EpisodeEntry>& entries) const;
  std::vector<EpisodeEntry> describeAll() const;
  std::string folder_;
};

}  // namespace flywheel
