// `flywheel bench`: the control loop's timing at 500 Hz, and the recorder on sim-aloha (four 480x640
// cameras at 50 Hz) in real time and faster than real time. Figures, not pass/fail: read them.
#include <fcntl.h>
#include <sys/resource.h>
#include <unistd.h>

#include <fstream>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <thread>

#include "app/cli/commands.hpp"
#include "app/studio.hpp"
#include "core/config.hpp"
#include "core/loop_stats.hpp"
#include "devices/servo/servo_arm.hpp"
#include "devices/servo/servo_emulator.hpp"

namespace flywheel::app {

namespace {

double wallSeconds() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

double cpuSeconds() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return static_cast<double>(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) +
         static_cast<double>(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) * 1e-6;
}

// VmHWM / VmRSS from /proc, in MiB; resetPeakRss() starts a new peak (Linux >= 4.0).
double procStatusMiB(const std::string& field) {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line))
    if (line.starts_with(field + ":")) return std::stod(line.substr(field.size() + 1)) / 1024.0;
  return 0.0;
}
double peakRssMiB() {
  return procStatusMiB("VmHWM");
}
double rssMiB() {
  return procStatusMiB("VmRSS");
}
void resetPeakRss() {
  std::ofstream("/proc/self/clear_refs") << "5";
}

void benchLoop(double seconds) {
  RigConfig config = loadRigConfig("sim");
  config.controlRateHz = 500.0;
  config.recordRateHz = 50.0;
  Studio studio(std::move(config));
  studio.start(&studio.teleop());
  std::this_thread::sleep_for(std::chrono::milliseconds(200));  // let cameras and caches settle
  studio.loop().resetStats();
  std::this_thread::sleep_for(std::chrono::duration<double>(seconds));
  studio.stop();
  LoopStatsSummary s = studio.loop().stats();
  std::printf("control loop, sim rig at 500 Hz for %.0f s (%s priority, 2 cameras rendering at 30 fps)\n",
              seconds, studio.loop().realTimePriority() ? "SCHED_FIFO" : "normal");
  std::printf("  ticks %llu, measured rate %.1f Hz, overruns %llu\n",
              static_cast<unsigned long long>(s.ticks), s.rateHz,
              static_cast<unsigned long long>(s.overruns));
  std::printf("  software time per tick   p50 %7.1f us   p99 %7.1f us   max %7.1f us\n", s.workP50 * 1e6,
              s.workP99 * 1e6, s.workMax * 1e6);
  std::printf("  period jitter            p50 %7.1f us   p99 %7.1f us   max %7.1f us\n", s.jitterP50 * 1e6,
              s.jitterP99 * 1e6, s.jitterMax * 1e6);
}

struct RecordFigures {
  EpisodeResult result;
  LoopStatsSummary loop;
  double wall = 0.0, cpu = 0.0, closeSeconds = 0.0;
  double rssEarly = 0.0, rssLate = 0.0, peakRss = 0.0;  // MiB: a sixth of the way in, at the end, peak
};

RecordFigures recordOnce(double seconds, bool fasterThanRealTime, const std::filesystem::path& folder) {
  RigConfig config = loadRigConfig("sim-aloha");
  const auto ticks = static_cast<std::uint64_t>(seconds * config.recordRateHz);
  DatasetFolder dataset(folder.string());
  Studio studio(std::move(config), fasterThanRealTime);
  studio.start(&studio.teleop());
  RecordFigures figures;
  studio.beginTake(dataset, TakeOptions{"bench", "", {}, ImageStorage::Raw, 90, 7, ticks});
  studio.loop().resetStats();
  const double wallStart = wallSeconds(), cpuStart = cpuSeconds();
  resetPeakRss();
  while (!studio.recorder().reachedLength()) {
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
    const double progress =
        static_cast<double>(studio.recorder().ticksRecorded()) / static_cast<double>(ticks);
    if (figures.rssEarly == 0.0 && progress >= 1.0 / 6.0) figures.rssEarly = rssMiB();
  }
  figures.rssLate = rssMiB();
  figures.peakRss = peakRssMiB();
  const double lastTick = wallSeconds();
  figures.loop = studio.loop().stats();
  figures.result = studio.endTake();
  const double closed = wallSeconds();
  studio.stop();
  figures.wall = closed - wallStart;
  figures.cpu = cpuSeconds() - cpuStart;
  figures.closeSeconds = closed - lastTick;
  std::filesystem::remove(figures.result.path);
  return figures;
}

double threadCpuSeconds() {
  timespec t{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
  return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_nsec) * 1e-9;
}

