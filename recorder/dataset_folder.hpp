// A dataset is a folder of episode_<N>.hdf5 files. Numbers only ever go up: a new episode takes the number
// after the highest one present, so no take is overwritten, even when earlier files were deleted.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "recorder/episode_writer.hpp"

namespace flywheel {

class DatasetFolder {
 public:
  explicit DatasetFolder(std::string path);  // creates the folder if needed; throws RecorderError
  const std::string& path() const { return path_; }
  // Episode files sorted by number.
  std::vector<std::string> episodePaths() const;
  int nextEpisodeNumber() const;
  // Creates the next episode file exclusively (retrying past a number another process just took).
  std::unique_ptr<EpisodeWriter> createEpisode(const EpisodeInfo& info, WriterOptions options = {}) const;

  static int episodeNumber(const std::string& fileName);  // -1 unless "episode_<N>.hdf5"

 private:
  std::string path_;
};

}  // namespace flywheel
