// The verdict from measured quality, and the /quality group that carries the measurements in the file.
#include <cmath>
#include <cstdio>
#include <limits>
#include <type_traits>

#include "recorder/episode_quality.hpp"
#include "recorder/episode_reader.hpp"
#include "recorder/h5.hpp"

namespace flywheel {

namespace {

std::string fixed(double value, int decimals) {
  char text[64];
  std::snprintf(text, sizeof text, "%.*f", decimals, value);
  return text;
}

std::string percent(double share) {
  return fixed(100.0 * share, 0) + "%";
}

struct Judgement {
  QualityVerdict result;
  void bad(const std::string& why) {
    result.verdict = Verdict::Bad;
    result.reasons.push_back(why);
  }
  void check(const std::string& why) {
    if (result.verdict == Verdict::Good) result.verdict = Verdict::Check;
    result.reasons.push_back(why);
  }
};

void judgeRate(const EpisodeQuality& q, const QualityThresholds& t, Judgement& j) {
  const double nominal = q.nominalRateHz;
  if (nominal <= 0) return;
  const std::string of = " of " + fixed(nominal, 0) + " Hz";
  if (q.meanRateHz && *q.meanRateHz < t.badRate * nominal)
    j.bad("mean rate " + fixed(*q.meanRateHz, 1) + of + ", under " + percent(t.badRate));
  else if (q.meanRateHz && *q.meanRateHz < t.checkRate * nominal)
    j.check("mean rate " + fixed(*q.meanRateHz, 1) + of + ", under " + percent(t.checkRate));
  if (q.worstWindowRateHz && *q.worstWindowRateHz < t.checkWindowRate * nominal)
    j.check("stalled: " + fixed(*q.worstWindowRateHz, 0) + " ticks in the worst second" + of);
  if (q.jitterP99 && *q.jitterP99 > t.checkJitter)
    j.check("jitter p99 " + fixed(*q.jitterP99 * 1000, 1) + " ms, over " + fixed(t.checkJitter * 1000, 1) +
            " ms");
}

void judgeCameras(const EpisodeQuality& q, const QualityThresholds& t, Judgement& j) {
  for (const CameraQuality& c : q.cameras) {
    if (c.repeatedShare && *c.repeatedShare > t.badRepeated)
      j.bad("camera " + c.name + " frozen: " + percent(*c.repeatedShare) + " of frames repeated");
    else if (c.repeatedShare && *c.repeatedShare - c.expectedRepeatedShare.value_or(0) > t.checkRepeated)
      j.check("camera " + c.name + " repeated " + percent(*c.repeatedShare) + " of frames" +
              (c.expectedRepeatedShare ? " (" + percent(*c.expectedRepeatedShare) + " expected)" : ""));
    if (c.maxFrameAge && *c.maxFrameAge > t.checkFrameAge)
      j.check("camera " + c.name + " frame " + fixed(*c.maxFrameAge, 2) + " s old");
  }
}

}  // namespace

const char* nameOf(Verdict verdict) {
  switch (verdict) {
    case Verdict::Good:
      return "good";
    case Verdict::Check:
      return "check";
    case Verdict::Bad:
      return "bad";
  }
  return "?";
}

std::optional<Verdict> parseVerdict(const std::string& text) {
  for (Verdict v : {Verdict::Good, Verdict::Check, Verdict::Bad})
    if (text == nameOf(v)) return v;
  return std::nullopt;
}

QualityVerdict judge(const EpisodeQuality& q, const QualityThresholds& t) {
  Judgement j;
  judgeRate(q, t, j);
  if (q.droppedTicks && *q.droppedTicks > static_cast<std::uint64_t>(t.checkDroppedTicks))
    j.check(std::to_string(*q.droppedTicks) + " ticks dropped by the writer");
  if (q.failedTicks && *q.failedTicks > static_cast<std::uint64_t>(t.checkFailedTicks))
    j.check(std::to_string(*q.failedTicks) + " failed bus ticks");
  judgeCameras(q, t, j);
  if (q.idleHeadSeconds > t.checkIdle) j.check("idle " + fixed(q.idleHeadSeconds, 1) + " s at the start");
  if (q.idleTailSeconds > t.checkIdle) j.check("idle " + fixed(q.idleTailSeconds, 1) + " s at the end");
  if (q.humanShare && *q.humanShare > t.checkHumanShare)
    j.check("human in control " + percent(*q.humanShare) + " of the run (" +
            std::to_string(q.takeovers.value_or(0)) + " takeovers)");
  return j.result;
}

void writeQuality(long long file, const EpisodeQuality& q) {
  h5::Handle group = h5::group(
      h5::check(H5Gcreate2(file, "quality", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT), "create /quality"));
  h5::writeDoubleAttribute(group, "ticks", static_cast<double>(q.ticks));
  visitMetrics(q, [&](const char* name, const auto& field) {
    using Field = std::decay_t<decltype(field)>;
    if constexpr (std::is_arithmetic_v<Field>)
      h5::writeDoubleAttribute(group, name, static_cast<double>(field));
    else if (field)
      h5::writeDoubleAttribute(group, name, static_cast<double>(*field));
  });
  for (const CameraQuality& c : q.cameras) {
    if (c.repeatedShare) h5::writeDoubleAttribute(group, "repeated_share:" + c.name, *c.repeatedShare);
    if (c.maxFrameAge) h5::writeDoubleAttribute(group, "max_frame_age_s:" + c.name, *c.maxFrameAge);
    if (c.expectedRepeatedShare)
      h5::writeDoubleAttribute(group, "expected_repeated_share:" + c.name, *c.expectedRepeatedShare);
  }
}

namespace {

herr_t collectAttribute(hid_t, const char* name, const H5A_info_t*, void* out) {
  auto* names = static_cast<std::vector<std::string>*>(out);
  if (names->size() >= 1024) return 1;
  names->push_back(name);
  return 0;
}

CameraQuality& cameraNamed(EpisodeQuality& q, const std::string& name) {
  for (CameraQuality& c : q.cameras)
    if (c.name == name) return c;
  return q.cameras.emplace_back(CameraQuality{name, std::nullopt, std::nullopt, std::nullopt});
}

}  // namespace

std::optional<EpisodeQuality> readStoredQuality(long long file) {
  if (H5Lexists(file, "quality", H5P_DEFAULT) <= 0) return std::nullopt;
  h5::Handle group = h5::group(H5Gopen2(file, "quality", H5P_DEFAULT));
  if (!group.valid()) return std::nullopt;
  EpisodeQuality q;
  try {
    auto number = [&](const std::string& name) -> std::optional<double> {
      if (!h5::hasAttribute(group, name)) return std::nullopt;
      const double value = h5::readDoubleAttribute(group, name);
      if (!std::isfinite(value) || value < 0 || value > 1e15) throw h5::Error(name + " is out of range");
      return value;
    };
    q.ticks = static_cast<std::size_t>(number("ticks").value_or(0));
    visitMetrics(q, [&](const char* name, auto& field) {
      using Field = std::decay_t<decltype(field)>;
      const auto value = number(name);
      if constexpr (std::is_arithmetic_v<Field>)
        field = static_cast<Field>(value.value_or(0));
      else if (value) {
        using Value = typename Field::value_type;  // takeovers and gripper events are ints
        if (*value > static_cast<double>(std::numeric_limits<Value>::max()))
          throw h5::Error(std::string(name) + " is out of range");
        field = static_cast<Value>(*value);
      }
    });
    std::vector<std::string> names;
    H5Aiterate2(group, H5_INDEX_NAME, H5_ITER_INC, nullptr, collectAttribute, &names);
    for (const std::string& name : names) {
      // Camera names are shown (list --why, tooltips): control characters and broken UTF-8 made safe.
      if (name.starts_with("repeated_share:"))
        cameraNamed(q, printable(name.substr(15))).repeatedShare = number(name);
      if (name.starts_with("max_frame_age_s:"))
        cameraNamed(q, printable(name.substr(16))).maxFrameAge = number(name);
      if (name.starts_with("expected_repeated_share:"))
        cameraNamed(q, printable(name.substr(24))).expectedRepeatedShare = number(name);
    }
  } catch (const h5::Error&) {
    return std::nullopt;  // damaged: measured again from the datasets
  }
  return q;
}

}  // namespace flywheel