ArmConfig benchArm(const std::string& name, int servos, const std::string& port) {
  ArmConfig arm;
  arm.name = name;
  arm.port = port;
  arm.model = "xl430-w250";
  for (int id = 1; id <= servos; ++id)
    arm.joints.push_back({"joint" + std::to_string(id), id, -3.0, 3.0});
  return arm;
}

// Client-side CPU per sync transaction (the emulator runs on another thread and is not counted), and the
// wall time from reading a leader to having written its follower, over pseudo-terminals.
void benchServoBus(int servos, int transactions) {
  const ServoModel& model = *findServoModel("xl430-w250");
  std::vector<std::uint8_t> ids;
  for (int id = 1; id <= servos; ++id)
    ids.push_back(static_cast<std::uint8_t>(id));
  ServoEmulator leaderBus(model.protocol, model, ids), followerBus(model.protocol, model, ids);
  ArmConfig leaderConfig = benchArm("leader", servos, leaderBus.start());
  ArmConfig followerConfig = benchArm("follower", servos, followerBus.start());
  ServoArm leader(leaderConfig, model, std::make_shared<ServoBus>(model.protocol, leaderConfig.port, 1000000),
                  ServoArm::defaultCalibration(leaderConfig, model));
  ServoArm follower(followerConfig, model,
                    std::make_shared<ServoBus>(model.protocol, followerConfig.port, 1000000),
                    ServoArm::defaultCalibration(followerConfig, model));
  leader.connect();
  follower.connect();
  std::vector<double> readCpu, writeCpu, latency;
  for (int i = 0; i < transactions; ++i) {
    const double wall0 = wallSeconds(), cpu0 = threadCpuSeconds();
    JointState state = leader.read();
    const double cpu1 = threadCpuSeconds();
    follower.write(state.position);
    const double cpu2 = threadCpuSeconds(), wall1 = wallSeconds();
    readCpu.push_back(cpu1 - cpu0);
    writeCpu.push_back(cpu2 - cpu1);
    latency.push_back(wall1 - wall0);
  }
  std::printf(
      "  %2d servos: sync read %6.1f us CPU, sync write %5.1f us CPU (p50); leader read -> follower write "
      "p50 %6.0f us, p99 %6.0f us\n",
      servos, percentile(readCpu, 0.5) * 1e6, percentile(writeCpu, 0.5) * 1e6, percentile(latency, 0.5) * 1e6,
      percentile(latency, 0.99) * 1e6);
}

// The writer alone against two baselines on the same disk: the same bytes written with plain write()
// calls (what the disk can take), and the h5py writer in tests/bench (ALOHA's way: ./studio bench).
void benchWriterThroughput(const std::filesystem::path& folder, std::uint64_t ticks) {
  RigConfig config = loadRigConfig("sim-aloha");
  EpisodeInfo info = EpisodeRecorder::infoFor(config, "bench");
  std::vector<std::shared_ptr<const std::uint8_t[]>> pixels;
  for (int c = 0; c < 4; ++c) {
    std::shared_ptr<std::uint8_t[]> frame(new std::uint8_t[480 * 640 * 3]);
    for (int i = 0; i < 480 * 640 * 3; ++i)
      frame[i] = static_cast<std::uint8_t>((i * 7 + c * 31) & 0xFF);
    pixels.push_back(frame);
  }
  Observation obs;
  obs.state = JointState::zeros(14);
  obs.action = JointVector(14, 0.1);
  for (int c = 0; c < 4; ++c)
    obs.frames.push_back({{640, 480, pixels[c]}, 0.0, 1});

  std::filesystem::create_directories(folder);
  const std::string episode = (folder / "writer.hdf5").string(), plain = (folder / "plain.bin").string();
  auto timeWriter = [&] {
    const double start = wallSeconds();
    {
      EpisodeWriter writer(episode, info);
      for (std::uint64_t t = 0; t < ticks; ++t) {
        obs.time = static_cast<double>(t) / 50.0;
        writer.pushBlocking(obs);
      }
      writer.finish(true);  // includes the last fdatasync
    }
    return wallSeconds() - start;
  };
  auto timePlain = [&] {
    const double start = wallSeconds();
    int fd = ::open(plain.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    for (std::uint64_t t = 0; t < ticks; ++t)
      for (int c = 0; c < 4; ++c)
        if (::write(fd, pixels[c].get(), 480 * 640 * 3) < 0) break;
    ::fdatasync(fd);
    ::close(fd);
    return wallSeconds() - start;
  };
  // Alternated, several rounds: the disk and the page cache are shared and still busy with what came
  // before, so one round says little. The median and the spread (min-max) are reported; ./studio bench
  // pairs each round with one of the h5py baseline.
  constexpr int kRounds = 5;
  std::vector<double> plainSeconds, writerSeconds, ratios;
  double bytes = 0.0;
  for (int round = 0; round < kRounds; ++round) {
    plainSeconds.push_back(timePlain());
    std::filesystem::remove(plain);
    writerSeconds.push_back(timeWriter());
    bytes = static_cast<double>(std::filesystem::file_size(episode));
    std::filesystem::remove(episode);
    ratios.push_back(plainSeconds.back() / writerSeconds.back());
  }
  const double mib = bytes / (1024.0 * 1024.0);
  std::printf("\nwriter alone, %llu sim-aloha ticks (%.0f MiB), synced to disk at the end, %d rounds\n",
              static_cast<unsigned long long>(ticks), mib, kRounds);
  for (int round = 0; round < kRounds; ++round)
    std::printf("  round %d: flywheel writer %7.1f MiB/s, plain write() %7.1f MiB/s\n", round + 1,
                mib / writerSeconds[static_cast<std::size_t>(round)],
                mib / plainSeconds[static_cast<std::size_t>(round)]);
  std::printf("  flywheel writer      %7.1f MiB/s (median)\n", mib / percentile(writerSeconds, 0.5));
  std::printf("  plain write() calls  %7.1f MiB/s (median)\n", mib / percentile(plainSeconds, 0.5));
  std::printf("  writer / plain       %7.2f (median; %.2f-%.2f)\n", percentile(ratios, 0.5),
              percentile(ratios, 0.0), percentile(ratios, 1.0));
}

}  // namespace

