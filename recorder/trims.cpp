#include "recorder/trims.hpp"

#include <algorithm>

#include "recorder/episode_quality.hpp"

namespace flywheel {

namespace {

bool hasTimestamps(const EpisodeSummary& summary) {
  return std::any_of(summary.datasets.begin(), summary.datasets.end(),
                     [](const DatasetShape& d) { return d.path == "/timestamp"; });
}

double periodOf(const EpisodeSummary& summary) {
  return summary.fps > 0 ? 1.0 / summary.fps : 0.0;
}

}  // namespace

std::vector<double> tickTimes(EpisodeReader& reader, const EpisodeSummary& summary) {
  std::vector<double> times;
  if (hasTimestamps(summary)) times = reader.readDoubles("/timestamp");
  if (times.size() == summary.ticks) return times;
  times.resize(summary.ticks);  // no /timestamp (or one of another length): the nominal times
  for (std::size_t t = 0; t < summary.ticks; ++t)
    times[t] = static_cast<double>(t) * periodOf(summary);
  return times;
}

double trimmableDuration(const EpisodeSummary& summary) {
  const double nominal = summary.fps > 0 ? static_cast<double>(summary.ticks) / summary.fps : 0.0;
  return std::max(nominal, summary.measuredDuration + periodOf(summary));
}

bool setIdleTrim(EpisodeLabels& labels, double idleHeadSeconds, double idleTailSeconds, double lastTick,
                 double period) {
  const double start = idleHeadSeconds, end = lastTick - idleTailSeconds + period;
  if (!(start < end) || idleHeadSeconds >= lastTick) return false;  // all head: nothing moved
  labels.trimStart = idleHeadSeconds > 0.0 ? std::optional<double>(start) : std::nullopt;
  labels.trimEnd = idleTailSeconds > 0.0 ? std::optional<double>(end) : std::nullopt;
  return true;
}

bool setIdleTrim(EpisodeLabels& labels, EpisodeReader& reader, const EpisodeSummary& summary) {
  const EpisodeQuality quality = measureOpenEpisode(reader.file(), summary.path);
  const std::vector<double> times = tickTimes(reader, summary);
  return !times.empty() && setIdleTrim(labels, quality.idleHeadSeconds, quality.idleTailSeconds, times.back(),
                                       periodOf(summary));
}

std::vector<TimeSpan> humanControlSpans(const std::vector<double>& intervention,
                                        const std::vector<double>& times, double period) {
  std::vector<TimeSpan> spans;
  const std::size_t n = std::min(intervention.size(), times.size());
  for (std::size_t t = 0; t < n; ++t) {
    if (intervention[t] == 0.0 || (t > 0 && intervention[t - 1] != 0.0)) continue;
    std::size_t end = t;
    while (end < n && intervention[end] != 0.0)
      ++end;
    spans.push_back({times[t], end < n ? times[end] : times[n - 1] + period});
  }
  return spans;
}

std::vector<TimeSpan> unreviewedSpans(const std::vector<TimeSpan>& human,
                                      const std::vector<Segment>& segments, double minSeconds) {
  std::vector<TimeSpan> marked;
  for (const Segment& s : segments)
    if (spanKindOf(s) != SpanKind::None) marked.push_back({s.start, s.end});
  std::sort(marked.begin(), marked.end(),
            [](const TimeSpan& a, const TimeSpan& b) { return a.start < b.start; });
  std::vector<TimeSpan> open;
  for (const TimeSpan& span : human) {
    double from = span.start;  // what of the span is left to cover, from here to span.end
    for (const TimeSpan& m : marked) {
      if (m.end <= from || m.start >= span.end) continue;
      if (m.start - from > minSeconds) open.push_back({from, m.start});
      from = std::max(from, m.end);
    }
    if (span.end - from > minSeconds) open.push_back({from, span.end});
  }
  return open;
}

bool insideSpanOf(const std::vector<Segment>& segments, SpanKind kind, double t) {
  return std::any_of(segments.begin(), segments.end(),
                     [&](const Segment& s) { return s.start <= t && t < s.end && spanKindOf(s) == kind; });
}

std::string markedText(const std::string& text, SpanKind kind) {
  std::string rest = text;
  if (const SpanKind old = spanKindOf({0, 0, text}); old != SpanKind::None) {
    rest.erase(0, std::string(nameOf(old)).size());
    rest.erase(0, rest.find_first_not_of(" :-"));
  }
  const std::string name = nameOf(kind);
  if (kind == SpanKind::None) return rest;
  return rest.empty() ? name : name + ": " + rest;
}

bool splitSegment(std::vector<Segment>& segments, std::size_t index, double t) {
  if (index >= segments.size() || !(segments[index].start < t && t < segments[index].end)) return false;
  Segment second = segments[index];
  second.start = t;
  segments[index].end = t;
  segments.insert(segments.begin() + static_cast<std::ptrdiff_t>(index) + 1, second);
  return true;
}

}  // namespace flywheel
