// `flywheel bench-policy`: observation → action latency of a TorchScript model split into preprocess,
// forward and postprocess, on sim-aloha-sized observations (four 480x640 frames, 14 joints); and the
// round trip to an openpi server over loopback against the request's size. `./studio bench` runs it with
// a model and a server of its own and sets the forward against python3-torch's in the same script.
#include <sys/resource.h>

#include <algorithm>
#include <cstdio>
#include <random>

#include "app/cli/command_support.hpp"
#include "app/cli/commands.hpp"
#include "policy/openpi_client.hpp"
#include "policy/torchscript_policy.hpp"

namespace flywheel::app {

namespace {

double percentile(std::vector<double> values, double q) {
  if (values.empty()) return 0.0;
  std::sort(values.begin(), values.end());
  return values[static_cast<std::size_t>(q * static_cast<double>(values.size() - 1))];
}

long minorPageFaults() {
  rusage usage{};
  getrusage(RUSAGE_THREAD, &usage);
  return usage.ru_minflt;
}

// Noise frames, so that JPEG-free letterboxing and the network see realistic bytes.
Observation alohaObservation(std::size_t cameras, std::size_t joints) {
  std::mt19937 random(3);
  Observation o;
  o.state = JointState::zeros(joints);
  for (std::size_t j = 0; j < joints; ++j)
    o.state.position[j] = 0.01 * static_cast<double>(j);
  for (std::size_t c = 0; c < cameras; ++c) {
    const int w = 640, h = 480;
    auto pixels = std::shared_ptr<std::uint8_t[]>(new std::uint8_t[static_cast<std::size_t>(w * h * 3)]);
    for (int i = 0; i < w * h * 3; ++i)
      pixels[static_cast<std::size_t>(i)] = static_cast<std::uint8_t>(random());
    o.frames.push_back({{w, h, pixels}, 0.0, 1});
  }
  return o;
}

const std::vector<std::string> kAlohaCameras{"cam_high", "cam_low", "cam_left_wrist", "cam_right_wrist"};

void benchModel(const std::string& model, int iterations) {
  TorchScriptPolicy policy(model, {14, kAlohaCameras, 50.0});
  const Observation observation = alohaObservation(4, 14);
  for (int i = 0; i < 3; ++i)
    policy.infer(observation, "warm up");
  std::vector<double> pre, forward, post, total;
  const long faultsBefore = minorPageFaults();
  for (int i = 0; i < iterations; ++i) {
    InferenceTiming t = policy.infer(observation, "pick up the cube").timing;
    pre.push_back(t.preprocess);
    forward.push_back(t.forward);
    post.push_back(t.postprocess);
    total.push_back(t.total);
  }
  const long faults = (minorPageFaults() - faultsBefore) / std::max(1, iterations);
  // Timed as tests/bench/torch_forward.py times python3-torch: one prepared input, forward after forward.
  const std::vector<double> alone = policy.timeForward(observation, iterations);
  const ModelContract& c = policy.contract();
  std::printf("TorchScript %s on %s: 4 frames of 480x640 letterboxed to %dx%d, %d iterations\n",
              policy.describe().c_str(), policy.deviceName().c_str(), c.imageHeight, c.imageWidth,
              iterations);
  std::printf("  preprocess   p50 %7.2f ms  p95 %7.2f ms\n", percentile(pre, 0.5) * 1e3,
              percentile(pre, 0.95) * 1e3);
  std::printf("  forward      p50 %7.2f ms  p95 %7.2f ms  (alone, on one prepared input: p50 %.2f ms)\n",
              percentile(forward, 0.5) * 1e3, percentile(forward, 0.95) * 1e3, percentile(alone, 0.5) * 1e3);
  std::printf("  postprocess  p50 %7.3f ms  p95 %7.3f ms\n", percentile(post, 0.5) * 1e3,
              percentile(post, 0.95) * 1e3);
  std::printf("  observation to action p50 %7.2f ms, %ld page faults per inference\n",
              percentile(total, 0.5) * 1e3, faults);
  std::printf("libtorch forward p50 ms %.4f\n", percentile(alone, 0.5) * 1e3);
}

// The same server, requests of growing size: what the websocket and msgpack cost beyond the server's time.
void benchServer(const std::string& url, int iterations) {
  std::printf("openpi round trip to %s over loopback, %d requests each\n", redactAddress(url).c_str(),
              iterations);
  std::printf("  %-20s %10s %12s %12s %14s %8s\n", "request", "bytes", "encode", "round trip",
              "beyond server", "MB/s");
  struct Case {
    const char* label;
    std::size_t cameras;
    int size;
  };
  for (Case c : {Case{"state only", 0, 224}, Case{"1 camera 224", 1, 224}, Case{"4 cameras 224", 4, 224},
                 Case{"4 cameras 480", 4, 480}}) {
    OpenPiOptions options{url};
    options.imageSize = c.size;
    std::vector<std::string> cameras(kAlohaCameras.begin(),
                                     kAlohaCameras.begin() + static_cast<long>(c.cameras));
    OpenPiPolicy policy(options, {14, cameras, 50.0});
    const Observation observation = alohaObservation(c.cameras, 14);
    const std::size_t bytes = policy.encode(observation, "pick up the cube").size();
    policy.infer(observation, "warm up");
    std::vector<double> encode, roundTrip, beyond;
    for (int i = 0; i < iterations; ++i) {
      InferenceTiming t = policy.infer(observation, "pick up the cube").timing;
      encode.push_back(t.preprocess);
      roundTrip.push_back(t.network + t.forward);  // request sent to reply received
      beyond.push_back(t.network);                 // what the server's own inference time does not explain
    }
    std::printf("  %-20s %10zu %9.2f ms %9.2f ms %11.2f ms %8.1f\n", c.label, bytes,
                percentile(encode, 0.5) * 1e3, percentile(roundTrip, 0.5) * 1e3,
                percentile(beyond, 0.5) * 1e3, static_cast<double>(bytes) / percentile(roundTrip, 0.5) / 1e6);
  }
}

}  // namespace

int runPolicyBench(const PolicyBenchOptions& options) {
  if (options.model.empty() && options.server.empty()) {
    std::fprintf(stderr, "flywheel: bench-policy needs --model MODEL.pt and/or --server ws://HOST:PORT\n");
    return 2;
  }
  if (!options.model.empty()) benchModel(options.model, options.iterations);
  if (!options.server.empty()) benchServer(options.server, options.iterations);
  return 0;
}

}  // namespace flywheel::app
