// flywheel: the studio's command-line entry point. With no command it opens the GUI when a display
// exists, otherwise it records a demo episode on the simulated rig and says where it went.
#include <CLI/CLI.hpp>

#include <csignal>
#include <cstdlib>
#include <iostream>

#include "app/cli/commands.hpp"
#include "app/gui/run_gui.hpp"

namespace {

const char* const kSupervisorHelp =
    "scripted: simulated rigs, the scripted operator takes over (by the leader arm) when the robot goes "
    "wrong, and hands back once it is on track";
const char* const kRecordJpegHelp =
    "--record: store frames as JPEG (ALOHA's compressed layout; about 1/40 of raw) instead of raw";

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
  gui->add_option("--screenshots", guiOptions.screenshotFolder,
                  "Save every view at 1280x800 and 1920x1080 in this folder and quit");
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
  rec->add_option("--reset-seconds", record.resetSeconds,
                  "Countdown between takes (default: 0 simulated, 5 real)")
      ->check(CLI::Range(0.0, 600.0));
  rec->add_option("--operator", record.operatorName, "Who is recording (stored with each episode)");
  rec->add_option("--tag", record.tags, "A tag for each episode (repeat for more)")->allow_extra_args(false);
  rec->add_flag("--jpeg", record.jpeg, "Store frames as JPEG in ALOHA's compressed layout instead of raw");
  rec->add_option("--jpeg-quality", record.jpegQuality, "JPEG quality")
      ->capture_default_str()
      ->check(CLI::Range(10, 100));

  std::string inspectPath, framesFolder;
  std::size_t frameTick = 0;
  auto* inspect =
      cli.add_subcommand("inspect", "Describe an episode file: layout, length, fps, task, frames.");
  inspect->add_option("FILE", inspectPath, "Episode file (.hdf5)")->required();
  inspect->add_option("--png", framesFolder,
                      "Also save every camera's frame at --tick as PNG in this folder");
  inspect->add_option("--tick", frameTick, "Tick of the frames saved with --png")->capture_default_str();

  double watchSeconds = 0.0;
  auto* devices =
      cli.add_subcommand("devices", "List USB-serial adapters (with serial numbers) and cameras.");
  devices->add_option("--watch", watchSeconds, "Then report plug and unplug events for this many seconds");

  EmulateOptions emulate;
  auto* emulateCmd = cli.add_subcommand("emulate", "Answer as a chain of servos on a pseudo-terminal.");
  emulateCmd
      ->add_option("--model", emulate.model,
                   "xl330-m077, xl330-m288, xl430-w250, xm430-w350, xm540-w270, sts3215")
      ->capture_default_str();
  emulateCmd->add_option("--ids", emulate.ids, "Servo ids, e.g. 1-6 or 1,2,7")->capture_default_str();
  emulateCmd->add_option("--link", emulate.link, "Also make this path a symlink to the pseudo-terminal");
  emulateCmd->add_option("--drop", emulate.dropRate, "Probability of dropping a reply")
      ->check(CLI::Range(0.0, 1.0));
  emulateCmd->add_option("--corrupt", emulate.corruptRate, "Probability of a corrupt checksum")
      ->check(CLI::Range(0.0, 1.0));
  emulateCmd->add_option("--garbage", emulate.garbageRate, "Probability of noise before a reply")
      ->check(CLI::Range(0.0, 1.0));
  emulateCmd->add_flag("--hand", emulate.hand, "Servos with torque off sway as if moved by hand");
  emulateCmd->add_option("--seconds", emulate.seconds, "Stop after this long (default: at Ctrl-C)");

  CalibrateOptions calibrate;
  auto* calibrateCmd = cli.add_subcommand("calibrate", "Record an arm's home pose and joint ranges.");
  calibrateCmd->add_option("--rig", calibrate.rig, "Rig file")->required();
  calibrateCmd->add_option("--arm", calibrate.arm, "Arm to calibrate")->required();
  calibrateCmd->add_flag("--force", calibrate.force, "Replace an existing calibration (kept as .bak)");
  calibrateCmd->add_option("--range-seconds", calibrate.rangeSeconds,
                           "Sample the ranges this long instead of until Enter");

