// The one monotonic clock everything is stamped with. A manual clock runs the rig faster than real time
// (tests, benchmarks) with the same code path.
#pragma once

#include <atomic>
#include <chrono>

namespace flywheel {

class Clock {
 public:
  virtual ~Clock() = default;
  virtual double now() const = 0;  // seconds, monotonic
  virtual bool isRealTime() const = 0;
};

class SteadyClock final : public Clock {
 public:
  double now() const override {
    return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
  }
  bool isRealTime() const override { return true; }
};

// Time only moves when advance() is called: the control loop then runs free, tick after tick.
class ManualClock final : public Clock {
 public:
  double now() const override { return seconds_.load(std::memory_order_acquire); }
  bool isRealTime() const override { return false; }
  void advance(double seconds) { seconds_.store(now() + seconds, std::memory_order_release); }

 private:
  std::atomic<double> seconds_{0.0};
};

}  // namespace flywheel
