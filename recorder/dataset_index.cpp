#include "recorder/dataset_index.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <type_traits>

#include "recorder/dataset_folder.hpp"
#include "recorder/episode_reader.hpp"
#include "recorder/labels.hpp"
#include "recorder/recording_mark.hpp"

namespace flywheel {

namespace fs = std::filesystem;
using json = nlohmann::json;

namespace {

// Several processes (two studios, a labelling tool) may update one index: each update holds this lock.
class IndexLock {
 public:
  explicit IndexLock(const std::string& folder) {
    fd_ = ::open((fs::path(folder) / ".index.lock").c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd_ >= 0) ::flock(fd_, LOCK_EX);
  }
  ~IndexLock() {
    if (fd_ >= 0) ::close(fd_);  // closing releases the lock
  }

 private:
  int fd_ = -1;
};

json qualityJson(const EpisodeQuality& q) {
  json j{{"ticks", q.ticks}, {"cameras", json::object()}};
  visitMetrics(q, [&](const char* name, const auto& field) {
    if constexpr (std::is_arithmetic_v<std::decay_t<decltype(field)>>)
      j[name] = field;
    else if (field)
      j[name] = *field;
  });
  for (const CameraQuality& c : q.cameras) {
    json& cam = j["cameras"][c.name] = json::object();
    if (c.repeatedShare) cam["repeated_share"] = *c.repeatedShare;
    if (c.maxFrameAge) cam["max_frame_age_s"] = *c.maxFrameAge;
    if (c.expectedRepeatedShare) cam["expected_repeated_share"] = *c.expectedRepeatedShare;
  }
  return j;
}

// Throws json::exception on a wrong type: read() then rebuilds the index from the files.
EpisodeQuality qualityFromJson(const json& j) {
  EpisodeQuality q;
  q.ticks = j.at("ticks").get<std::size_t>();
  visitMetrics(q, [&](const char* name, auto& field) {
    using Field = std::decay_t<decltype(field)>;
    if (!j.contains(name)) return;
    if constexpr (std::is_arithmetic_v<Field>)
      field = j.at(name).get<Field>();
    else
      field = j.at(name).get<typename Field::value_type>();
  });
  for (const auto& [name, cam] : j.at("cameras").items()) {
    CameraQuality c{name, std::nullopt, std::nullopt, std::nullopt};
    if (cam.contains("expected_repeated_share"))
      c.expectedRepeatedShare = cam.at("expected_repeated_share").get<double>();
    if (cam.contains("repeated_share")) c.repeatedShare = cam.at("repeated_share").get<double>();
    if (cam.contains("max_frame_age_s")) c.maxFrameAge = cam.at("max_frame_age_s").get<double>();
    q.cameras.push_back(c);
  }
  return q;
}

json toJson(const EpisodeEntry& e) {
  json j{{"file", e.file},
         {"number", e.number},
         {"status", nameOf(e.status)},
         {"ticks", e.ticks},
         {"duration_s", e.duration},
         {"frames", e.frames},
         {"task", e.task},
         {"operator", e.operatorName},
         {"tags", e.tags},
         {"interventions", e.interventions},
         {"notes", e.notes},
         {"segments", e.segments},
         {"labelled", e.labelled()}};
  j["success"] = e.success ? json(*e.success) : json(nullptr);
  if (!e.problem.empty()) j["problem"] = e.problem;
  if (e.quality) {
    j["quality"] = qualityJson(*e.quality);
    j["verdict"] = nameOf(e.verdict);
    j["verdict_reasons"] = e.verdictReasons;
    j["file_size"] = e.fileSize;
    j["file_mtime_ns"] = e.fileTimeNs;
  }
  return j;
}

EpisodeEntry fromJson(const json& j) {
  EpisodeEntry e;
  e.file = j.value("file", "");
  e.number = j.value("number", -1);
  const std::string status = j.value("status", "complete");
  e.status = status == "incomplete"  ? EpisodeStatus::Incomplete
             : status == "damaged"   ? EpisodeStatus::Damaged
             : status == "recording" ? EpisodeStatus::Recording
             : status == "busy"      ? EpisodeStatus::Busy
                                     : EpisodeStatus::Complete;
  e.problem = j.value("problem", "");
  e.ticks = j.value("ticks", std::size_t{0});
  e.duration = j.value("duration_s", 0.0);
  e.frames = j.value("frames", std::map<std::string, std::size_t>{});
  e.task = j.value("task", "");
  if (j.contains("success") && j["success"].is_boolean()) e.success = j["success"].get<bool>();
  e.operatorName = j.value("operator", "");
  e.tags = j.value("tags", std::vector<std::string>{});
  e.interventions = j.value("interventions", 0);
  e.notes = j.value("notes", "");
  e.segments = j.value("segments", std::size_t{0});
  if (j.contains("quality")) {
    e.quality = qualityFromJson(j.at("quality"));
    e.verdict = parseVerdict(j.value("verdict", "")).value_or(Verdict::Check);
    e.verdictReasons = j.value("verdict_reasons", std::vector<std::string>{});
    e.fileSize = j.value("file_size", std::uint64_t{0});
    e.fileTimeNs = j.value("file_mtime_ns", std::int64_t{0});
  }
  return e;
}

}  // namespace

const char* nameOf(EpisodeStatus status) {
  switch (status) {
    case EpisodeStatus::Complete:
      return "complete";
    case EpisodeStatus::Incomplete:
      return "incomplete";
    case EpisodeStatus::Damaged:
      return "damaged";
    case EpisodeStatus::Recording:
      return "recording";
    case EpisodeStatus::Busy:
      return "busy";
  }
  return "?";
}

namespace {
// Nothing half-read from a file that failed part way is kept.
EpisodeEntry freshEntry(const EpisodeEntry& e) {
  EpisodeEntry fresh;
  fresh.file = e.file;
  fresh.number = e.number;
  return fresh;
}
}  // namespace

// The quality as index.json has it when the file is unchanged since (its size and modification time),
// else from the file's /quality group (written at save), else measured from the datasets (older files).
void addQuality(const std::string& path, const EpisodeReader& reader, const EpisodeEntry* cached,
                EpisodeEntry& e) {
  std::error_code error;
  e.fileSize = fs::file_size(path, error);
  const auto written = fs::last_write_time(path, error);
  e.fileTimeNs = std::chrono::duration_cast<std::chrono::nanoseconds>(written.time_since_epoch()).count();
  if (cached && cached->quality && cached->fileSize == e.fileSize && cached->fileTimeNs == e.fileTimeNs) {
    e.quality = cached->quality;  // the rig file the thresholds come from is in the file: unchanged too
    e.verdict = cached->verdict;
    e.verdictReasons = cached->verdictReasons;
    return;
  }
  try {
    // An interrupted take may hold a /quality group cut short: measured instead.
    if (e.status == EpisodeStatus::Complete) e.quality = readStoredQuality(reader.file());
    if (!e.quality) e.quality = measureOpenEpisode(reader.file(), path);
  } catch (const RecorderError& failure) {  // readable, yet not measurable: listed, with the reason
    e.verdict = Verdict::Check;
    e.verdictReasons = {"quality not measured: " + printable(failure.what())};
    return;
  }
  const QualityVerdict verdict = judge(*e.quality, thresholdsFor(reader.rigConfigText()));
  e.verdict = verdict.verdict;
  e.verdictReasons = verdict.reasons;
}

EpisodeEntry describeEpisode(const std::string& path, const EpisodeEntry* cached) {
  EpisodeEntry e;
  e.file = fs::path(path).filename().string();
  e.number = DatasetFolder::episodeNumber(e.file);
  if (RecordingMark::held(path)) {  // checked first: even this process must not read a take mid-write
    e.status = EpisodeStatus::Recording;
    return e;
  }
  try {
    EpisodeReader reader(path);
    EpisodeSummary s = reader.summary();
    if (!s.problem.empty()) throw RecorderError(s.problem);
    e.status = s.complete ? EpisodeStatus::Complete : EpisodeStatus::Incomplete;
    if (!s.complete && !s.stopReason.empty()) e.problem = "cut short: " + printable(s.stopReason);
    e.ticks = s.ticks;
    e.duration = s.fps > 0 ? static_cast<double>(s.ticks) / s.fps : 0.0;
    for (const CameraSummary& cam : s.cameras)
      e.frames[cam.name] = cam.frames;
    // The labels as last saved, over the recorded attributes.
    const EpisodeLabels labels = readLabelsOf(reader.file());
    e.task = labels.task;
    e.success = labels.success;
    e.operatorName = labels.operatorName;
    e.tags = labels.tags;
    e.notes = labels.notes;
    e.segments = labels.segments.size();
    e.interventions = s.interventions;
    addQuality(path, reader, cached, e);
  } catch (const EpisodeBusy&) {
    e = freshEntry(e);
    e.status = RecordingMark::held(path) ? EpisodeStatus::Recording : EpisodeStatus::Busy;
    if (e.status == EpisodeStatus::Busy) e.problem = "open elsewhere";
  } catch (const std::exception& error) {
    e = freshEntry(e);
    e.status = EpisodeStatus::Damaged;
    e.problem = printable(error.what());
    if (e.problem.starts_with(path + ": ")) e.problem.erase(0, path.size() + 2);  // the list names the file
  }
  return e;
}

DatasetIndex::DatasetIndex(std::string datasetFolder) : folder_(std::move(datasetFolder)) {}

std::string DatasetIndex::path() const {
  return (fs::path(folder_) / "index.json").string();
}

std::vector<EpisodeEntry> DatasetIndex::read() const {
  std::ifstream in(path());
  if (!in) return {};
  try {
    json root = json::parse(in);
    std::vector<EpisodeEntry> entries;
    for (const json& j : root.at("episodes"))
      entries.push_back(fromJson(j));
    return entries;
  } catch (const json::exception&) {
    return {};  // a damaged index is rebuilt from the files
  }
}

void DatasetIndex::write(const std::vector<EpisodeEntry>& entries) const {
  json root{{"version", 1}, {"episodes", json::array()}};
  for (const EpisodeEntry& e : entries)
    root["episodes"].push_back(toJson(e));
  // Text from foreign files may not be UTF-8: it is stored with replacement characters, never refused.
  const std::string text = root.dump(2, ' ', false, json::error_handler_t::replace) + "\n";
  {
    std::ifstream current(path(), std::ios::binary);
    if (current && std::string(std::istreambuf_iterator<char>(current), {}) == text) return;  // unchanged
  }
  const std::string temporary = path() + ".tmp";
  std::ofstream out(temporary, std::ios::trunc | std::ios::binary);
  out << text;
  out.close();
  std::error_code error;
  if (out) fs::rename(temporary, path(), error);  // readers see the old index or the new one, never half
  if (!out || error) {
    const std::string why = !out ? std::string(std::strerror(errno)) : error.message();
    fs::remove(temporary, error);
    throw RecorderError(path() + ": cannot write the dataset index (" + why + ")");
  }
}

std::vector<EpisodeEntry> DatasetIndex::describeAll() const {
  std::map<std::string, EpisodeEntry> before;  // the stored index: its measured quality is the cache
  for (EpisodeEntry& e : read())
    before.emplace(e.file, std::move(e));
  std::vector<EpisodeEntry> entries;
  for (const std::string& file : DatasetFolder(folder_).episodePaths()) {
    auto cached = before.find(fs::path(file).filename().string());
    entries.push_back(describeEpisode(file, cached == before.end() ? nullptr : &cached->second));
  }
  return entries;
}

std::vector<EpisodeEntry> DatasetIndex::rebuild() const {
  IndexLock lock(folder_);
  std::vector<EpisodeEntry> entries = describeAll();
  write(entries);
  return entries;
}

std::vector<EpisodeEntry> DatasetIndex::scan(std::string& notWritten) const {
  IndexLock lock(folder_);  // without a lock file (read-only folder) the scan goes on unlocked
  std::vector<EpisodeEntry> entries = describeAll();
  notWritten.clear();
  try {
    write(entries);
  } catch (const std::exception& e) {
    notWritten = e.what();
  }
  return entries;
}

void DatasetIndex::update(const std::string& episodePath) const {
  IndexLock lock(folder_);
  std::vector<EpisodeEntry> entries = read();
  EpisodeEntry fresh = describeEpisode(episodePath);
  std::erase_if(entries, [&](const EpisodeEntry& e) { return e.file == fresh.file; });
  entries.push_back(fresh);
  std::sort(entries.begin(), entries.end(), [](const auto& a, const auto& b) { return a.number < b.number; });
  write(entries);
}

void DatasetIndex::remove(const std::string& episodePath) const {
  IndexLock lock(folder_);
  std::vector<EpisodeEntry> entries = read();
  const std::string file = fs::path(episodePath).filename().string();
  std::erase_if(entries, [&](const EpisodeEntry& e) { return e.file == file; });
  write(entries);
}

}  // namespace flywheel
