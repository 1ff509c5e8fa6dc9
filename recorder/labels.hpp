// Language labels of an episode: the instruction (task), success, notes, tags, operator, segments of
// (start, end, text) on the episode's timeline for long tasks, and trim marks: the part of the take that
// training and exports use (JSON "trim": {"start": s, "end": s}; either side absent = not trimmed there).
// Segments whose text starts with "recovery" or "correction" mark a span under human control in a policy
// run: recovery brings the robot back (not trained on), correction does the task right (trained on).
//
// Stored inside the episode file without ever touching its structure: /annotations holds two fixed-size
// byte slots (slot_a, slot_b, 64 KiB each, UTF-8 JSON, zero-padded) and `current` (0 or 1) naming the live
// one. A save writes the idle slot, syncs it, then flips `current` and syncs again: a crash or kill at any
// moment leaves the old labels or the new ones, and the recording itself is never rewritten.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace flywheel {

struct Segment {
  double start = 0.0;  // seconds from the episode's first tick
  double end = 0.0;
  std::string text;
  bool operator==(const Segment&) const = default;
};

struct EpisodeLabels {
  std::string task;
  std::optional<bool> success;
  std::string notes;
  std::vector<std::string> tags;
  std::string operatorName;
  std::vector<Segment> segments;
  std::optional<double> trimStart, trimEnd;  // seconds from the first tick; absent = untrimmed
  bool operator==(const EpisodeLabels&) const = default;

  std::string toJson() const;
  static EpisodeLabels fromJson(const std::string& json);  // throws RecorderError when it is not labels
};

constexpr std::size_t kLabelSlotBytes = 64 * 1024;

// Creates the slots in a file being written (the recorder does this for every new episode), and sets the
// labels a take is saved with (slot a, still live: nobody has labelled the file yet).
void createLabelSlots(long long file, const EpisodeLabels& initial);
void setRecordedLabels(long long file, const EpisodeLabels& labels);

// The labels of an episode: from the live slot, or from the recorded attributes for files without slots.
// Every dataset of /annotations is checked (type, rank, size, `current` 0 or 1) before it is read; a
// damaged block throws RecorderError("<path>: labels: <why>").
EpisodeLabels readLabels(const std::string& episodePath);
EpisodeLabels readLabelsOf(long long openFile);  // the same from an open file; "labels: <why>"
// The labels in a slot's bytes: UTF-8 JSON up to the first zero byte. Throws RecorderError.
EpisodeLabels decodeLabelSlot(const std::uint8_t* bytes, std::size_t size);
bool hasLabelSlots(const std::string& episodePath);
// Saves crash-safely (see above); a damaged label block is refused, never written into. Files recorded
// without slots are first given them through a copy that replaces the original atomically. Throws
// RecorderError naming the file.
void writeLabels(const std::string& episodePath, const EpisodeLabels& labels);
// Checks segments: inside the episode, start < end, text not empty. Returns the problem or "".
std::string validateSegments(const std::vector<Segment>& segments, double duration);
// Checks the trim marks: finite, start >= 0, start < end, end <= duration. Returns the problem or "".
// A negative duration skips the check against the episode's length (writeLabels, which does not know it).
std::string validateTrim(const EpisodeLabels& labels, double duration);

// The half-open tick range [first, last) the trim keeps, from the episode's /timestamp (seconds since the
// first tick): ticks with trimStart <= t < trimEnd. Untrimmed: [0, timestamps.size()). A trim that keeps
// no tick gives first == last. Throws RecorderError when the trim is not valid (validateTrim).
std::pair<std::size_t, std::size_t> trimmedTicks(const EpisodeLabels& labels,
                                                 const std::vector<double>& timestamps);

enum class SpanKind { None, Recovery, Correction };
// From the segment's text: "recovery..." or "correction..." (any case, as a whole word), else None.
SpanKind spanKindOf(const Segment& segment);
const char* nameOf(SpanKind kind);  // "", "recovery", "correction"

}  // namespace flywheel
