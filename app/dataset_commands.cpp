// `flywheel label`, `list`, `rename-task` and `export-manifest`: labelling and curating a dataset folder.
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "app/commands.hpp"
#include "recorder/dataset_folder.hpp"
#include "recorder/dataset_index.hpp"
#include "recorder/episode_reader.hpp"
#include "recorder/labels.hpp"

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

std::string successText(const std::optional<bool>& success) {
  return success ? (*success ? "yes" : "no") : "-";
}

std::string csvField(const std::string& text) {
  std::string quoted = "\"";
  for (char c : text)
    quoted += c == '"' ? std::string("\"\"") : std::string(1, c);
  return quoted + "\"";
}

}  // namespace

int runLabel(const LabelOptions& options) {
  std::vector<Segment> segments;
  for (const std::string& text : options.segments)
    segments.push_back(parseSegment(text));
  for (const std::string& path : options.files) {
    EpisodeLabels labels = readLabels(path);
    if (options.task) labels.task = *options.task;
    if (options.success) {
      if (*options.success == "yes")
        labels.success = true;
      else if (*options.success == "no")
        labels.success = false;
      else if (*options.success == "unknown")
        labels.success.reset();
      else
        throw std::invalid_argument("--success must be yes, no or unknown");
    }
    if (options.notes) labels.notes = *options.notes;
    if (!options.tags.empty()) labels.tags = options.tags;
    if (options.clearSegments) labels.segments.clear();
    labels.segments.insert(labels.segments.end(), segments.begin(), segments.end());
    std::sort(labels.segments.begin(), labels.segments.end(),
              [](const Segment& a, const Segment& b) { return a.start < b.start; });
    EpisodeSummary summary = EpisodeReader(path).summary();
    const double duration = summary.fps > 0 ? static_cast<double>(summary.ticks) / summary.fps : 0.0;
    if (std::string problem = validateSegments(labels.segments, duration); !problem.empty()) {
      std::cerr << "flywheel: " << path << ": " << problem << "; nothing saved\n";
      return 1;
    }
    writeLabels(path, labels);
    DatasetIndex(fs::path(path).parent_path().string()).update(path);
    std::printf("%s: task '%s', success %s, %zu segments\n", path.c_str(), labels.task.c_str(),
                successText(labels.success).c_str(), labels.segments.size());
  }
  return 0;
}

int runList(const ListOptions& options) {
  DatasetFolder dataset(options.folder);
  std::vector<EpisodeEntry> entries = DatasetIndex(dataset.path()).rebuild();
  std::printf("%-18s %-10s %8s %7s %-7s %4s %4s  %s\n", "episode", "status", "seconds", "ticks", "success",
              "segs", "int", "task");
  std::size_t shown = 0;
  for (const EpisodeEntry& e : entries) {
    if (options.unlabelled && e.labelled()) continue;
    if (options.failed && !(e.success && !*e.success)) continue;
    if (!options.taskContains.empty() && e.task.find(options.taskContains) == std::string::npos) continue;
    std::printf("%-18s %-10s %8.2f %7zu %-7s %4zu %4d  %s\n", e.file.c_str(), nameOf(e.status), e.duration,
                e.ticks, successText(e.success).c_str(), e.segments, e.interventions,
                e.status == EpisodeStatus::Damaged ? e.problem.c_str() : e.task.c_str());
    ++shown;
  }
  std::printf("%zu of %zu episodes\n", shown, entries.size());
  return 0;
}

int runRenameTask(const std::string& folder, const std::string& from, const std::string& to) {
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
  DatasetFolder dataset(options.folder);
  std::vector<EpisodeEntry> entries = DatasetIndex(dataset.path()).rebuild();
  std::ostringstream out;
  if (options.format == "json") {
    nlohmann::json manifest{{"dataset", fs::absolute(dataset.path()).string()},
                            {"episodes", nlohmann::json::array()}};
    for (const EpisodeEntry& e : entries) {
      if (e.status == EpisodeStatus::Damaged) continue;
      EpisodeLabels labels = readLabels((fs::path(dataset.path()) / e.file).string());
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
    out << manifest.dump(2) << "\n";
  } else if (options.format == "csv") {
    out << "file,status,ticks,duration_s,task,success,notes,tags,operator,interventions,segment_start,"
           "segment_end,segment_text\n";
    for (const EpisodeEntry& e : entries) {
      if (e.status == EpisodeStatus::Damaged) continue;
      EpisodeLabels labels = readLabels((fs::path(dataset.path()) / e.file).string());
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
  } else {
    std::cerr << "flywheel: --format must be json or csv\n";
    return 2;
  }
  if (options.out.empty()) {
    std::cout << out.str();
  } else {
    std::ofstream(options.out) << out.str();
    std::fprintf(stderr, "Wrote %s (%zu episodes)\n", options.out.c_str(), entries.size());
  }
  return 0;
}

}  // namespace flywheel::app
