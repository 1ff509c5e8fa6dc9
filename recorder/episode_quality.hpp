// Quality of one recorded episode: what was measured (rate, jitter, drops, camera freshness, bus errors,
// idle head and tail, motion, gripper events, human control) and a verdict, good / check / bad, with the
// reasons, from thresholds a rig file's `quality:` section can change (core/config.hpp).
//
// Every metric the file cannot support (no /timestamp, no cameras, not a policy run, an attribute older
// files never stored) is absent (std::nullopt), never zero. The writer stores the measured values in a
// /quality group at save; older files are measured when indexed (recorder/dataset_index.hpp caches them).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/config.hpp"

namespace flywheel {

struct CameraQuality {
  std::string name;
  std::optional<double> repeatedShare;  // ticks that reused the previous tick's frame, 0..1
  std::optional<double> maxFrameAge;    // seconds between a frame's capture and the tick that recorded it
  // The share a camera slower than the recording repeats anyway (1 - camera fps / episode fps, from the
  // stored rig file): a 30 fps camera in a 50 Hz take repeats 40% of its frames and is fine.
  std::optional<double> expectedRepeatedShare;
};

struct EpisodeQuality {
  double nominalRateHz = 0.0;  // the file's fps attribute
  std::size_t ticks = 0;
  std::optional<double> meanRateHz;           // (ticks - 1) / measured duration
  std::optional<double> worstWindowRateHz;    // fewest ticks started in any 1-second window
  std::optional<double> jitterP99;            // seconds, |tick interval - nominal period|
  std::optional<std::uint64_t> overruns;      // intervals longer than 1.5 nominal periods (a missed slot)
  std::optional<std::uint64_t> droppedTicks;  // refused by the writer's full queue (root attribute)
  std::vector<CameraQuality> cameras;
  std::optional<std::uint64_t> busRetries, failedTicks;  // root attributes, when the recorder stored them
  double idleHeadSeconds = 0.0;      // from the first tick until any joint moved beyond the idle threshold
  double idleTailSeconds = 0.0;      // from the last movement to the last tick
  std::optional<double> pathLength;  // sum over ticks and non-gripper joints of |dq|, radians
  std::optional<double> peakJointSpeed;  // rad/s, the fastest non-gripper joint between two ticks
  std::optional<int> gripperEvents;      // open/close transitions of the gripper joints
  std::optional<int> takeovers;          // policy runs: rising edges of /intervention
  std::optional<double> humanShare;      // policy runs: ticks under human control, 0..1
};

enum class Verdict { Good, Check, Bad };
const char* nameOf(Verdict verdict);
std::optional<Verdict> parseVerdict(const std::string& text);  // "good", "check", "bad"

struct QualityVerdict {
  Verdict verdict = Verdict::Good;
  std::vector<std::string> reasons;  // one line each, e.g. "mean rate 38.1 Hz, under 84% of 50 Hz"
};

// Opens the file through EpisodeReader (hostile files are checked there) and measures it from its
// datasets; idle motion and gripper joints come from the rig file it stores. Throws RecorderError when
// it is not a readable episode.
EpisodeQuality measureEpisode(const std::string& path);
// The same on an episode file already open (the writer's, at close). Throws RecorderError.
EpisodeQuality measureOpenEpisode(long long file, const std::string& name);
// The `quality:` thresholds of the rig file an episode stores (rig_config); the defaults when it has none
// or it does not parse.
QualityThresholds thresholdsFor(const std::string& rigConfigText);

QualityVerdict judge(const EpisodeQuality& quality, const QualityThresholds& thresholds);

// Every scalar metric under its stored name (the /quality group's attributes, index.json's keys), for a
// visitor taking (const char* name, field&) where field is double or std::optional of a number.
template <class Quality, class Visit>
void visitMetrics(Quality& q, Visit&& visit) {
  visit("nominal_rate_hz", q.nominalRateHz);
  visit("mean_rate_hz", q.meanRateHz);
  visit("worst_window_rate_hz", q.worstWindowRateHz);
  visit("jitter_p99_s", q.jitterP99);
  visit("overruns", q.overruns);
  visit("dropped_ticks", q.droppedTicks);
  visit("bus_retries", q.busRetries);
  visit("failed_ticks", q.failedTicks);
  visit("idle_head_s", q.idleHeadSeconds);
  visit("idle_tail_s", q.idleTailSeconds);
  visit("path_length", q.pathLength);
  visit("peak_joint_speed", q.peakJointSpeed);
  visit("gripper_events", q.gripperEvents);
  visit("takeovers", q.takeovers);
  visit("human_share", q.humanShare);
}

// The /quality group written at save, and read back (nullopt when the file has none).
void writeQuality(long long file, const EpisodeQuality& quality);
std::optional<EpisodeQuality> readStoredQuality(long long file);

}  // namespace flywheel