  LabelOptions label;
  auto* labelCmd =
      cli.add_subcommand("label", "Set the task, success, notes, tags and language segments of episodes.");
  // Not checked here: each file that cannot be labelled is reported and the others are still labelled.
  labelCmd->add_option("FILES", label.files, "Episode files")->required();
  labelCmd->add_option("--task", label.task, "The language instruction");
  labelCmd->add_option("--success", label.success, "yes, no or unknown")
      ->check(CLI::IsMember({"yes", "no", "unknown"}));
  labelCmd->add_option("--notes", label.notes, "Free text");
  labelCmd->add_option("--tag", label.tags, "Tags (replace the episode's tags; repeat for more)")
      ->allow_extra_args(false);
  labelCmd
      ->add_option("--segment", label.segments,
                   "START:END:TEXT in seconds, e.g. 0:2.5:pick up the sponge (repeat)")
      ->allow_extra_args(false);
  labelCmd->add_flag("--clear-segments", label.clearSegments, "Remove the existing segments first");
  auto* trimOption = labelCmd->add_option(
      "--trim", label.trim,
      "START:END in seconds: the part training and exports use (an empty side is untrimmed, : clears)");
  labelCmd->add_flag("--trim-idle", label.trimIdle, "Trim the idle head and tail (no joint moving)")
      ->excludes(trimOption);

  ListOptions list;
  auto* listCmd = cli.add_subcommand("list", "List a dataset's episodes with their labels.");
  listCmd->add_option("DIR", list.folder, "Dataset folder")->required()->check(CLI::ExistingDirectory);
  listCmd->add_flag("--unlabelled", list.unlabelled, "Only episodes without a task or a success flag");
  listCmd->add_flag("--failed", list.failed, "Only failed episodes");
  listCmd->add_option("--task-contains", list.taskContains, "Only episodes whose task contains this text");
  listCmd->add_flag("--why", list.why, "Print why each episode is judged check or bad under its row");

  std::string renameFolder, renameFrom, renameTo;
  auto* renameCmd = cli.add_subcommand("rename-task", "Rename a task across every episode of a dataset.");
  renameCmd->add_option("DIR", renameFolder, "Dataset folder")->required()->check(CLI::ExistingDirectory);
  renameCmd->add_option("--from", renameFrom, "The task as it is")->required();
  renameCmd->add_option("--to", renameTo, "The task as it should be")->required();

  ExportOptions exportOptions;
  auto* exportCmd =
      cli.add_subcommand("export-manifest", "Write a JSON or CSV manifest of episodes and labels.");
  exportCmd->add_option("DIR", exportOptions.folder, "Dataset folder")
      ->required()
      ->check(CLI::ExistingDirectory);
  exportCmd->add_option("--format", exportOptions.format, "json or csv")
      ->capture_default_str()
      ->check(CLI::IsMember({"json", "csv"}));
  exportCmd->add_option("--out", exportOptions.out, "File to write (default: standard output)");

