// Trim marks and human-control spans on an episode's time axis, as the label CLI, the Review view and
// training use them (the marks themselves are EpisodeLabels fields, recorder/labels.hpp).
//
// Time is seconds from the first tick, as /timestamp measures it; files without /timestamp count tick / fps.
// A span is half-open, [start, end): a tick at time t is inside when start <= t < end.
#pragma once

#include <string>
#include <vector>

#include "recorder/episode_reader.hpp"
#include "recorder/labels.hpp"

namespace flywheel {

struct TimeSpan {
  double start = 0.0, end = 0.0;
  bool operator==(const TimeSpan&) const = default;
};

// Each tick's time: /timestamp, or tick / fps when the file has none. Throws RecorderError.
std::vector<double> tickTimes(EpisodeReader& reader, const EpisodeSummary& summary);
// How far the trim marks may reach: past the last tick by one period, and at least ticks / fps.
double trimmableDuration(const EpisodeSummary& summary);

// Trim marks that cut the idle head and tail (from episode_quality's idleHeadSeconds/idleTailSeconds):
// the start at the first moving tick, the end one period past the last. A side with no idle time is left
// untrimmed. Returns false, leaving `labels` as they were, when no joint moved at all.
bool setIdleTrim(EpisodeLabels& labels, double idleHeadSeconds, double idleTailSeconds, double lastTick,
                 double period);
// The same for the episode open in `reader` (its summary without a problem): its idle head and tail
// measured, its ticks' times read. False when no joint moved; throws RecorderError when it cannot measure.
bool setIdleTrim(EpisodeLabels& labels, EpisodeReader& reader, const EpisodeSummary& summary);

// The runs of ticks with /intervention set, as spans: from the first tick's time to the time of the tick
// after the last (or the last tick's time plus one period).
std::vector<TimeSpan> humanControlSpans(const std::vector<double>& intervention,
                                        const std::vector<double>& times, double period);
// The parts of `human` no recovery or correction segment covers yet, those longer than minSeconds.
std::vector<TimeSpan> unreviewedSpans(const std::vector<TimeSpan>& human,
                                      const std::vector<Segment>& segments, double minSeconds);
// Whether time t lies in a segment of that kind.
bool insideSpanOf(const std::vector<Segment>& segments, SpanKind kind, double t);

// The text a segment gets when marked as `kind`: its recovery/correction prefix replaced, or the kind's name
// put before it ("recovery: ..."); an empty text becomes the name alone.
std::string markedText(const std::string& text, SpanKind kind);
// Splits segment `index` at t into two (both keep the text); false when t is not inside it.
bool splitSegment(std::vector<Segment>& segments, std::size_t index, double t);

}  // namespace flywheel
