// `flywheel label`, `list`, `rename-task` and `export-manifest`: labelling and curating a dataset folder.
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <tuple>

#include "app/cli/command_support.hpp"
#include "app/cli/commands.hpp"
#include "recorder/dataset_folder.hpp"
#include "recorder/dataset_index.hpp"
#include "recorder/episode_quality.hpp"
#include "recorder/episode_reader.hpp"
#include "recorder/labels.hpp"
#include "recorder/trims.hpp"

namespace flywheel::app {

namespace fs = std::filesystem;

namespace {

// "1.5:4.0:pick up the sponge"
Segment parseSegment(const std::string& text) {
  const auto first = text.find(':'), second = text.find(':', first == std::string::npos ? 0 : first + 1);
  if (first == std::string::npos || second == std::string::npos)
    throw std::invalid_argument("--segment '" + text +
                                "': expected START:END:TEXT, e.g. 0:2.5:pick up the sponge");
  try {
    return {std::stod(text.substr(0, first)), std::stod(text.substr(first + 1, second - first - 1)),
            text.substr(second + 1)};
  } catch (const std::exception&) {
    throw std::invalid_argument("--segment '" + text + "': START and END must be seconds");
  }
}

// "1.5:4", "1.5:", ":4" or ":" (an empty side is untrimmed); the range is checked per episode.
std::pair<std::optional<double>, std::optional<double>> parseTrim(const std::string& text) {
  const auto colon = text.find(':');
  if (colon == std::string::npos || text.find(':', colon + 1) != std::string::npos)
    throw std::invalid_argument("--trim '" + text +
                                "': expected START:END in seconds, e.g. 0.8:12.5 or 0.8:");
  auto side = [&](const std::string& part) -> std::optional<double> {
    if (part.empty()) return std::nullopt;
    std::size_t used = 0;
    double seconds = 0.0;
    try {
      seconds = std::stod(part, &used);
    } catch (const std::exception&) {
    }
    if (used != part.size() || used == 0)
      throw std::invalid_argument("--trim '" + text + "': '" + part + "' is not a number of seconds");
    return seconds;
  };
  return {side(text.substr(0, colon)), side(text.substr(colon + 1))};
}

std::string trimText(const EpisodeLabels& labels) {
  if (!labels.trimStart && !labels.trimEnd) return "";
  auto side = [](const std::optional<double>& seconds) {
    char text[32] = "";
    if (seconds) std::snprintf(text, sizeof text, "%.3f", *seconds);
    return std::string(text);
  };
  return ", trim " + side(labels.trimStart) + ":" + side(labels.trimEnd) + " s";
}

std::string successText(const std::optional<bool>& success) {
  return success ? (*success ? "yes" : "no") : "-";
}

std::string csvField(const std::string& text) {
  std::string quoted = "\"";
  for (char c : text)
    quoted += c == '"' ? std::string("\"\"") : std::string(1, c);
  return quoted + "\"";
}

// Labels one episode; throws RecorderError naming the file when it cannot, with nothing saved.
void labelEpisode(const std::string& path, const LabelOptions& options,
                  const std::vector<Segment>& segments) {
  double duration = 0.0;  // as the Review view measures it: segments and trims may reach the measured end
  EpisodeLabels labels = readLabels(path);
  {
    EpisodeReader reader(path);  // closed before the save opens the file for writing
    EpisodeSummary summary = reader.summary();
    if (!summary.problem.empty())
      throw RecorderError(path + ": damaged (" + summary.problem + "); nothing saved");
    duration = trimmableDuration(summary);
    if (options.trimIdle && !setIdleTrim(labels, reader, summary))
      throw RecorderError(path + ": no joint moved, so there is no idle head or tail to trim; nothing saved");
  }
  if (options.trim) std::tie(labels.trimStart, labels.trimEnd) = parseTrim(*options.trim);
  if (options.task) labels.task = *options.task;
  if (options.success) {
    if (*options.success == "unknown")
      labels.success.reset();
    else
      labels.success = *options.success == "yes";
  }
  if (options.notes) labels.notes = *options.notes;
  if (!options.tags.empty()) labels.tags = options.tags;
  if (options.clearSegments) labels.segments.clear();
  labels.segments.insert(labels.segments.end(), segments.begin(), segments.end());
  std::sort(labels.segments.begin(), labels.segments.end(),
            [](const Segment& a, const Segment& b) { return a.start < b.start; });
  if (std::string problem = validateSegments(labels.segments, duration); !problem.empty())
    throw RecorderError(path + ": " + problem + "; nothing saved");
  if (std::string problem = validateTrim(labels, duration); !problem.empty())
    throw RecorderError(path + ": " + problem + "; nothing saved");
  writeLabels(path, labels);
  std::printf("%s: task '%s', success %s, %zu segments%s\n", path.c_str(), labels.task.c_str(),
              successText(labels.success).c_str(), labels.segments.size(), trimText(labels).c_str());
  try {
    DatasetIndex(fs::path(path).parent_path().string()).update(path);
  } catch (const std::exception& e) {  // the labels are saved in the file, which is the truth
    std::cerr << "flywheel: " << path << ": labels saved, but " << e.what() << "\n";
  }
}

// Read-only commands still work where index.json cannot be replaced: they say so once.
std::vector<EpisodeEntry> scanDataset(const DatasetFolder& dataset) {
  std::string notWritten;
  std::vector<EpisodeEntry> entries = DatasetIndex(dataset.path()).scan(notWritten);
  if (!notWritten.empty()) std::cerr << "flywheel: note: index.json left as it was: " << notWritten << "\n";
  return entries;
}

}  // namespace

int runLabel(const LabelOptions& options) {
  LabelText labelText;
  if (options.task) labelText.emplace_back("--task", *options.task);
  if (options.notes) labelText.emplace_back("--notes", *options.notes);
  for (const std::string& tag : options.tags)
    labelText.emplace_back("--tag", tag);
  for (const std::string& segment : options.segments)
    labelText.emplace_back("--segment", segment);
  if (!labelTextIsUtf8(labelText)) return 2;
  std::vector<Segment> segments;
  for (const std::string& text : options.segments)
    segments.push_back(parseSegment(text));
  if (options.trim) parseTrim(*options.trim);  // a malformed --trim is refused before any file is touched
  if (options.success && *options.success != "yes" && *options.success != "no" &&
      *options.success != "unknown")
    throw std::invalid_argument("--success must be yes, no or unknown");
  // One bad episode does not stop the others: each failure is reported, and the exit status says so.
  std::size_t failed = 0;
  for (const std::string& path : options.files) {
    try {
      labelEpisode(path, options, segments);
    } catch (const std::exception& e) {
      std::cerr << "flywheel: " << e.what() << "\n";
      ++failed;
    }
  }
  if (failed > 0) {
    std::cerr << "flywheel: " << failed << " of " << options.files.size() << " episode(s) not labelled\n";
    return 1;
  }
  return 0;
}

int runList(const ListOptions& options) {
  DatasetFolder dataset(options.folder);
  std::vector<EpisodeEntry> entries = scanDataset(dataset);
  std::printf("%-18s %-10s %-7s %8s %7s %-7s %4s %4s  %s\n", "episode", "status", "verdict", "seconds",
              "ticks", "success", "segs", "int", "task");
  std::size_t shown = 0;
  for (const EpisodeEntry& e : entries) {
    if (options.unlabelled && e.labelled()) continue;
    if (options.failed && !(e.success && !*e.success)) continue;
    if (!options.taskContains.empty() && e.task.find(options.taskContains) == std::string::npos) continue;
    std::string text = readable(e.status) ? e.task : e.problem;
    if (readable(e.status) && !e.problem.empty()) text += " [" + e.problem + "]";  // a take cut short
    const bool judged = e.quality || !e.verdictReasons.empty();  // "-": not measured (unreadable files)
    std::printf("%-18s %-10s %-7s %8.2f %7zu %-7s %4zu %4d  %s\n", e.file.c_str(), nameOf(e.status),
                judged ? nameOf(e.verdict) : "-", e.duration, e.ticks, successText(e.success).c_str(),
                e.segments, e.interventions, text.c_str());
    if (options.why)
      for (const std::string& reason : e.verdictReasons)
        std::printf("    %s\n", reason.c_str());
    ++shown;
  }
  std::printf("%zu of %zu episodes\n", shown, entries.size());
  return 0;
}

int runRenameTask(const std::string& folder, const std::string& from, const std::string& to) {
  if (!labelTextIsUtf8({{"--to", to}})) return 2;
  DatasetFolder dataset(folder);
  int renamed = 0;
  for (const std::string& path : dataset.episodePaths()) {
    EpisodeLabels labels;
    try {
      labels = readLabels(path);
    } catch (const RecorderError& e) {
      std::cerr << "  skipped " << path << ": " << e.what() << "\n";
      continue;
    }
    if (labels.task != from) continue;
    labels.task = to;
    writeLabels(path, labels);
    ++renamed;
  }
  DatasetIndex(dataset.path()).rebuild();
  std::printf("Renamed the task of %d episode(s) from '%s' to '%s'\n", renamed, from.c_str(), to.c_str());
  return 0;
}

int runExportManifest(const ExportOptions& options) {
  if (options.format != "json" && options.format != "csv") {
    std::cerr << "flywheel: --format must be json or csv\n";
    return 2;
  }
  DatasetFolder dataset(options.folder);
  std::vector<EpisodeEntry> entries = scanDataset(dataset);
  // Only what can be read goes in; every episode left out is named, so the count printed is the truth.
  std::vector<std::pair<EpisodeEntry, EpisodeLabels>> exported;
  std::vector<std::string> skipped;
  for (const EpisodeEntry& e : entries) {
    if (!readable(e.status)) {
      skipped.push_back(e.file + " (" + nameOf(e.status) + (e.problem.empty() ? "" : ": " + e.problem) + ")");
      continue;
    }
    try {
      exported.emplace_back(e, readLabels((fs::path(dataset.path()) / e.file).string()));
    } catch (const std::exception& error) {
      skipped.push_back(e.file + " (labels unreadable: " + error.what() + ")");
    }
  }
  std::ostringstream out;
  if (options.format == "json") {
    nlohmann::json manifest{{"dataset", fs::absolute(dataset.path()).string()},
                            {"episodes", nlohmann::json::array()}};
    for (const auto& [e, labels] : exported) {
      nlohmann::json segments = nlohmann::json::array();
      for (const Segment& s : labels.segments)
        segments.push_back({{"start", s.start}, {"end", s.end}, {"text", s.text}});
      manifest["episodes"].push_back(
          {{"file", e.file},
           {"status", nameOf(e.status)},
           {"ticks", e.ticks},
           {"duration_s", e.duration},
           {"task", labels.task},
           {"success", labels.success ? nlohmann::json(*labels.success) : nlohmann::json(nullptr)},
           {"notes", labels.notes},
           {"tags", labels.tags},
           {"operator", labels.operatorName},
           {"interventions", e.interventions},
           {"segments", segments}});
    }
    // Text from someone else's file may not be UTF-8: replaced (U+FFFD) rather than failing the export.
    out << manifest.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
  } else {
    out << "file,status,ticks,duration_s,task,success,notes,tags,operator,interventions,segment_start,"
           "segment_end,segment_text\n";
    for (const auto& [e, labels] : exported) {
      std::string tags;
      for (const std::string& t : labels.tags)
        tags += (tags.empty() ? "" : ";") + t;
      auto row = [&](const std::string& start, const std::string& end, const std::string& text) {
        out << e.file << "," << nameOf(e.status) << "," << e.ticks << "," << e.duration << ","
            << csvField(labels.task) << "," << successText(labels.success) << "," << csvField(labels.notes)
            << "," << csvField(tags) << "," << csvField(labels.operatorName) << "," << e.interventions << ","
            << start << "," << end << "," << csvField(text) << "\n";
      };
      if (labels.segments.empty()) row("", "", "");
      for (const Segment& s : labels.segments)
        row(std::to_string(s.start), std::to_string(s.end), s.text);
    }
  }
  for (const std::string& file : skipped)
    std::cerr << "  skipped " << file << "\n";
  const std::string target = options.out.empty() ? "-" : options.out;
  if (std::string problem = writeWholeFile(target, out.str()); !problem.empty()) {
    std::cerr << "flywheel: the manifest was not written to "
              << (options.out.empty() ? std::string("standard output") : options.out) << ": " << problem
              << "\n";
    return 1;
  }
  if (!options.out.empty())
    std::fprintf(stderr, "Wrote %s (%zu episodes%s)\n", options.out.c_str(), exported.size(),
                 skipped.empty() ? "" : (", " + std::to_string(skipped.size()) + " skipped").c_str());
  return 0;
}

}  // namespace flywheel::app