  CuratedExportOptions curated;
  auto* curatedCmd = cli.add_subcommand(
      "export", "Write a training set: chosen episodes, trims applied, train/val split, a manifest.");
  curatedCmd->add_option("--data", curated.data, "Dataset folder or episode file (repeat for more)")
      ->required()
      ->allow_extra_args(false);
  curatedCmd->add_option("--out", curated.out, "The export folder (built beside it, renamed at the end)")
      ->required();
  curatedCmd->add_option("--format", curated.format, "aloha (ACT's loader) or openpi (its ALOHA converter)")
      ->required();
  curatedCmd->add_flag("--force", curated.force, "Replace an existing, non-empty --out folder");
  curatedCmd->add_option("--task", curated.tasks, "Only this task (repeat: any of them)")
      ->allow_extra_args(false);
  curatedCmd->add_flag("--labelled", curated.labelled, "Only episodes with a task and a success flag");
  curatedCmd->add_option("--outcome", curated.outcomes, "success, failure or unknown (repeat: any of them)")
      ->allow_extra_args(false);
  curatedCmd->add_option("--verdict", curated.verdicts, "good, check or bad (repeat: any of them)")
      ->allow_extra_args(false);
  curatedCmd->add_option("--tag", curated.tags, "Only episodes with this tag (repeat: all of them)")
      ->allow_extra_args(false);
  curatedCmd->add_option("--operator", curated.operators, "Only this operator (repeat: any of them)")
      ->allow_extra_args(false);
  curatedCmd->add_option("--kind", curated.kind, "any, demonstration or policy-run")->capture_default_str();
  curatedCmd->add_option("--val-fraction", curated.valFraction, "Share of the episodes for validation")
      ->capture_default_str()
      ->check(CLI::Range(0.0, 1.0));
  curatedCmd->add_option("--seed", curated.seed, "Seed of the train/validation split")->capture_default_str();
  curatedCmd->add_flag("--jpeg", curated.jpeg, "Frames as JPEG rows, encoded for the format's decoder");
  curatedCmd->add_option("--jpeg-quality", curated.jpegQuality, "JPEG quality")
      ->capture_default_str()
      ->check(CLI::Range(10, 100));
  curatedCmd
      ->add_option("--length", curated.length,
                   "Every episode this many ticks: cut, or padded holding the last frame and action")
      ->check(CLI::Range(1, 10000000));
  curatedCmd->add_flag("--float32", curated.float32, "Joint datasets in float32, as ALOHA stores them");
  curatedCmd->add_option("--camera", curated.cameras, "FROM=TO: export camera FROM as TO (repeat)")
      ->allow_extra_args(false);
  for (int i = 0; i < argc; ++i)
    curated.commandLine += (i ? " " : "") + std::string(argv[i]);

  RunOptions run;
  auto* runCmd =
      cli.add_subcommand("run", "Run a policy on the rig, take over with the leader arm or a key.");
  runCmd->add_option("--rig", run.rig, "Rig file, or a bundled rig: sim, sim-aloha")->required();
  runCmd
      ->add_option("--policy", run.policy,
                   "A TorchScript MODEL.pt, a bundled policy (e.g. sim-pick-place) or ws://HOST:PORT")
      ->required();
  runCmd->add_option("--task", run.task, "The language prompt")->required();
  runCmd->add_option("--seconds", run.seconds, "How long the policy runs")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  runCmd->add_option("--record", run.record, "Save the run as an episode in this dataset folder");
  runCmd->add_flag("--jpeg", run.jpeg, kRecordJpegHelp);
  runCmd->add_flag("--fast", run.fast, "Simulated rigs: simulated time, which waits for every inference");
  runCmd->add_option("--seed", run.seed, "Simulated rigs: the scene of the run (default: the rig's)");
  runCmd->add_option("--mode", run.mode, "Chunk execution: sync, ensemble (ACT) or async")
      ->capture_default_str()
      ->check(CLI::IsMember({"sync", "ensemble", "async"}));
  runCmd
      ->add_option("--execute-steps", run.executeSteps, "Actions of each chunk before asking again (0: half)")
      ->check(CLI::NonNegativeNumber);
  runCmd->add_option("--watchdog", run.watchdogSeconds, "Seconds without an answer before the robot holds")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  runCmd->add_option("--api-key", run.apiKey, "openpi server: sent as 'Authorization: Api-Key KEY'");
  runCmd->add_flag("--insecure", run.insecure, "wss://: accept a self-signed certificate");
  runCmd->add_option(
      "--fallback", run.fallback,
      "A TorchScript MODEL.pt or bundled policy that drives while the main policy does not answer");
  runCmd->add_flag(
      "--wall-latency", run.wallLatency,
      "--fast: simulated time passes for the policy as wall time does (latency and stalls count)");
  runCmd->add_option("--prompt-at", run.promptAt,
                     "SECONDS:TEXT: change the prompt mid-run (repeat for more)");
  runCmd->add_option("--supervisor", run.supervisor, kSupervisorHelp)->check(CLI::IsMember({"scripted"}));
  runCmd->add_option(
      "--takeover-at", run.takeoverAt,
      "START:END: take over at START seconds, hand back at END (as the t key; repeat for more)");

