#include "core/loop_stats.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>

namespace flywheel {

double percentile(std::vector<double> values, double fraction) {
  if (values.empty()) return 0.0;
  auto index = static_cast<std::size_t>(std::clamp(fraction, 0.0, 1.0) * (values.size() - 1));
  std::nth_element(values.begin(), values.begin() + index, values.end());
  return values[index];
}

LoopStats::LoopStats(double nominalPeriod, std::size_t window)
    : nominalPeriod_(nominalPeriod), window_(window) {
  periods_.reserve(window_);
  works_.reserve(window_);
}

void LoopStats::record(double period, double work, bool overrun) {
  std::lock_guard lock(mutex_);
  ++ticks_;
  if (overrun) ++overruns_;
  if (period <= 0.0) return;  // the first tick has no period
  ++intervals_;
  elapsed_ += period;
  if (periods_.size() < window_) {
    periods_.push_back(period);
    works_.push_back(work);
  } else {
    periods_[next_] = period;
    works_[next_] = work;
    next_ = (next_ + 1) % window_;
  }
}

void LoopStats::reset() {
  std::lock_guard lock(mutex_);
  periods_.clear();
  works_.clear();
  next_ = 0;
  ticks_ = overruns_ = intervals_ = 0;
  elapsed_ = 0.0;
}

LoopStatsSummary LoopStats::summary() const {
  std::vector<double> periods, works;
  LoopStatsSummary s;
  {
    std::lock_guard lock(mutex_);
    periods = periods_;
    works = works_;
    s.ticks = ticks_;
    s.overruns = overruns_;
    s.elapsed = elapsed_;
    if (elapsed_ > 0.0) s.achievedRateHz = static_cast<double>(intervals_) / elapsed_;
  }
  s.nominalPeriod = nominalPeriod_;
  if (periods.empty()) return s;
  s.meanPeriod = std::accumulate(periods.begin(), periods.end(), 0.0) / periods.size();
  s.rateHz = 1.0 / s.meanPeriod;
  std::vector<double> jitter(periods.size());
  std::transform(periods.begin(), periods.end(), jitter.begin(),
                 [&](double p) { return std::abs(p - nominalPeriod_); });
  s.jitterP50 = percentile(jitter, 0.50);
  s.jitterP99 = percentile(jitter, 0.99);
  s.jitterMax = *std::max_element(jitter.begin(), jitter.end());
  s.workP50 = percentile(works, 0.50);
  s.workP99 = percentile(works, 0.99);
  s.workMax = *std::max_element(works.begin(), works.end());
  return s;
}

}  // namespace flywheel
