// `flywheel export`: a curated training set. Episodes chosen by filters, trims applied, split into train
// and validation by episode, each copied for its consumer (recorder/episode_export.hpp), and a manifest.
// Built in DIR.partial-XXXXXX beside DIR and renamed into place at the end: a half-written export never
// looks finished, and the source files are only ever opened read-only.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <hdf5.h>
#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <iostream>

#include <nlohmann/json.hpp>

#include "app/cli/command_support.hpp"
#include "app/cli/commands.hpp"
#include "recorder/dataset_folder.hpp"
#include "recorder/episode_export.hpp"
#include "recorder/episode_reader.hpp"
#include "recorder/export_selection.hpp"
#include "recorder/labels.hpp"
#include "recorder/trims.hpp"

namespace flywheel::app {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

// A selection, a destination or a source the command refuses before writing anything.
struct UsageError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

struct Chosen {
  std::string path;
  EpisodeEntry entry;
  TickRange kept;
  std::size_t ticks = 0;
  std::string split;  // "train" or "val"
  std::string file;   // within the export
  CopiedEpisode copied;
};

ExportFilter filterOf(const CuratedExportOptions& o) {
  ExportFilter filter;
  filter.tasks = o.tasks;
  filter.labelledOnly = o.labelled;
  filter.tags = o.tags;
  filter.operators = o.operators;
  for (const std::string& text : o.outcomes) {
    auto outcome = parseOutcome(text);
    if (!outcome) throw UsageError("--outcome '" + text + "': expected success, failure or unknown");
    filter.outcomes.push_back(*outcome);
  }
  for (const std::string& text : o.verdicts) {
    auto verdict = parseVerdict(text);
    if (!verdict) throw UsageError("--verdict '" + text + "': expected good, check or bad");
    filter.verdicts.push_back(*verdict);
  }
  auto kind = parseEpisodeKind(o.kind);
  if (!kind) throw UsageError("--kind '" + o.kind + "': expected any, demonstration or policy-run");
  filter.kind = *kind;
  return filter;
}

EpisodeCopyOptions copyOptionsOf(const CuratedExportOptions& o) {
  EpisodeCopyOptions copy;
  if (o.format != "aloha" && o.format != "openpi")
    throw UsageError("--format '" + o.format + "': expected aloha or openpi");
  copy.consumer = o.format == "openpi" ? ExportConsumer::Openpi : ExportConsumer::Act;
  copy.jpeg = o.jpeg;
  copy.jpegQuality = o.jpegQuality;
  copy.precision = o.float32 ? JointPrecision::Float32 : JointPrecision::Float64;
  if (o.length > 0) copy.length = o.length;
  for (const std::string& rename : o.cameras) {
    const auto equals = rename.find('=');
    if (equals == std::string::npos || equals == 0 || equals + 1 == rename.size())
      throw UsageError("--camera '" + rename + "': expected FROM=TO, e.g. top=cam_high");
    copy.cameraNames[rename.substr(0, equals)] = rename.substr(equals + 1);
  }
  return copy;
}

// Every episode file the --data arguments name, in order: a folder's by number, a file as given.
std::vector<std::string> namedFiles(const std::vector<std::string>& data) {
  std::vector<std::string> files;
  for (const std::string& item : data) {
    std::error_code error;
    const auto status = fs::status(item, error);
    if (fs::is_regular_file(status)) {
      files.push_back(fs::absolute(item).string());
      continue;
    }
    if (!fs::is_directory(status)) throw UsageError(item + ": no such dataset folder or episode file");
    std::vector<std::pair<int, std::string>> numbered;
    fs::directory_iterator it(item, error), end;
    if (error) throw UsageError(item + ": cannot be read: " + error.message());
    for (; it != end; it.increment(error)) {
      const int number = DatasetFolder::episodeNumber(it->path().filename().string());
      if (number >= 0) numbered.emplace_back(number, fs::absolute(it->path()).string());
    }
    if (error) throw UsageError(item + ": cannot be read: " + error.message());
    std::sort(numbered.begin(), numbered.end());
    for (auto& [number, path] : numbered)
      files.push_back(path);
  }
  return files;
}

// The same, each file once (a folder and one of its files both named).
std::vector<std::string> sourceFiles(const std::vector<std::string>& data) {
  std::vector<std::string> unique;
  for (const std::string& file : namedFiles(data))
    if (std::find(unique.begin(), unique.end(), file) == unique.end()) unique.push_back(file);
  return unique;
}

bool isPolicyRun(const std::string& path) {
  EpisodeReader reader(path);
  return h5::hasAttribute(reader.file(), "policy");
}

// The trim's tick range and what the consumer needs, checked before anything is written.
void prepare(Chosen& chosen, const EpisodeCopyOptions& copy) {
  EpisodeReader reader(chosen.path);
  const EpisodeSummary s = reader.summary();
  if (!s.problem.empty()) throw UsageError(chosen.path + ": " + s.problem);
  const EpisodeLabels labels = readLabels(chosen.path);
  const auto [first, last] = trimmedTicks(labels, tickTimes(reader, s));
  chosen.kept = {first, last};
  chosen.ticks = s.ticks;
  if (chosen.kept.size() == 0) throw UsageError(chosen.path + ": its trim keeps no tick");
  std::vector<std::string> cameras;
  std::vector<std::pair<int, int>> sizes;
  for (const CameraSummary& cam : s.cameras) {
    auto renamed = copy.cameraNames.find(cam.name);
    cameras.push_back(renamed == copy.cameraNames.end() ? cam.name : renamed->second);
    sizes.emplace_back(cam.height, cam.width);
  }
  for (std::size_t i = 0; i < cameras.size(); ++i)
    if (std::count(cameras.begin(), cameras.end(), cameras[i]) > 1)
      throw UsageError(chosen.path + ": two cameras exported as '" + cameras[i] + "' (--camera)");
  if (auto problem = consumerProblem(copy.consumer, cameras, s.joints, sizes); !problem.empty())
    throw UsageError(chosen.path + ": " + problem);
}

std::vector<Chosen> select(const CuratedExportOptions& o, const EpisodeCopyOptions& copy, json& skipped) {
  const ExportFilter filter = filterOf(o);
  std::vector<Chosen> chosen;
  const std::vector<std::string> files = sourceFiles(o.data);
  for (const std::string& path : files) {
    EpisodeEntry entry = describeEpisode(path);
    if (entry.status != EpisodeStatus::Complete) {
      const std::string why =
          std::string(nameOf(entry.status)) + (entry.problem.empty() ? "" : ": ") + entry.problem;
      std::cerr << "flywheel: skipped " << path << ": " << why << "\n";
      skipped.push_back({{"source", path}, {"reason", why}});
      continue;
    }
    if (matches(filter, entry, isPolicyRun(path))) chosen.push_back({path, entry, {}, 0, "", "", {}});
  }
  if (chosen.empty())
    throw UsageError("no episode matches the selection (" + std::to_string(files.size()) +
                     " episode files looked at)");
  for (Chosen& c : chosen)
    prepare(c, copy);
  return chosen;
}

std::string isoTime(std::time_t when) {
  char text[32];
  std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%S%z", std::localtime(&when));
  return text;
}

json sourceOf(const Chosen& c) {
  struct stat info {};
  if (::stat(c.path.c_str(), &info) != 0)
    throw RecorderError(c.path + ": cannot stat: " + std::strerror(errno));
  return {{"path", c.path},
          {"bytes", static_cast<long long>(info.st_size)},
          {"mtime", isoTime(info.st_mtim.tv_sec)},
          {"mtime_ns", static_cast<long long>(info.st_mtim.tv_sec) * 1000000000LL + info.st_mtim.tv_nsec},
          {"ticks", c.ticks}};
}

json manifestOf(const CuratedExportOptions& o, const std::vector<Chosen>& chosen, const json& skipped) {
  json episodes = json::array();
  for (const Chosen& c : chosen)
    episodes.push_back({{"file", c.file},
                        {"split", c.split},
                        {"source", sourceOf(c)},
                        {"kept_ticks", {c.kept.first, c.kept.end}},
                        {"rows", c.copied.rows},
                        {"padded_rows", c.copied.padded},
                        {"cut_ticks", c.copied.cut},
                        {"task", c.entry.task},
                        {"success", c.entry.success ? json(*c.entry.success) : json(nullptr)},
                        {"verdict", nameOf(c.entry.verdict)}});
  json settings = {{"data", o.data},
                   {"format", o.format},
                   {"tasks", o.tasks},
                   {"labelled", o.labelled},
                   {"outcomes", o.outcomes},
                   {"verdicts", o.verdicts},
                   {"tags", o.tags},
                   {"operators", o.operators},
                   {"kind", o.kind},
                   {"val_fraction", o.valFraction},
                   {"seed", o.seed},
                   {"jpeg", o.jpeg},
                   {"jpeg_quality", o.jpegQuality},
                   {"length", o.length},
                   {"float32", o.float32},
                   {"cameras", o.cameras}};
  return {{"flywheel_export", 1},
          {"software_version", std::string("flywheel ") + FLYWHEEL_VERSION},
          {"created", isoTime(std::time(nullptr))},
          {"command", o.commandLine},
          {"settings", settings},
          {"episodes", episodes},
          {"skipped", skipped}};
}

// fsync of a folder: the names of the files written in it survive a power cut.
void syncFolder(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0 || ::fsync(fd) != 0) {
    const std::string why = std::strerror(errno);
    if (fd >= 0) ::close(fd);
    throw RecorderError(path + ": cannot sync the folder: " + why);
  }
  ::close(fd);
}