int runBench(const BenchOptions& options) {
  const auto folder =
      std::filesystem::temp_directory_path() / ("flywheel-bench-" + std::to_string(::getpid()));
  std::printf("flywheel bench (%u cores)\n\n", std::thread::hardware_concurrency());
  benchLoop(std::max(2.0, options.seconds / 3.0));

  std::printf(
      "\nservo buses over the pseudo-terminal emulator (Dynamixel 2.0, position+velocity+current per "
      "servo)\n");
  benchServoBus(6, 2000);
  benchServoBus(14, 2000);

  RecordFigures live = recordOnce(options.seconds, false, folder);
  const double mib = static_cast<double>(live.result.stats.bytes) / (1024.0 * 1024.0);
  std::printf("\nrecording sim-aloha in real time: %.0f s, 4 cameras 480x640 at 50 fps, 14 joints, 50 Hz\n",
              options.seconds);
  std::printf("  ticks written %llu, dropped %llu, loop overruns %llu, writer queue peak %zu ticks\n",
              static_cast<unsigned long long>(live.result.stats.written),
              static_cast<unsigned long long>(live.result.stats.dropped),
              static_cast<unsigned long long>(live.loop.overruns), live.result.stats.queuePeak);
  std::printf("  loop jitter p99 %.1f us, work p99 %.1f us\n", live.loop.jitterP99 * 1e6,
              live.loop.workP99 * 1e6);
  std::printf("  %.0f MiB at %.1f MiB/s, file closed %.0f ms after the last tick\n", mib, mib / live.wall,
              live.closeSeconds * 1e3);
  std::printf("  CPU %.0f%% of one core; RSS %.0f MiB a sixth in, %.0f MiB at the end, peak %.0f MiB\n",
              100.0 * live.cpu / live.wall, live.rssEarly, live.rssLate, live.peakRss);

  RecordFigures fast = recordOnce(options.seconds, true, folder);
  const double fastMib = static_cast<double>(fast.result.stats.bytes) / (1024.0 * 1024.0);
  std::printf("\nrecording sim-aloha faster than real time (rendering, stepping and writing flat out)\n");
  std::printf("  %.0f s of episode in %.2f s wall: real-time factor %.2f, %.1f MiB/s, dropped %llu\n",
              fast.result.seconds, fast.wall, fast.result.seconds / fast.wall, fastMib / fast.wall,
              static_cast<unsigned long long>(fast.result.stats.dropped));
  std::printf("  RSS %.0f MiB a sixth in, %.0f MiB at the end, peak %.0f MiB\n", fast.rssEarly, fast.rssLate,
              fast.peakRss);
  benchWriterThroughput(folder, static_cast<std::uint64_t>(std::max(50.0, options.seconds * 10.0)));
  std::filesystem::remove_all(folder);
  return 0;
}

}  // namespace flywheel::app
