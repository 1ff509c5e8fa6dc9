// The `flywheel` subcommands. Each returns the process exit code and reports errors on stderr.
#pragma once

#include <optional>
#include <string>

namespace flywheel::app {

struct RecordOptions {
  std::string rig = "sim";
  std::string out;
  int episodes = 1;
  double seconds = 10.0;
  std::string task = "pick up the cube and place it in the bin";
  bool fast = false;  // simulated rigs only: run faster than real time
  std::optional<unsigned> seed;
};

struct BenchOptions {
  double seconds = 30.0;  // recording duration; the loop runs for a third of it
};

int runRecord(const RecordOptions& options);
int runDemo(const std::string& rig, const std::string& out);
// With framesFolder set, also writes each camera's frame at `tick` there as PNG.
int runInspect(const std::string& path, const std::string& framesFolder = "", std::size_t tick = 0);
int runBench(const BenchOptions& options);
struct GuiOptions {
  std::string rig = "sim";
  std::string out;
  std::string screenshot;  // save the window as PNG after `screenshotDelay` seconds, then quit
  double screenshotDelay = 3.0;
};

int runGui(int argc, char** argv, const GuiOptions& options);

std::string defaultDataFolder(const std::string& rigName);

}  // namespace flywheel::app