void checkDestination(const CuratedExportOptions& o) {
  std::error_code error;
  const auto status = fs::symlink_status(o.out, error);
  if (!fs::exists(status)) return;
  if (!fs::is_directory(status)) throw UsageError(o.out + ": exists and is not a folder");
  if (!fs::is_empty(o.out, error) && !o.force)
    throw UsageError(o.out + ": exists and is not empty (--force replaces it)");
}

// DIR.partial-XXXXXX beside DIR, on the same file system so that the final rename is atomic.
std::string makeStaging(const std::string& out) {
  std::string name = fs::path(out).lexically_normal().string();
  while (name.size() > 1 && name.back() == '/')
    name.pop_back();
  std::string pattern = name + ".partial-XXXXXX";
  if (!::mkdtemp(pattern.data()))
    throw RecorderError("cannot create " + name +
                        ".partial-XXXXXX beside the export: " + std::strerror(errno));
  return pattern;
}

// Renames the finished staging folder to DIR; an existing DIR (empty, or --force) is replaced.
void publish(const std::string& staging, const std::string& out) {
  std::error_code error;
  std::string old;
  if (fs::exists(fs::symlink_status(out, error))) {
    old = staging + ".replaced";
    if (std::rename(out.c_str(), old.c_str()) != 0)
      throw RecorderError(out + ": cannot be replaced: " + std::strerror(errno));
  }
  if (std::rename(staging.c_str(), out.c_str()) != 0) {
    const std::string why = std::strerror(errno);
    if (!old.empty()) std::rename(old.c_str(), out.c_str());
    throw RecorderError(out + ": cannot rename the finished export into place: " + why);
  }
  syncFolder(fs::absolute(out).parent_path().string());
  if (!old.empty()) fs::remove_all(old, error);
}

