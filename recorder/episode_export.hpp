// One episode copied for a training consumer: the kept ticks of a recording (its trim) written to a new
// file in ALOHA's layout through the recorder's own EpisodeLayout, optionally padded or cut to a fixed
// length, renamed cameras, float32 joints, raw frames or JPEG encoded the way the consumer decodes them.
// The source is opened read-only and never written.
//
// JPEG colour: the recorder (and ACT/ALOHA) encode the RGB bytes as if they were BGR, and ACT's loader
// uses cv2.imdecode's array as it is, so RGB survives. openpi's ALOHA converter converts the decoded
// array BGR->RGB, so for it the frame is encoded as a true-colour JPEG instead.
#pragma once

#include <cstddef>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "recorder/episode_layout.hpp"

namespace flywheel {

enum class ExportConsumer {
  Act,     // ACT / ALOHA loaders: JPEG rows decoded and used as they are
  Openpi,  // openpi's convert_aloha_data_to_lerobot.py: decoded, then BGR->RGB
};
const char* nameOf(ExportConsumer consumer);  // "aloha", "openpi"

struct EpisodeCopyOptions {
  ExportConsumer consumer = ExportConsumer::Act;
  bool jpeg = false;
  int jpegQuality = 90;
  JointPrecision precision = JointPrecision::Float64;
  std::optional<std::size_t> length;               // pad (holding the last tick) or cut to this many rows
  std::map<std::string, std::string> cameraNames;  // source name -> exported name; others keep theirs
};

// Half-open range [first, end) of source ticks kept.
struct TickRange {
  std::size_t first = 0, end = 0;
  std::size_t size() const { return end > first ? end - first : 0; }
};

struct CopiedEpisode {
  std::size_t rows = 0;    // in the new file
  std::size_t padded = 0;  // rows repeating the last kept tick
  std::size_t cut = 0;     // kept ticks left out by --length
};

// What the consumer needs of an episode with these (exported) cameras, joints and frame sizes: "" when
// it can read it, else why not. openpi's converter declares exactly the four ALOHA cameras at 480x640
// and 14 joints; ACT reads any.
std::string consumerProblem(ExportConsumer consumer, const std::vector<std::string>& cameras,
                            std::size_t joints, const std::vector<std::pair<int, int>>& heightWidth);

// Writes `destination` (created exclusively) from `source`'s ticks in `kept`. Labels follow, with the
// segments moved to the new first tick and no trim. `cancelled` is asked between batches. Throws
// RecorderError naming the file that failed; a destination left half-written is the caller's to remove.
// After a failed write HDF5 may not manage to close the file (its id stays open; see the export command).
CopiedEpisode copyEpisode(const std::string& source, const std::string& destination, TickRange kept,
                          const EpisodeCopyOptions& options, const std::function<bool()>& cancelled = {});

}  // namespace flywheel
