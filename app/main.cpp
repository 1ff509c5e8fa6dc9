// flywheel: the studio's command-line entry point. With no command it opens the GUI when a display
// exists, otherwise it records a demo episode on the simulated rig and says where it went.
#include <CLI/CLI.hpp>

#include <cstdlib>
#include <iostream>

#include "app/commands.hpp"

namespace {

bool haveDisplay() {
  const char* x = std::getenv("DISPLAY");
  const char* wayland = std::getenv("WAYLAND_DISPLAY");
  return (x && *x) || (wayland && *wayland);
}

}  // namespace

int main(int argc, char** argv) {
  using namespace flywheel::app;
  CLI::App cli{"Flywheel Studio: record robot demonstrations and run policies on leader-follower arms."};
  cli.require_subcommand(0, 1);
  cli.set_version_flag("--version", std::string("flywheel ") + FLYWHEEL_VERSION);

  GuiOptions guiOptions;
  auto* gui = cli.add_subcommand("gui", "Open the studio window (the default when a display exists).");
  gui->add_option("--rig", guiOptions.rig, "Rig file, or a bundled rig: sim, sim-aloha")
      ->capture_default_str();
  gui->add_option("--out", guiOptions.out, "Dataset folder (default: ~/flywheel-data/<rig>)");
  gui->add_option("--screenshot", guiOptions.screenshot,
                  "Save the window as this PNG after --delay seconds and quit");
  gui->add_option("--delay", guiOptions.screenshotDelay, "Seconds before the screenshot")
      ->capture_default_str();

  std::string demoRig = "sim", demoOut;
  auto* demo = cli.add_subcommand("demo", "Record one episode on a simulated rig without a window.");
  demo->add_option("--rig", demoRig, "Rig file, or a bundled rig: sim, sim-aloha")->capture_default_str();
  demo->add_option("--out", demoOut, "Dataset folder (default: ~/flywheel-data/<rig>)");

  RecordOptions record;
  auto* rec = cli.add_subcommand("record", "Record teleoperated episodes to HDF5 (ALOHA layout).");
  rec->add_option("--rig", record.rig, "Rig file, or a bundled rig: sim, sim-aloha")->required();
  rec->add_option("--out", record.out, "Dataset folder; created if missing, existing episodes are kept")
      ->required();
  rec->add_option("--episodes", record.episodes, "Number of episodes")
      ->capture_default_str()
      ->check(CLI::Range(1, 100000));
  rec->add_option("--seconds", record.seconds, "Length of every episode (fixed, so episodes stack)")
      ->capture_default_str()
      ->check(CLI::Range(0.02, 86400.0));
  rec->add_option("--task", record.task, "Language instruction stored with each episode")
      ->capture_default_str();
  rec->add_flag("--fast", record.fast, "Simulated rigs: run faster than real time");
  rec->add_option("--seed", record.seed, "Simulated rigs: seed of the first episode (default: the rig's)");

  std::string inspectPath, framesFolder;
  std::size_t frameTick = 0;
  auto* inspect =
      cli.add_subcommand("inspect", "Describe an episode file: layout, length, fps, task, frames.");
  inspect->add_option("FILE", inspectPath, "Episode file (.hdf5)")->required();
  inspect->add_option("--png", framesFolder,
                      "Also save every camera's frame at --tick as PNG in this folder");
  inspect->add_option("--tick", frameTick, "Tick of the frames saved with --png")->capture_default_str();

  BenchOptions bench;
  auto* benchCmd =
      cli.add_subcommand("bench", "Measure the control loop and the recorder on simulated rigs.");
  benchCmd->add_option("--seconds", bench.seconds, "Recording length for the recorder figures")
      ->capture_default_str()
      ->check(CLI::Range(1.0, 600.0));

  CLI11_PARSE(cli, argc, argv);

  try {
    if (*rec) return runRecord(record);
    if (*inspect) return runInspect(inspectPath, framesFolder, frameTick);
    if (*benchCmd) return runBench(bench);
    if (*demo) return runDemo(demoRig, demoOut);
    if (*gui || haveDisplay()) return runGui(argc, argv, guiOptions);
    std::cout << "No display found: recording a demo episode on the simulated rig instead of opening the "
                 "window.\n";
    return runDemo("sim", "");
  } catch (const std::exception& e) {
    std::cerr << "flywheel: " << e.what() << "\n";
    return 1;
  }
}
