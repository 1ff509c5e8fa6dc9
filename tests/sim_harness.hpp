// Test helpers: a simulated rig on a manual clock, driven tick by tick on the test's thread, and a sink
// that keeps every observation it is handed.
#pragma once

#include <memory>

#include "core/clock.hpp"
#include "core/config.hpp"
#include "core/control_loop.hpp"
#include "core/teleop_controller.hpp"
#include "devices/rig.hpp"
#include "devices/sim/sim_world.hpp"

namespace flywheel::testing {

struct CollectingSink final : ObservationSink {
  std::vector<Observation> observations;
  void onObservation(const Observation& observation) override { observations.push_back(observation); }
};

struct SimHarness {
  ManualClock clock;
  TeleopController teleop;
  std::unique_ptr<Rig> rig;
  std::unique_ptr<ControlLoop> loop;

  // teleoperated: the leaders drive the followers; otherwise no controller until the test installs one.
  explicit SimHarness(const RigConfig& config, bool teleoperated = true) {
    rig = std::make_unique<Rig>(config, clock);
    rig->connect();
    loop = std::make_unique<ControlLoop>(rig->config(), rig->devices(), clock);
    if (teleoperated) loop->setController(&teleop);
  }
  sim::SimWorld& world() { return *rig->simWorld(); }
  // A fresh scene from `seed`, then `ticks` ticks with every observation collected.
  std::vector<Observation> runEpisode(unsigned seed, std::uint64_t ticks) {
    world().resetEpisode(seed);
    loop->resyncGoals();
    rig->refreshSimulatedCameras();
    CollectingSink sink;
    loop->setSink(&sink);
    loop->runTicks(ticks);
    loop->setSink(nullptr);
    return sink.observations;
  }
};

inline std::vector<double> column(const std::vector<Observation>& observations, bool action) {
  std::vector<double> values;
  for (const auto& o : observations) {
    const auto& v = action ? o.action : o.state.position;
    values.insert(values.end(), v.begin(), v.end());
  }
  return values;
}

}  // namespace flywheel::testing
