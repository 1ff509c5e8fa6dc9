#include <atomic>
#include <chrono>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <thread>

#include "app/cli/command_support.hpp"
#include "app/cli/commands.hpp"
#include "app/cli/terminal_keys.hpp"
#include "app/studio.hpp"
#include "core/config.hpp"
#include "devices/rig.hpp"
#include "devices/sim/sim_world.hpp"
#include "recorder/dataset_index.hpp"
#include "recorder/episode_reader.hpp"
#include "recorder/labels.hpp"

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

namespace flywheel::app {

namespace {

std::string formatSeconds(double s) {
  char text[32];
  std::snprintf(text, sizeof text, "%.2f s", s);
  return text;
}

std::string outcomeText(const std::optional<bool>& success) {
  if (!success) return "";
  return *success ? ", success" : ", failure";
}

// Keys while recording from a terminal, as LeRobot's: save now, re-record, stop.
enum class Key { None, Save, Rerecord, Stop };

Key keyOf(char c) {
  if (c == 'n' || c == '\n' || c == ' ') return Key::Save;
  if (c == 'r') return Key::Rerecord;
  if (c == 'q' || c == 27) return Key::Stop;
  return Key::None;
}

// Reports episodes a crash left behind: they stay, marked in the index for what they are.
void reportDatasetState(const DatasetFolder& dataset) {
  std::vector<EpisodeEntry> entries = DatasetIndex(dataset.path()).rebuild();
  for (const EpisodeEntry& e : entries) {
    if (e.status == EpisodeStatus::Incomplete)
      std::cout << "  found " << e.file << ", "
                << (e.problem.empty() ? "interrupted while recording" : e.problem) << ": " << e.ticks
                << " ticks (" << formatSeconds(e.duration) << ") kept, marked incomplete in index.json\n";
    if (e.status == EpisodeStatus::Damaged)
      std::cout << "  found " << e.file << ", damaged: " << e.problem << " (left as it is)\n";
  }
}

void resetCountdown(double seconds, const TerminalKeys& keys) {
  for (int left = static_cast<int>(std::ceil(seconds)); left > 0 && !interruptRequested(); --left) {
    std::cout << "\r  reset the scene: next take in " << left << " s " << std::flush;
    auto until = std::chrono::steady_clock::now() + std::chrono::seconds(1);
    while (std::chrono::steady_clock::now() < until && !interruptRequested()) {
      if (keyOf(keys.poll()) == Key::Save) left = 1;  // skip the rest of the reset
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  }
  if (seconds > 0) std::cout << "\r" << std::string(40, ' ') << "\r" << std::flush;
}

}  // namespace

int runRecord(const RecordOptions& options) {
  LabelText text{{"--task", options.task}, {"--operator", options.operatorName}};
  for (const std::string& tag : options.tags)
    text.emplace_back("--tag", tag);
  if (!labelTextIsUtf8(text)) return 2;
  RigConfig config = loadRigConfig(options.rig);
  if (!fastAllowed(config, options.fast)) return 2;
  const auto ticks = static_cast<std::uint64_t>(std::llround(options.seconds * config.recordRateHz));
  if (ticks == 0) {
    std::cerr << "flywheel: --seconds " << options.seconds << " is shorter than one recorded tick\n";
    return 2;
  }
  DatasetFolder dataset(options.out);
  const double resetSeconds = options.resetSeconds.value_or(config.isSimulated() ? 0.0 : 5.0);
  TakeOptions take{options.task,
                   options.operatorName,
                   options.tags,
                   options.jpeg ? ImageStorage::Jpeg : ImageStorage::Raw,
                   options.jpegQuality,
                   options.seed.value_or(config.sim.seed),
                   ticks};
  Studio studio(std::move(config), options.fast);
  catchInterrupts();
  std::cout << "Recording " << options.episodes << " episode(s) of " << ticks << " ticks ("
            << formatSeconds(static_cast<double>(ticks) / studio.config().recordRateHz) << ") from rig '"
            << studio.config().name << "' into " << dataset.path() << "\n";
  reportDatasetState(dataset);
  for (const std::string& warning : studio.rig().warnings())
    std::cout << "  warning: " << warning << "\n";
  studio.start(&studio.teleop());
  TerminalKeys keys;
  if (keys.active()) std::cout << "  keys: n = save now, r = re-record, q = stop\n";

  int saved = 0, status = 0;
  bool stop = false;
  for (int episode = 0; episode < options.episodes && !interruptRequested() && !stop; ++episode) {
    if (episode > 0) resetCountdown(resetSeconds, keys);
    // A rig with several bins and a task that names none of them (the default): each episode's
    // instruction is drawn from its seed, and stored as its task.
    if (sim::instructedBin(studio.config().sim, options.task) < 0)
      take.task = sim::defaultInstruction(studio.config().sim, take.seed);
    std::string path = studio.beginTake(dataset, take);
    ++take.seed;
    Key key = Key::None;
    while (!studio.recorder().reachedLength() && !interruptRequested() && studio.loop().running() &&
           studio.recorder().failure().empty() && key == Key::None) {
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
      key = keyOf(keys.poll());
    }
    if (key == Key::Rerecord) {
      std::cout << "  " << studio.discardTake() << ": discarded, recording it again\n";
      --episode;
      continue;
    }
    stop = key == Key::Stop;
    try {
      EpisodeResult result = studio.endTake();
      ++saved;
      // The outcome printed is the one the file holds: sampled once, at the take's last tick.
      std::cout << "  " << result.path << ": " << result.stats.written << " ticks, "
                << formatSeconds(result.seconds) << outcomeText(result.success) << ", "
                << result.stats.dropped << " dropped";
      for (std::size_t c = 0; c < result.stats.cameras.size(); ++c)
        if (result.stats.cameras[c].repeatedFrames > 0)
          std::cout << ", " << studio.config().cameras[c].name << " repeated "
                    << result.stats.cameras[c].repeatedFrames;
      std::cout << (result.complete ? "" : ", saved as incomplete") << "\n";
      if (!result.complete) {
        std::cerr << "flywheel: the take was cut short: " << result.stopReason << "\n  " << result.path
                  << " keeps what was recorded up to then, marked incomplete with the reason.\n";
        status = 1;
        break;
      }
    } catch (const RecorderError& e) {
      std::cerr << "flywheel: recording stopped: " << e.what()
                << "\n  what was written up to then is kept; earlier episodes are untouched.\n";
      status = 1;
      break;
    }
    if (std::string error = studio.loop().status().error; !error.empty()) {
      std::cerr << "flywheel: the control loop stopped: " << error << "\n";
      status = 1;
      break;
    }
  }
  studio.stop();
  auto stats = studio.loop().stats();
  std::cout << "Saved " << saved << " episode(s) in " << dataset.path()
            << ". Control loop: " << std::lround(stats.achievedRateHz) << " Hz achieved of "
            << std::lround(studio.config().controlRateHz) << " Hz, jitter p99 "
            << std::lround(stats.jitterP99 * 1e6) << " us, " << stats.overruns << " overruns.\n";
  printBusCounters(studio);  // on every path: what each bus went through is the first clue after an error
  return status != 0 ? status : interruptExitCode(0);
}

int runDemo(const std::string& rig, const std::string& out) {
  RigConfig config = loadRigConfig(rig);
  RecordOptions options;
  options.rig = rig;
  options.out = out.empty() ? defaultDataFolder(config.name) : out;
  options.episodes = 1;
  options.seconds = 10.0;
  int status = runRecord(options);
  if (status == 0)
    std::cout << "Look inside with: flywheel inspect " << DatasetFolder(options.out).episodePaths().back()
              << "\n";
  return status;
}

namespace {
void savePngs(const EpisodeReader& reader, const EpisodeSummary& summary, const std::string& folder,
              std::size_t tick) {
  std::filesystem::create_directories(folder);
  for (const CameraSummary& cam : summary.cameras) {
    Image image = reader.readFrame(cam.name, tick);
    cv::Mat rgb(image.height, image.width, CV_8UC3, const_cast<std::uint8_t*>(image.pixels.get()));
    cv::Mat bgr;
    cv::cvtColor(rgb, bgr, cv::COLOR_RGB2BGR);
    std::string file =
        (std::filesystem::path(folder) / (cam.name + "_" + std::to_string(tick) + ".png")).string();
    if (!cv::imwrite(file, bgr)) throw RecorderError(file + ": cannot be written");
    std::printf("  saved %s\n", file.c_str());
  }
}
}  // namespace

int runInspect(const std::string& path, const std::string& framesFolder, std::size_t tick) {
  EpisodeReader reader(path);
  EpisodeSummary s = reader.summary();
  if (s.problem.empty()) {
    try {
      readLabelsOf(reader.file());  // damaged labels make the episode damaged, as in `list`
    } catch (const std::exception& e) {
      s.problem = e.what();
    }
  }
  std::printf("%s\n", s.path.c_str());
  std::printf("  task        %s\n", s.task.c_str());
  std::printf("  rig         %s%s\n", s.rigName.c_str(), s.sim ? " (simulated)" : "");
  std::printf("  length      %zu ticks at %.1f fps = %.2f s (measured %.2f s)\n", s.ticks, s.fps,
              s.fps > 0 ? static_cast<double>(s.ticks) / s.fps : 0.0, s.measuredDuration);
  std::printf("  joints      %zu\n", s.joints);
  const std::string incomplete = s.stopReason.empty() ? "no (interrupted while recording)"
                                                      : "no (cut short: " + printable(s.stopReason) + ")";
  std::printf("  complete    %s%s\n", s.complete ? "yes" : incomplete.c_str(),
              s.success ? (*s.success ? ", success" : ", failure") : "");
  std::printf("  recorded    %s by %s\n", s.startTime.c_str(), s.softwareVersion.c_str());
  std::printf("  cameras\n");
  for (const CameraSummary& cam : s.cameras)
    std::printf("    %-18s %zu frames of %dx%dx3 (HxWx3), %zu repeated\n", cam.name.c_str(), cam.frames,
                cam.height, cam.width, cam.repeatedFrames);
  std::printf("  datasets\n");
  for (const DatasetShape& d : s.datasets) {
    std::string shape;
    for (auto dim : d.shape)
      shape += (shape.empty() ? "" : ", ") + std::to_string(dim);
    std::printf("    %-42s [%s] %s\n", d.path.c_str(), shape.c_str(), d.dtype.c_str());
  }
  if (!s.problem.empty()) {  // what could be read is shown above; nothing past the damage is read
    std::printf("  damaged     %s\n", s.problem.c_str());
    return 1;
  }
  if (!framesFolder.empty()) savePngs(reader, s, framesFolder, tick);
  return 0;
}

}  // namespace flywheel::app