  EvalOptions eval;
  auto* evalCmd = cli.add_subcommand(
      "eval", "Run a policy for N episodes on seeds S, S+1, ... and report its success rate.");
  evalCmd->add_option("--rig", eval.rig, "Rig file, or a bundled rig: sim, sim-aloha")->required();
  evalCmd
      ->add_option("--policy", eval.policy,
                   "A TorchScript MODEL.pt, a bundled policy (e.g. sim-pick-place) or ws://HOST:PORT")
      ->required();
  evalCmd->add_option("--episodes", eval.episodes, "Number of episodes")
      ->capture_default_str()
      ->check(CLI::Range(1, 100000));
  evalCmd->add_option("--seed", eval.seed, "Seed of the first episode's scene (default: the rig's)");
  evalCmd->add_option("--seconds", eval.seconds, "Length of each episode at most")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  auto* evalTask = evalCmd->add_option("--task", eval.task, "The language prompt")->capture_default_str();
  evalCmd
      ->add_option("--prompts", eval.prompts,
                   "Prompts taken in turn, one per episode (success is reported per prompt)")
      ->excludes(evalTask);
  evalCmd->add_option("--record", eval.record, "Save every episode in this dataset folder (full length)");
  evalCmd->add_flag("--jpeg", eval.jpeg, kRecordJpegHelp);
  evalCmd->add_flag("--fast", eval.fast, "Simulated rigs: simulated time, which waits for every inference");
  evalCmd->add_option("--mode", eval.mode, "Chunk execution: sync, ensemble (ACT) or async")
      ->capture_default_str()
      ->check(CLI::IsMember({"sync", "ensemble", "async"}));
  evalCmd
      ->add_option("--execute-steps", eval.executeSteps,
                   "Actions of each chunk before asking again (0: half)")
      ->check(CLI::NonNegativeNumber);
  evalCmd->add_option("--watchdog", eval.watchdogSeconds, "Seconds without an answer before the robot holds")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  evalCmd->add_option("--api-key", eval.apiKey, "openpi server: sent as 'Authorization: Api-Key KEY'");
  evalCmd->add_flag("--insecure", eval.insecure, "wss://: accept a self-signed certificate");
  evalCmd->add_option(
      "--fallback", eval.fallback,
      "A TorchScript MODEL.pt or bundled policy that drives while the main policy does not answer");
  evalCmd->add_option("--supervisor", eval.supervisor, kSupervisorHelp)->check(CLI::IsMember({"scripted"}));
  evalCmd->add_flag(
      "--wall-latency", eval.wallLatency,
      "--fast: simulated time passes for the policy as wall time does (latency and stalls count)");

