// `flywheel bench-quality EPISODE`: what episode quality costs. The metrics of one episode (as the writer
// measures them at save) against reading its summary, which every listing already does; and indexing N
// copies of it stripped of /quality (an old dataset): the first index measures every file, the second
// takes the measurements from index.json. tests/bench/bench_quality.sh records the episodes it uses.
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>

#include "app/cli/commands.hpp"
#include "recorder/dataset_index.hpp"
#include "recorder/episode_quality.hpp"
#include "recorder/episode_reader.hpp"
#include "recorder/h5.hpp"

namespace flywheel::app {

namespace fs = std::filesystem;

namespace {

template <class Work>
double medianSeconds(int repeat, Work&& work) {
  std::vector<double> seconds;
  for (int i = 0; i < repeat; ++i) {
    const auto start = std::chrono::steady_clock::now();
    work();
    seconds.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
  }
  std::sort(seconds.begin(), seconds.end());
  return seconds[seconds.size() / 2];
}

// A copy of the episode as recorded before quality was stored: no /quality, no writer counters.
void stripQuality(const std::string& path) {
  h5::Handle file = h5::openExisting(path, H5F_ACC_RDWR);
  if (H5Lexists(file, "quality", H5P_DEFAULT) > 0 && H5Ldelete(file, "quality", H5P_DEFAULT) < 0)
    throw RecorderError(path + ": cannot remove /quality");
  for (const char* name : {"dropped_ticks", "bus_retries", "failed_ticks"})
    if (H5Aexists(file, name) > 0 && H5Adelete(file, name) < 0) throw RecorderError(path + ": cannot edit");
}

void benchIndex(const std::string& episode, int copies) {
  const fs::path folder =
      fs::temp_directory_path() / ("flywheel-bench-quality-" + std::to_string(::getpid()));
  fs::create_directories(folder);
  try {
    const fs::path first = folder / "episode_0.hdf5";
    fs::copy_file(episode, first);
    stripQuality(first.string());
    for (int i = 1; i < copies; ++i)
      fs::copy_file(first, folder / ("episode_" + std::to_string(i) + ".hdf5"));
    DatasetIndex index(folder.string());
    std::size_t judged = 0;
    const double measured = medianSeconds(1, [&] {
      for (const EpisodeEntry& e : index.rebuild())
        judged += e.quality.has_value();
    });
    const double cached = medianSeconds(1, [&] { index.rebuild(); });
    std::printf("index of %d old episodes: %.2f s measuring (%zu judged), %.2f s from the cache (%.2fx)\n",
                copies, measured, judged, cached, cached > 0 ? measured / cached : 0.0);
  } catch (...) {
    fs::remove_all(folder);
    throw;
  }
  fs::remove_all(folder);
}

}  // namespace

int runQualityBench(const QualityBenchOptions& options) {
  EpisodeSummary summary = EpisodeReader(options.episode).summary();
  if (!summary.problem.empty()) throw RecorderError(options.episode + ": " + summary.problem);
  const double metrics = medianSeconds(options.repeat, [&] { measureEpisode(options.episode); });
  const double baseline = medianSeconds(options.repeat, [&] { EpisodeReader(options.episode).summary(); });
  std::printf("metrics of a %.1f s episode (%zu ticks, %zu cameras): %.1f ms; its summary %.1f ms (%.2fx)\n",
              summary.measuredDuration, summary.ticks, summary.cameras.size(), metrics * 1e3, baseline * 1e3,
              baseline > 0 ? metrics / baseline : 0.0);
  if (options.copies > 0) benchIndex(options.episode, options.copies);
  return 0;
}

}  // namespace flywheel::app
