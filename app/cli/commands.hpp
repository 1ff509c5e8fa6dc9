// The `flywheel` subcommands. Each returns the process exit code and reports errors on stderr.
#pragma once

#include <optional>
#include <string>
#include <vector>

namespace flywheel::app {

struct RecordOptions {
  std::string rig = "sim";
  std::string out;
  int episodes = 1;
  double seconds = 10.0;
  std::string task = "pick up the cube and place it in the bin";
  bool fast = false;  // simulated rigs only: run faster than real time
  std::optional<unsigned> seed;
  std::optional<double> resetSeconds;  // between takes; default 0 on simulated rigs, 5 s on real ones
  std::string operatorName;
  std::vector<std::string> tags;
  bool jpeg = false;  // ALOHA's compressed layout instead of raw frames
  int jpegQuality = 90;
};

struct RunOptions {
  std::string rig = "sim";
  std::string policy;  // MODEL.pt or ws://HOST:PORT
  std::string task;    // the language prompt
  double seconds = 10.0;
  std::string record;  // dataset folder; empty: not recorded
  bool jpeg = false;   // the recording's frames as JPEG, as `record --jpeg`
  bool fast = false;   // simulated rigs: simulated time, waiting for each inference
  std::optional<unsigned> seed;
  std::string mode = "async";  // sync, ensemble or async
  int executeSteps = 0;
  double watchdogSeconds = 1.0;
  std::string apiKey;
  bool insecure = false;
  std::string fallback;                 // MODEL.pt or a bundled name: drives while the main policy cannot
  bool wallLatency = false;             // --fast: simulated time passes for the model as wall time does
  std::vector<std::string> promptAt;    // SECONDS:TEXT
  std::vector<std::string> takeoverAt;  // START:END
  std::string supervisor;               // "scripted": the simulated operator supervises (sim rigs only)
};

struct EvalOptions {
  std::string rig = "sim";
  std::string policy;  // MODEL.pt, a bundled policy's name or ws://HOST:PORT
  std::string task = "pick up the cube and place it in the bin";
  int episodes = 10;
  std::optional<unsigned> seed;  // of the first episode, then +1 each (default: the rig's)
  double seconds = 20.0;         // each episode at most (a success ends it early when not recording)
  std::string record;            // dataset folder; empty: not recorded
  bool jpeg = false;             // the recordings' frames as JPEG, as `record --jpeg`
  bool fast = false;
  std::string mode = "async";
  int executeSteps = 0;
  double watchdogSeconds = 1.0;
  std::string apiKey;
  bool insecure = false;
  std::string fallback;      // MODEL.pt or a bundled name: drives while the main policy cannot
  bool wallLatency = false;  // --fast: simulated time passes for the model as wall time does
  std::string supervisor;    // "scripted": the simulated operator supervises (sim rigs only)
  // Episode i's prompt is prompts[i % size]; empty: --task, or on a rig with several bins and a task that
  // names none, the seed's instruction (sim::defaultInstruction).
  std::vector<std::string> prompts;
};

struct PolicyBenchOptions {
  std::string model;   // a TorchScript file made for sim-aloha (14 joints, the four ALOHA cameras)
  std::string server;  // ws://HOST:PORT of an openpi server
  int iterations = 50;
};

struct QualityBenchOptions {
  std::string episode;  // a recorded episode: measured, and copied `copies` times into an old dataset
  int copies = 0;
  int repeat = 5;
};

struct BenchOptions {
  double seconds = 60.0;  // recording duration; the loop runs for a third of it
};

struct TrainCommandOptions {
  std::vector<std::string> data;  // dataset folders or episode files
  std::string out;                // MODEL.pt
  int epochs = 0;                 // one of epochs / minutes; neither: 10 epochs
  double minutes = 0.0;
  int horizon = 20;
  std::string cameras;              // a,b; empty: the first usable episode's
  std::string imageSize = "60x80";  // HxW
  unsigned seed = 1;
  int batchSize = 64;
  double learningRate = 1e-3;
  double stateNoise = 0.3;
  double heldOut = 0.1;       // share of the episodes held out
  int cacheMegabytes = 1024;  // decoded frames kept in memory at the training resolution
  int threads = 0;            // 0: every core
  // A prompt-conditioned model even when the episodes have only one task (with several, always).
  bool promptConditioned = false;
};

struct EmulateOptions {
  std::string model = "xl430-w250";
  std::string ids = "1-6";
  std::string link;  // a stable symlink to the pseudo-terminal
  double dropRate = 0.0, corruptRate = 0.0, garbageRate = 0.0;
  bool hand = false;     // servos with torque off sway as if moved by hand
  double seconds = 0.0;  // 0: until Ctrl-C
};

struct CalibrateOptions {
  std::string rig;
  std::string arm;
  bool force = false;
  double rangeSeconds = 0.0;  // 0: sample the range until Enter
};

struct LabelOptions {
  std::vector<std::string> files;
  std::optional<std::string> task, success, notes;  // success: yes, no or unknown
  std::vector<std::string> tags;                    // replaces the tags when given
  std::vector<std::string> segments;                // START:END:TEXT, added
  bool clearSegments = false;
  std::optional<std::string> trim;  // START:END seconds; an empty side is untrimmed
  bool trimIdle = false;            // trim marks from the measured idle head and tail
};

struct ListOptions {
  std::string folder;
  bool unlabelled = false, failed = false;
  std::string taskContains;
  bool why = false;  // print each episode's verdict reasons under it
};

struct ExportOptions {
  std::string folder;
  std::string format = "json";
  std::string out;  // empty: standard output
};

// `flywheel export`: a curated training set (see app/cli/export_command.cpp).
struct CuratedExportOptions {
  std::vector<std::string> data;  // dataset folders or episode files
  std::string out;
  std::string format;  // aloha or openpi
  bool force = false;  // replace an existing non-empty DIR
  std::vector<std::string> tasks, outcomes, verdicts, tags, operators;
  bool labelled = false;
  std::string kind = "any";  // any, demonstration or policy-run
  double valFraction = 0.1;
  unsigned seed = 0;
  bool jpeg = false;
  int jpegQuality = 90;
  std::size_t length = 0;  // 0: as recorded (trimmed)
  bool float32 = false;
  std::vector<std::string> cameras;  // FROM=TO renames
  std::string commandLine;           // for the manifest
};

int runLabel(const LabelOptions& options);
int runList(const ListOptions& options);
int runRenameTask(const std::string& folder, const std::string& from, const std::string& to);
int runExportManifest(const ExportOptions& options);
int runCuratedExport(const CuratedExportOptions& options);
int runRecord(const RecordOptions& options);
int runDevices(double watchSeconds);
int runEmulate(const EmulateOptions& options);
int runCalibrate(const CalibrateOptions& options);
int runDemo(const std::string& rig, const std::string& out);
// With framesFolder set, also writes each camera's frame at `tick` there as PNG.
int runInspect(const std::string& path, const std::string& framesFolder = "", std::size_t tick = 0);
int runBench(const BenchOptions& options);
int runTrain(const TrainCommandOptions& options);
int runPolicy(const RunOptions& options);
int runPolicyBench(const PolicyBenchOptions& options);
int runQualityBench(const QualityBenchOptions& options);
int runEval(const EvalOptions& options);

}  // namespace flywheel::app