  TrainCommandOptions train;
  auto* trainCmd = cli.add_subcommand("train", "Train a chunked policy (ACT-style, CPU-sized) on episodes.");
  trainCmd->add_option("--data", train.data, "Dataset folder or episode file (repeat for more)")
      ->required()
      ->allow_extra_args(false);
  trainCmd->add_option("--out", train.out, "The model file (TorchScript, flywheel.json inside)")->required();
  auto* epochs = trainCmd->add_option("--epochs", train.epochs, "Passes over the data (default 10)")
                     ->check(CLI::Range(1, 1000000));
  trainCmd->add_option("--minutes", train.minutes, "Train for this long instead of --epochs")
      ->check(CLI::PositiveNumber)
      ->excludes(epochs);
  trainCmd->add_option("--horizon", train.horizon, "Actions per predicted chunk")
      ->capture_default_str()
      ->check(CLI::Range(1, 1000));
  trainCmd->add_option("--cameras", train.cameras, "Cameras the model sees, a,b (default: the episodes')");
  trainCmd->add_option("--image-size", train.imageSize, "Frames are letterboxed to HxW")
      ->capture_default_str();
  trainCmd->add_option("--seed", train.seed, "Weights, held-out split, order, augmentation")
      ->capture_default_str();
  trainCmd->add_option("--batch-size", train.batchSize, "Samples per step")
      ->capture_default_str()
      ->check(CLI::Range(1, 4096));
  trainCmd->add_option("--lr", train.learningRate, "AdamW learning rate")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  trainCmd
      ->add_option("--state-noise", train.stateNoise,
                   "Noise (std, normalised units) on the training state, so the model must look")
      ->capture_default_str()
      ->check(CLI::Range(0.0, 10.0));
  trainCmd->add_option("--held-out", train.heldOut, "Share of the episodes held out (0: none)")
      ->capture_default_str()
      ->check(CLI::Range(0.0, 0.9));
  trainCmd->add_option("--cache-mb", train.cacheMegabytes, "Decoded frames kept in memory (MB), at most")
      ->capture_default_str()
      ->check(CLI::Range(0, 1 << 20));
  trainCmd->add_option("--threads", train.threads, "Compute threads (0: every core)")
      ->capture_default_str()
      ->check(CLI::Range(0, 1024));
  trainCmd->add_flag("--prompt-conditioned", train.promptConditioned,
                     "Condition on the task's words (automatic when the episodes have several tasks)");

  BenchOptions bench;
  auto* benchCmd =
      cli.add_subcommand("bench", "Measure the control loop and the recorder on simulated rigs.");
  benchCmd->add_option("--seconds", bench.seconds, "Recording length for the recorder figures")
      ->capture_default_str()
      ->check(CLI::Range(1.0, 600.0));

  PolicyBenchOptions policyBench;
  auto* policyBenchCmd = cli.add_subcommand(
      "bench-policy", "Measure a policy's observation-to-action latency and an openpi server's round trip.");
  policyBenchCmd->add_option("--model", policyBench.model,
                             "TorchScript model for sim-aloha (14 joints, ALOHA cameras)");
  policyBenchCmd->add_option("--server", policyBench.server, "openpi server, ws://HOST:PORT");
  policyBenchCmd->add_option("--iterations", policyBench.iterations, "Inferences per figure")
      ->capture_default_str()
      ->check(CLI::Range(1, 100000));

  QualityBenchOptions qualityBench;
  auto* qualityBenchCmd = cli.add_subcommand(
      "bench-quality", "Measure an episode's quality metrics, and indexing an old dataset of its copies.");
  qualityBenchCmd->add_option("EPISODE", qualityBench.episode, "A recorded episode")
      ->required()
      ->check(CLI::ExistingFile);
  qualityBenchCmd->add_option("--copies", qualityBench.copies, "Copies in the old dataset indexed (0: none)")
      ->check(CLI::Range(0, 100000));
  qualityBenchCmd->add_option("--repeat", qualityBench.repeat, "Runs per figure (the median is shown)")
      ->capture_default_str()
      ->check(CLI::Range(1, 1000));

  CLI11_PARSE(cli, argc, argv);
  // A file-size limit or a full disk must fail a write (and be reported), not kill the studio.
  std::signal(SIGXFSZ, SIG_IGN);

  try {
    if (*rec) return runRecord(record);
    if (*runCmd) return runPolicy(run);
    if (*evalCmd) return runEval(eval);
    if (*inspect) return runInspect(inspectPath, framesFolder, frameTick);
    if (*benchCmd) return runBench(bench);
    if (*trainCmd) return runTrain(train);
    if (*policyBenchCmd) return runPolicyBench(policyBench);
    if (*qualityBenchCmd) return runQualityBench(qualityBench);
    if (*devices) return runDevices(watchSeconds);
    if (*labelCmd) return runLabel(label);
    if (*listCmd) return runList(list);
    if (*renameCmd) return runRenameTask(renameFolder, renameFrom, renameTo);
    if (*exportCmd) return runExportManifest(exportOptions);
    if (*curatedCmd) return runCuratedExport(curated);
    if (*emulateCmd) return runEmulate(emulate);
    if (*calibrateCmd) return runCalibrate(calibrate);
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
