#include "recorder/labels.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cctype>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <limits>
#include <nlohmann/json.hpp>
#include <string_view>
#include <thread>

#include "core/utf8.hpp"
#include "recorder/episode_reader.hpp"
#include "recorder/episode_writer.hpp"
#include "recorder/h5.hpp"

namespace flywheel {

namespace fs = std::filesystem;
using json = nlohmann::json;

namespace {

// Labels written before trims existed have no "trim": they read as untrimmed.
void readTrim(const json& j, EpisodeLabels& labels) {
  if (!j.contains("trim") || j["trim"].is_null()) return;
  const json& trim = j["trim"];
  if (!trim.is_object()) throw RecorderError("trim is not an object with start and end");
  auto side = [&](const char* key) -> std::optional<double> {
    if (!trim.contains(key) || trim[key].is_null()) return std::nullopt;
    if (!trim[key].is_number()) throw RecorderError(std::string("trim ") + key + " is not a number");
    return trim[key].get<double>();
  };
  labels.trimStart = side("start");
  labels.trimEnd = side("end");
}

}  // namespace

std::string EpisodeLabels::toJson() const {
  json j{{"version", 1}, {"task", task}, {"notes", notes}, {"tags", tags}, {"operator", operatorName}};
  j["success"] = success ? json(*success) : json(nullptr);
  j["segments"] = json::array();
  for (const Segment& s : segments)
    j["segments"].push_back({{"start", s.start}, {"end", s.end}, {"text", s.text}});
  if (trimStart || trimEnd) {
    j["trim"] = json::object();
    if (trimStart) j["trim"]["start"] = *trimStart;
    if (trimEnd) j["trim"]["end"] = *trimEnd;
  }
  return j.dump();
}

EpisodeLabels EpisodeLabels::fromJson(const std::string& text) {
  try {
    json j = json::parse(text);
    if (!j.is_object()) throw RecorderError("not a JSON object");
    EpisodeLabels labels;
    labels.task = j.value("task", "");
    if (j.contains("success") && j["success"].is_boolean()) labels.success = j["success"].get<bool>();
    labels.notes = j.value("notes", "");
    labels.tags = j.value("tags", std::vector<std::string>{});
    labels.operatorName = j.value("operator", "");
    for (const json& s : j.value("segments", json::array()))
      labels.segments.push_back({s.value("start", 0.0), s.value("end", 0.0), s.value("text", "")});
    readTrim(j, labels);
    return labels;
  } catch (const json::exception& e) {
    throw RecorderError(std::string("not valid JSON: ") + e.what());
  }
}

namespace {

// A slot holds UTF-8 JSON up to the first zero byte (or the slot's end).
std::string slotText(const std::uint8_t* bytes, std::size_t size) {
  const auto* text = reinterpret_cast<const char*>(bytes);
  return std::string(text, strnlen(text, size));
}

void writeSlot(hid_t group, const char* name, const std::string& text) {
  if (text.size() >= kLabelSlotBytes)
    throw RecorderError("labels take " + std::to_string(text.size()) + " bytes, more than the 64 KiB slot");
  std::vector<std::uint8_t> bytes(kLabelSlotBytes, 0);
  std::copy(text.begin(), text.end(), bytes.begin());
  h5::Handle slot = h5::dataset(h5::check(H5Dopen2(group, name, H5P_DEFAULT), std::string("open ") + name));
  h5::check(H5Dwrite(slot, H5T_NATIVE_UINT8, H5S_ALL, H5S_ALL, H5P_DEFAULT, bytes.data()),
            std::string("write ") + name);
}

// Every dataset of /annotations is checked before a byte of it is read: a foreign or damaged block is
// refused with the reason, never read into a buffer of the wrong size.
h5::Handle openChecked(hid_t group, const char* name) {
  if (H5Lexists(group, name, H5P_DEFAULT) <= 0) throw RecorderError(std::string("no ") + name);
  h5::Handle ds = h5::dataset(H5Dopen2(group, name, H5P_DEFAULT));
  if (!ds.valid()) throw RecorderError(std::string(name) + " is not a dataset");
  return ds;
}

h5::Handle openSlot(hid_t group, const char* name) {
  h5::Handle slot = openChecked(group, name);
  const h5::DatasetInfo info = h5::datasetInfo(slot);
  if (info.kind != H5T_INTEGER || info.elementBytes != 1 || info.shape.size() != 1 ||
      info.shape[0] != kLabelSlotBytes)
    throw RecorderError(std::string(name) + " is " + info.describe() + ", expected [" +
                        std::to_string(kLabelSlotBytes) + "] bytes");
  return slot;
}

std::string readSlot(hid_t group, const char* name) {
  h5::Handle slot = openSlot(group, name);
  std::vector<std::uint8_t> bytes(kLabelSlotBytes, 0);
  h5::check(H5Dread(slot, H5T_NATIVE_UINT8, H5S_ALL, H5S_ALL, H5P_DEFAULT, bytes.data()),
            std::string("read ") + name);
  return slotText(bytes.data(), bytes.size());
}

void createDataset(hid_t group, const char* name, hsize_t size) {
  h5::Handle space = h5::space(size > 1 ? H5Screate_simple(1, &size, nullptr) : H5Screate(H5S_SCALAR));
  h5::Handle dcpl = h5::plist(H5Pcreate(H5P_DATASET_CREATE));
  H5Pset_layout(dcpl, H5D_CONTIGUOUS);
  H5Pset_alloc_time(dcpl, H5D_ALLOC_TIME_EARLY);  // the bytes exist from the start: saves only overwrite them
  h5::Handle ds =
      h5::dataset(h5::check(H5Dcreate2(group, name, H5T_STD_U8LE, space, H5P_DEFAULT, dcpl, H5P_DEFAULT),
                            std::string("create ") + name));
}

std::uint8_t readCurrent(hid_t group) {
  h5::Handle ds = openChecked(group, "current");
  const h5::DatasetInfo info = h5::datasetInfo(ds);
  if (info.kind != H5T_INTEGER || info.elements != 1 || info.shape.size() > 1)
    throw RecorderError("current is " + info.describe() + ", expected one number");
  long long current = 0;
  h5::check(H5Dread(ds, H5T_NATIVE_LLONG, H5S_ALL, H5S_ALL, H5P_DEFAULT, &current), "read current");
  if (current != 0 && current != 1)
    throw RecorderError("current is " + std::to_string(current) + ", expected 0 or 1");
  return static_cast<std::uint8_t>(current);
}

// The whole block is checked before a save writes into it: both slots and `current`.
void checkLabelBlock(hid_t group) {
  openSlot(group, "slot_a");
  openSlot(group, "slot_b");
  readCurrent(group);
}

h5::Handle openAnnotations(hid_t file) {
  h5::Handle group = h5::group(H5Gopen2(file, "annotations", H5P_DEFAULT));
  if (!group.valid()) throw RecorderError("/annotations is not a group");
  return group;
}

void syncFile(hid_t file) {
  h5::check(H5Fflush(file, H5F_SCOPE_LOCAL), "flush");
  void* handle = nullptr;
  if (H5Fget_vfd_handle(file, H5P_DEFAULT, &handle) >= 0 && handle) ::fdatasync(*static_cast<int*>(handle));
}

// For the kill-during-save test: a pause between writing the idle slot and flipping `current`.
void testPause() {
  if (const char* ms = std::getenv("FLYWHEEL_TEST_LABEL_SAVE_PAUSE_MS"))
    std::this_thread::sleep_for(std::chrono::milliseconds(std::atoi(ms)));
}

EpisodeLabels labelsFromAttributes(hid_t file) {
  EpisodeLabels labels;
  auto text = [&](const char* name) {
    std::string value = h5::hasAttribute(file, name) ? h5::readStringAttribute(file, name) : "";
    if (std::string problem = utf8Problem(value); !problem.empty())
      throw RecorderError(std::string("attribute '") + name + "': " + problem);
    return value;
  };
  labels.task = text("task");
  labels.operatorName = text("operator");
  std::string tags = text("tags");
  for (std::size_t start = 0; start < tags.size();) {
    std::size_t end = tags.find(',', start);
    if (end == std::string::npos) end = tags.size();
    if (end > start) labels.tags.push_back(tags.substr(start, end - start));
    start = end + 1;
  }
  if (h5::hasAttribute(file, "success")) labels.success = h5::readBoolAttribute(file, "success");
  return labels;
}

h5::Handle openEpisode(const std::string& path, unsigned flags) {
  if (!fs::exists(path)) throw RecorderError(path + ": no such file");
  if (!fs::is_regular_file(path)) throw RecorderError(path + ": not a file");
  try {
    return h5::openExisting(path, flags);
  } catch (const h5::Error& e) {
    throw RecorderError(e.what());
  }
}

}  // namespace

void createLabelSlots(long long file, const EpisodeLabels& initial) {
  h5::Handle group = h5::group(h5::check(
      H5Gcreate2(file, "annotations", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT), "create /annotations"));
  h5::writeStringAttribute(group, "format",
                           "labels as UTF-8 JSON in slot_a or slot_b (zero-padded); current: 0 = a, 1 = b");
  createDataset(group, "slot_a", kLabelSlotBytes);
  createDataset(group, "slot_b", kLabelSlotBytes);
  createDataset(group, "current", 1);
  writeSlot(group, "slot_a", initial.toJson());
  const std::uint8_t zero = 0;
  h5::Handle current = h5::dataset(H5Dopen2(group, "current", H5P_DEFAULT));
  h5::check(H5Dwrite(current, H5T_NATIVE_UINT8, H5S_ALL, H5S_ALL, H5P_DEFAULT, &zero), "write current");
}

void setRecordedLabels(long long file, const EpisodeLabels& labels) {
  h5::Handle group = h5::group(h5::check(H5Gopen2(file, "annotations", H5P_DEFAULT), "open /annotations"));
  writeSlot(group, "slot_a", labels.toJson());
}

bool hasLabelSlots(const std::string& path) {
  h5::Handle file = openEpisode(path, H5F_ACC_RDONLY);
  return H5Lexists(file, "annotations", H5P_DEFAULT) > 0;
}

EpisodeLabels decodeLabelSlot(const std::uint8_t* bytes, std::size_t size) {
  return EpisodeLabels::fromJson(slotText(bytes, size));
}

EpisodeLabels readLabelsOf(long long file) {
  try {
    if (H5Lexists(file, "annotations", H5P_DEFAULT) <= 0) return labelsFromAttributes(file);
    h5::Handle group = openAnnotations(file);
    const std::uint8_t current = readCurrent(group);
    checkLabelBlock(group);
    return EpisodeLabels::fromJson(readSlot(group, current == 0 ? "slot_a" : "slot_b"));
  } catch (const std::exception& e) {
    throw RecorderError("labels: " + printable(e.what()));
  }
}

EpisodeLabels readLabels(const std::string& path) {
  h5::Handle file = openEpisode(path, H5F_ACC_RDONLY);
  try {
    return readLabelsOf(file);
  } catch (const RecorderError& e) {
    throw RecorderError(path + ": " + e.what());
  }
}

void writeLabels(const std::string& path, const EpisodeLabels& labels) {
  if (std::string problem = validateTrim(labels, -1.0); !problem.empty())
    throw RecorderError(path + ": " + problem + "; nothing saved");
  if (!hasLabelSlots(path)) {
    // An episode recorded before labels had slots: give a copy the slots, then swap it in atomically.
    const std::string copy = path + ".labels-tmp";
    fs::copy_file(path, copy, fs::copy_options::overwrite_existing);
    {
      h5::Handle file = openEpisode(copy, H5F_ACC_RDWR);
      labelsFromAttributes(file);  // refuses attributes that are not labels before anything is written
      createLabelSlots(file, labelsFromAttributes(file));
      syncFile(file);
    }
    fs::rename(copy, path);
  }
  h5::Handle file = openEpisode(path, H5F_ACC_RDWR);
  h5::Handle group;
  try {
    group = openAnnotations(file);
    checkLabelBlock(group);  // a damaged block is never written into
  } catch (const std::exception& e) {
    throw RecorderError(path + ": labels: " + e.what() + "; nothing saved");
  }
  try {
    const std::uint8_t idle = readCurrent(group) == 0 ? 1 : 0;
    writeSlot(group, idle == 0 ? "slot_a" : "slot_b", labels.toJson());
    syncFile(file);  // the new labels are on disk before anything points at them
    testPause();
    h5::Handle current = h5::dataset(H5Dopen2(group, "current", H5P_DEFAULT));
    h5::check(H5Dwrite(current, H5T_NATIVE_UINT8, H5S_ALL, H5S_ALL, H5P_DEFAULT, &idle), "write current");
    syncFile(file);
  } catch (const h5::Error& e) {
    throw RecorderError(path + ": saving the labels failed: " + e.what() + " (the previous labels are kept)");
  }
}

std::string validateSegments(const std::vector<Segment>& segments, double duration) {
  for (std::size_t i = 0; i < segments.size(); ++i) {
    const Segment& s = segments[i];
    const std::string which = "segment " + std::to_string(i + 1) + " ('" + s.text + "')";
    if (s.text.empty()) return "segment " + std::to_string(i + 1) + " has no text";
    if (!(s.start < s.end)) return which + " ends before it starts";
    if (s.start < 0.0 || s.end > duration + 1e-6)
      return which + " lies outside the episode (0 to " + std::to_string(duration) + " s)";
  }
  return "";
}

std::string validateTrim(const EpisodeLabels& labels, double duration) {
  auto seconds = [](double s) {
    char text[32];
    std::snprintf(text, sizeof text, "%.3f s", s);
    return std::string(text);
  };
  const auto& start = labels.trimStart;
  const auto& end = labels.trimEnd;
  if ((start && !std::isfinite(*start)) || (end && !std::isfinite(*end)))
    return "trim: a mark is not a number";
  if (start && *start < 0.0) return "trim: start " + seconds(*start) + " is before the episode";
  if (start && end && !(*start < *end))
    return "trim: start " + seconds(*start) + " is not before end " + seconds(*end);
  if (duration >= 0.0 && start && *start >= duration)
    return "trim: start " + seconds(*start) + " is past the episode's end (" + seconds(duration) + ")";
  if (duration >= 0.0 && end && *end > duration + 1e-6)
    return "trim: end " + seconds(*end) + " is past the episode's end (" + seconds(duration) + ")";
  if (end && *end <= 0.0) return "trim: end " + seconds(*end) + " keeps nothing";
  return "";
}

std::pair<std::size_t, std::size_t> trimmedTicks(const EpisodeLabels& labels,
                                                 const std::vector<double>& timestamps) {
  if (std::string problem = validateTrim(labels, -1.0); !problem.empty()) throw RecorderError(problem);
  const std::size_t n = timestamps.size();
  std::size_t first = 0;
  if (labels.trimStart)
    while (first < n && timestamps[first] < *labels.trimStart - 1e-9)
      ++first;
  std::size_t last = first;
  const double end = labels.trimEnd.value_or(std::numeric_limits<double>::infinity());
  while (last < n && timestamps[last] < end - 1e-9)
    ++last;
  return {first, last};
}

SpanKind spanKindOf(const Segment& segment) {
  auto startsWithWord = [&](std::string_view word) {
    if (segment.text.size() < word.size()) return false;
    for (std::size_t i = 0; i < word.size(); ++i)
      if (std::tolower(static_cast<unsigned char>(segment.text[i])) != word[i]) return false;
    return segment.text.size() == word.size() ||
           !std::isalnum(static_cast<unsigned char>(segment.text[word.size()]));
  };
  if (startsWithWord("recovery")) return SpanKind::Recovery;
  if (startsWithWord("correction")) return SpanKind::Correction;
  return SpanKind::None;
}

const char* nameOf(SpanKind kind) {
  switch (kind) {
    case SpanKind::Recovery:
      return "recovery";
    case SpanKind::Correction:
      return "correction";
    case SpanKind::None:
      break;
  }
  return "";
}

}  // namespace flywheel
