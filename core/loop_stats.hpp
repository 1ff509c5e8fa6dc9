// Period, jitter, software time and overruns of a fixed-rate loop, measured rather than assumed.
#pragma once

#include <cstdint>
#include <mutex>
#include <vector>

namespace flywheel {

struct LoopStatsSummary {
  std::uint64_t ticks = 0;
  std::uint64_t overruns = 0;  // ticks whose deadline had already passed
  double nominalPeriod = 0.0;
  double meanPeriod = 0.0;      // seconds
  double rateHz = 0.0;          // 1 / meanPeriod, over the last window
  double elapsed = 0.0;         // seconds from the first tick's start to the last one's, since reset
  double achievedRateHz = 0.0;  // ticks per second over `elapsed`: what a slow bus really allowed
  double jitterP50 = 0.0;       // |period - nominal|, seconds
  double jitterP99 = 0.0;
  double jitterMax = 0.0;
  double workP50 = 0.0;  // software time inside a tick, seconds
  double workP99 = 0.0;
  double workMax = 0.0;
};

// Keeps the last `window` samples; record() is cheap enough to call from the loop every tick.
class LoopStats {
 public:
  explicit LoopStats(double nominalPeriod, std::size_t window = 20000);
  void record(double period, double work, bool overrun);
  void reset();
  LoopStatsSummary summary() const;

 private:
  mutable std::mutex mutex_;
  double nominalPeriod_;
  std::size_t window_;
  std::vector<double> periods_;
  std::vector<double> works_;
  std::size_t next_ = 0;
  std::uint64_t ticks_ = 0;
  std::uint64_t overruns_ = 0;
  std::uint64_t intervals_ = 0;  // periods summed in elapsed_
  double elapsed_ = 0.0;
};

double percentile(std::vector<double> values, double fraction);

}  // namespace flywheel