void writeExport(const std::string& staging, std::vector<Chosen>& chosen, const CuratedExportOptions& o,
                 const EpisodeCopyOptions& copy, const json& skipped) {
  const std::vector<bool> held = validationSplit(chosen.size(), o.valFraction, o.seed);
  std::size_t counts[2] = {0, 0};
  for (std::size_t i = 0; i < chosen.size(); ++i) {
    Chosen& c = chosen[i];
    c.split = held[i] ? "val" : "train";
    c.file = c.split + "/episode_" + std::to_string(counts[held[i]]++) + ".hdf5";
    const std::string folder = staging + "/" + c.split;
    if (!fs::exists(folder) && ::mkdir(folder.c_str(), 0777) != 0)
      throw RecorderError(folder + ": cannot be created: " + std::strerror(errno));
    c.copied =
        copyEpisode(c.path, staging + "/" + c.file, c.kept, copy, [] { return interruptRequested().load(); });
    std::printf("%s <- %s (ticks %zu..%zu of %zu, %zu rows, %zu padded, %zu cut)\n", c.file.c_str(),
                c.path.c_str(), c.kept.first, c.kept.end, c.ticks, c.copied.rows, c.copied.padded,
                c.copied.cut);
    std::fflush(stdout);
  }
  for (const char* split : {"train", "val"})
    if (fs::exists(staging + "/" + split)) syncFolder(staging + "/" + split);
  const std::string manifest = manifestOf(o, chosen, skipped).dump(2) + "\n";
  if (std::string why = writeWholeFile(staging + "/manifest.json", manifest); !why.empty())
    throw RecorderError(staging + "/manifest.json: " + why);
  syncFolder(staging);
  std::printf("%zu train, %zu validation episodes\n", counts[0], counts[1]);
}

// HDF5 cannot close a file whose writes failed (a full disk, the file-size limit): its id stays open and
// HDF5's exit handler then crashes on it. The half-written file is removed already, so leave without it.
void leaveIfHdf5CannotClose(int status) {
  if (H5Fget_obj_count(H5F_OBJ_ALL, H5F_OBJ_FILE) <= 0) return;
  std::fflush(nullptr);
  std::_Exit(status);
}

}  // namespace

int runCuratedExport(const CuratedExportOptions& options) {
  json skipped = json::array();
  std::vector<Chosen> chosen;
  EpisodeCopyOptions copy;
  try {
    copy = copyOptionsOf(options);
    checkDestination(options);
    chosen = select(options, copy, skipped);
  } catch (const std::exception& e) {
    std::cerr << "flywheel: export: " << e.what() << "; nothing written\n";
    return 2;
  }
  catchInterrupts();
  const std::string staging = makeStaging(options.out);
  try {
    writeExport(staging, chosen, options, copy, skipped);
    publish(staging, options.out);
  } catch (const std::exception& e) {
    std::error_code error;
    fs::remove_all(staging, error);
    if (interruptRequested()) {
      std::cerr << "flywheel: export interrupted; nothing written\n";
      return interruptExitCode(1);
    }
    std::cerr << "flywheel: export: " << e.what() << "; nothing written\n";
    leaveIfHdf5CannotClose(1);
    return 1;
  }
  std::printf("export: %s (manifest.json)\n", options.out.c_str());
  return 0;
}

}  // namespace flywheel::app
