#include "recorder/dataset_folder.hpp"

#include <algorithm>
#include <filesystem>

namespace flywheel {

namespace fs = std::filesystem;

DatasetFolder::DatasetFolder(std::string path) : path_(std::move(path)) {
  std::error_code error;
  fs::create_directories(path_, error);
  if (error || !fs::is_directory(path_))
    throw RecorderError(path_ + ": cannot create the dataset folder: " + error.message());
}

int DatasetFolder::episodeNumber(const std::string& fileName) {
  const std::string prefix = "episode_", suffix = ".hdf5";
  if (!fileName.starts_with(prefix) || !fileName.ends_with(suffix)) return -1;
  std::string digits = fileName.substr(prefix.size(), fileName.size() - prefix.size() - suffix.size());
  if (digits.empty() || digits.size() > 9 || !std::all_of(digits.begin(), digits.end(), ::isdigit)) return -1;
  return std::stoi(digits);
}

std::vector<std::string> DatasetFolder::episodePaths() const {
  std::vector<std::pair<int, std::string>> numbered;
  for (const auto& entry : fs::directory_iterator(path_)) {
    int number = episodeNumber(entry.path().filename().string());
    if (number >= 0) numbered.emplace_back(number, entry.path().string());
  }
  std::sort(numbered.begin(), numbered.end());
  std::vector<std::string> paths;
  for (auto& [number, path] : numbered)
    paths.push_back(path);
  return paths;
}

int DatasetFolder::nextEpisodeNumber() const {
  int highest = -1;
  for (const auto& entry : fs::directory_iterator(path_))
    highest = std::max(highest, episodeNumber(entry.path().filename().string()));
  return highest + 1;
}

std::unique_ptr<EpisodeWriter> DatasetFolder::createEpisode(const EpisodeInfo& info,
                                                            WriterOptions options) const {
  for (int attempt = 0; attempt < 100; ++attempt) {
    fs::path file = fs::path(path_) / ("episode_" + std::to_string(nextEpisodeNumber() + attempt) + ".hdf5");
    if (fs::exists(file)) continue;
    try {
      return std::make_unique<EpisodeWriter>(file.string(), info, options);
    } catch (const RecorderError&) {
      if (!fs::exists(file)) throw;  // a real failure, not a race for the number
    }
  }
  throw RecorderError(path_ + ": could not claim a new episode number");
}

}  // namespace flywheel
