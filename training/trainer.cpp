// The one translation unit in training/ that includes LibTorch. The model is a torch::jit::Module built
// here from training/policy_model (parameters registered, `forward` defined from TorchScript source),
// trained with AdamW over its parameters and saved with flywheel.json: the file `run` and python3-torch
// load is the very module that was trained, with no export step to drift from it.
#include "training/trainer.hpp"

#include <torch/script.h>
#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <future>
#include <nlohmann/json.hpp>
#include <random>
#include <thread>

#include "core/prompt_words.hpp"
#include "training/policy_model.hpp"

namespace flywheel {

namespace {

using Clock = std::chrono::steady_clock;
constexpr int kShift = 4;  // random-shift augmentation: pad 4 (edge pixels repeated), crop back (DrQ)

double secondsSince(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

// Prompt conditioning: asked for, or more than one task among the training episodes. The vocabulary is
// the training episodes' words only, so a word seen only in held-out episodes is <unk>, as on the robot.
PromptVocabulary vocabularyFor(const TrainingSet& data, bool asked) {
  std::vector<std::string> tasks;
  for (const EpisodeUse& use : data.usage())
    if (!use.heldOut && use.samples > 0) tasks.push_back(use.task);
  std::sort(tasks.begin(), tasks.end());
  tasks.erase(std::unique(tasks.begin(), tasks.end()), tasks.end());
  if (!asked && tasks.size() < 2) return {};
  return PromptVocabulary::fromPrompts(tasks);
}

PolicyArchitecture architectureFor(const TrainingSet& data, const TrainingSetOptions& shape,
                                   const PromptVocabulary& vocabulary) {
  PolicyArchitecture a;
  a.vocabulary = vocabulary.size() > 2 ? static_cast<int>(vocabulary.size()) : 0;
  a.cameras = static_cast<int>(data.cameras().size());
  a.joints = static_cast<int>(data.joints());
  a.horizon = shape.horizon;
  a.height = shape.imageHeight;
  a.width = shape.imageWidth;
  return a;
}

torch::jit::Module buildModule(const PolicyArchitecture& a, torch::Device device) {
  torch::jit::Module module("FlywheelPolicy");
  for (const ParameterSpec& p : policyParameters(a)) {
    at::Tensor t;
    if (p.init == ParameterSpec::Init::Ones)
      t = torch::ones(p.shape);
    else if (p.init == ParameterSpec::Init::Zeros)
      t = torch::zeros(p.shape);
    else {
      const double bound = 1.0 / std::sqrt(static_cast<double>(p.fanIn));
      t = torch::empty(p.shape).uniform_(-bound, bound);
    }
    module.register_parameter(p.name, t.to(device).set_requires_grad(true), false);
  }
  module.define(policySource(a));
  return module;
}

// Shifts every frame of the batch by up to kShift pixels each way, edges repeated; in place.
void randomShift(TrainingBatch& b, std::mt19937& random) {
  std::uniform_int_distribution<int> offset(-kShift, kShift);
  const int h = b.height, w = b.width;
  const std::size_t plane = static_cast<std::size_t>(h * w);
  std::vector<std::uint8_t> copy(plane * 3);
  for (std::size_t frame = 0; frame < b.size * static_cast<std::size_t>(b.cameras); ++frame) {
    std::uint8_t* pixels = b.images.data() + frame * 3 * plane;
    std::copy(pixels, pixels + 3 * plane, copy.begin());
    const int dy = offset(random), dx = offset(random);
    for (int c = 0; c < 3; ++c)
      for (int y = 0; y < h; ++y) {
        const int sy = std::clamp(y + dy, 0, h - 1);
        const std::uint8_t* src = copy.data() + c * plane + static_cast<std::size_t>(sy * w);
        std::uint8_t* dst = pixels + c * plane + static_cast<std::size_t>(y * w);
        for (int x = 0; x < w; ++x)
          dst[x] = src[std::clamp(x + dx, 0, w - 1)];
      }
  }
}

struct Tensors {
  at::Tensor state, images, actions, prompt;  // prompt: undefined for a model without one
};

// Each sample's task as word ids [B, L], L the batch's longest (at least 1), padded with 0.
at::Tensor promptIds(const TrainingBatch& b, const std::vector<std::vector<std::int64_t>>& episodeIds) {
  std::size_t longest = 1;
  for (std::uint32_t e : b.episodes)
    longest = std::max(longest, episodeIds[e].size());
  at::Tensor ids = torch::zeros({static_cast<long>(b.size), static_cast<long>(longest)}, torch::kInt64);
  std::int64_t* out = ids.data_ptr<std::int64_t>();
  for (std::size_t i = 0; i < b.size; ++i)
    std::copy(episodeIds[b.episodes[i]].begin(), episodeIds[b.episodes[i]].end(), out + i * longest);
  return ids;
}

Tensors tensorsOf(TrainingBatch& b, torch::Device device,
                  const std::vector<std::vector<std::int64_t>>& episodeIds) {
  const long n = static_cast<long>(b.size);
  Tensors t;
  if (!episodeIds.empty()) t.prompt = promptIds(b, episodeIds).to(device);
  t.state = torch::from_blob(b.state.data(), {n, b.joints}, torch::kFloat32).to(device, false, true);
  t.actions =
      torch::from_blob(b.actions.data(), {n, b.horizon, b.joints}, torch::kFloat32).to(device, false, true);
  t.images = torch::from_blob(b.images.data(), {n, b.cameras, 3, b.height, b.width}, torch::kUInt8)
                 .to(device)
                 .to(torch::kFloat32)
                 .div_(255.0);
  return t;
}

// Batches of `order` in turn; the next one is read, decoded (and augmented) on a loader thread while
// the caller trains on the current one.
class BatchStream {
 public:
  BatchStream(const TrainingSet& data, std::vector<SampleRef> order, int batchSize, bool augment,
              unsigned seed)
      : data_(data),
        order_(std::move(order)),
        batchSize_(static_cast<std::size_t>(batchSize)),
        augment_(augment),
        random_(seed) {
    prefetch();
  }
  ~BatchStream() {
    if (next_.valid()) next_.wait();
  }
  bool done() const { return !next_.valid(); }
  std::size_t total() const { return order_.size(); }
  TrainingBatch take() {
    TrainingBatch b = next_.get();
    prefetch();
    return b;
  }

 private:
  void prefetch() {
    if (position_ >= order_.size()) return;
    const std::size_t end = std::min(order_.size(), position_ + batchSize_);
    std::vector<SampleRef> refs(order_.begin() + static_cast<long>(position_),
                                order_.begin() + static_cast<long>(end));
    position_ = end;
    next_ = std::async(std::launch::async, [this, refs = std::move(refs)] {
      TrainingBatch b = data_.batch(refs);
      if (augment_) randomShift(b, random_);
      return b;
    });
  }

  const TrainingSet& data_;
  std::vector<SampleRef> order_;
  std::size_t batchSize_;
  bool augment_;
  std::mt19937 random_;  // used by one loader task at a time
  std::size_t position_ = 0;
  std::future<TrainingBatch> next_;
};

std::string contractJson(const TrainingSet& data, const TrainingSetOptions& shape,
                         const PolicyArchitecture& a, const PromptVocabulary& vocabulary, double heldOutLoss,
                         int epoch) {
  const NormalisationStats& s = data.stats();
  nlohmann::json j;
  j["state_dim"] = data.joints();
  j["action_dim"] = data.joints();
  j["horizon"] = shape.horizon;
  j["cameras"] = data.cameras();
  j["image_size"] = {shape.imageHeight, shape.imageWidth};
  j["state_mean"] = s.stateMean;
  j["state_std"] = s.stateStd;
  j["action_mean"] = s.actionMean;
  j["action_std"] = s.actionStd;
  if (a.vocabulary > 0) {
    j["takes_prompt"] = true;
    j["prompt_vocabulary"] = vocabulary.list();  // forward takes word ids, not the text
  }
  j["trained_by"] = "flywheel train";
  j["architecture"] = describe(a);
  j["episodes"] = data.episodes().size();
  j["epoch"] = epoch;
  if (std::isfinite(heldOutLoss)) j["held_out_loss"] = heldOutLoss;
  return j.dump();
}

// Written beside `out` and renamed over it: a reader (or a Ctrl-C) never sees half a model.
void saveAtomically(torch::jit::Module& module, torch::Device device, const std::string& out,
                    const std::string& json) {
  const std::string temp = out + ".tmp";
  if (device.is_cuda()) module.to(torch::kCPU);  // a CPU-only reader must load it
  try {
    module.save(temp, {{"flywheel.json", json}});
  } catch (const c10::Error& e) {
    if (device.is_cuda()) module.to(device);
    throw TrainingError(out + ": cannot save the model: " + e.what_without_backtrace());
  }
  if (device.is_cuda()) module.to(device);
  std::error_code error;
  std::filesystem::rename(temp, out, error);
  if (error) throw TrainingError(out + ": cannot save the model: " + error.message());
}

void checkWritable(const std::string& out) {
  if (out.empty()) throw TrainingError("no output file given (--out MODEL.pt)");
  if (std::filesystem::is_directory(out)) throw TrainingError(out + ": is a folder, not a model file");
  const std::string probe = out + ".tmp";
  std::ofstream file(probe);
  if (!file) throw TrainingError(out + ": cannot write there");
  file.close();
  std::filesystem::remove(probe);
}

}  // namespace

struct Trainer {
  const TrainingSet& data;
  const TrainOptions& options;
  const std::function<void(const TrainProgress&)>& progress;
  const std::atomic<bool>& cancel;
  torch::Device device{torch::kCPU};
  torch::jit::Module module{"FlywheelPolicy"};
  std::vector<std::vector<std::int64_t>> episodeIds{};  // per used episode, its task's word ids
  std::unique_ptr<torch::optim::AdamW> optimiser{};
  Clock::time_point start = Clock::now();

  bool outOfTime() const { return options.minutes > 0 && secondsSince(start) >= options.minutes * 60.0; }

  at::Tensor forward(const Tensors& t) {
    std::vector<torch::jit::IValue> inputs{t.state, t.images};
    if (t.prompt.defined()) inputs.emplace_back(t.prompt);
    return module.forward(inputs).toTensor();
  }

  // One pass over `samples`: returns the mean loss per sample; trains when `optimiser` is given.
  double pass(const std::vector<SampleRef>& samples, bool train, unsigned seed, TrainProgress& report) {
    BatchStream stream(data, samples, options.batchSize, train, seed);
    double lossSum = 0;
    std::size_t seen = 0;
    while (!stream.done()) {
      TrainingBatch batch = stream.take();
      Tensors t = tensorsOf(batch, device, episodeIds);
      const double n = static_cast<double>(batch.size);
      if (train) {
        if (options.stateNoise > 0) t.state.add_(torch::randn_like(t.state).mul_(options.stateNoise));
        at::Tensor loss = torch::l1_loss(forward(t), t.actions);
        optimiser->zero_grad();
        loss.backward();
        optimiser->step();
        lossSum += loss.item<double>() * n;
        seen += batch.size;
        report.epochFraction = double(seen) / double(stream.total());
        progress(report);
        if (cancel || outOfTime()) break;  // the epoch ends early; it is still evaluated and kept
      } else {
        torch::NoGradGuard noGrad;
        lossSum += torch::l1_loss(forward(t), t.actions).item<double>() * n;
        seen += batch.size;
      }
    }
    return seen ? lossSum / double(seen) : std::nan("");
  }
};

TrainResult trainPolicy(const TrainingSet& data, const TrainOptions& options,
                        const std::function<void(const TrainProgress&)>& progress,
                        const std::atomic<bool>& cancel) {
  if (options.epochs < 0 || options.minutes < 0) throw TrainingError("epochs and minutes must be positive");
  if (options.epochs > 0 && options.minutes > 0)
    throw TrainingError("give either epochs or minutes, not both");
  if (options.batchSize < 1) throw TrainingError("the batch size must be at least 1");
  if (data.trainSamples().empty()) throw TrainingError("no training samples in the episodes");
  checkWritable(options.out);

  const int threads =
      options.threads > 0 ? options.threads : int(std::max(1u, std::thread::hardware_concurrency()));
  torch::set_num_threads(threads);
  torch::manual_seed(options.seed);
  Trainer t{data, options, progress, cancel};
  if (torch::cuda::is_available()) t.device = torch::Device(torch::kCUDA);

  const TrainingSetOptions& shape = data.options();
  const PromptVocabulary vocabulary = vocabularyFor(data, options.promptConditioned);
  const PolicyArchitecture architecture = architectureFor(data, shape, vocabulary);
  if (architecture.vocabulary > 0)
    for (const EpisodeUse& use : data.usage())
      t.episodeIds.push_back(vocabulary.ids(use.task));
  t.module = buildModule(architecture, t.device);
  std::vector<at::Tensor> parameters;
  for (const at::Tensor& p : t.module.parameters())
    parameters.push_back(p);
  t.optimiser = std::make_unique<torch::optim::AdamW>(
      parameters, torch::optim::AdamWOptions(options.learningRate).weight_decay(1e-4));

  const int planned = options.minutes > 0 ? 0 : (options.epochs > 0 ? options.epochs : 10);
  TrainResult result;
  result.modelPath = options.out;
  if (architecture.vocabulary > 0) result.vocabulary = vocabulary.list();
  result.bestHeldOutLoss = std::nan("");
  std::vector<SampleRef> order = data.trainSamples();
  std::mt19937 shuffler(options.seed);
  double trainSeconds = 0;
  std::size_t trained = 0;
  for (int epoch = 1; planned == 0 || epoch <= planned; ++epoch) {
    TrainProgress report;
    report.epoch = epoch;
    report.epochs = planned;
    std::shuffle(order.begin(), order.end(), shuffler);
    const Clock::time_point epochStart = Clock::now();
    report.trainLoss = t.pass(order, true, options.seed * 7919u + unsigned(epoch), report);
    const double epochSeconds = secondsSince(epochStart);
    trainSeconds += epochSeconds;
    trained += static_cast<std::size_t>(std::lround(report.epochFraction * double(order.size())));
    report.heldOutLoss = t.pass(data.heldOutSamples(), false, 0, report);
    report.samplesPerSecond = report.epochFraction * double(order.size()) / std::max(epochSeconds, 1e-9);
    const bool noHeldOut = data.heldOutSamples().empty();
    report.improved = noHeldOut || !(report.heldOutLoss >= result.bestHeldOutLoss);  // NaN best: first
    if (report.improved) {
      saveAtomically(t.module, t.device, options.out,
                     contractJson(data, shape, architecture, vocabulary, report.heldOutLoss, epoch));
      result.bestHeldOutLoss = report.heldOutLoss;
    }
    result.epochs = epoch;
    const bool stop = cancel || t.outOfTime() || epoch == planned;
    const double elapsed = secondsSince(t.start);
    report.secondsLeft = stop      ? 0.0
                         : planned ? elapsed / epoch * (planned - epoch)
                                   : std::max(0.0, options.minutes * 60.0 - elapsed);
    report.epochDone = true;
    report.epochFraction = 1.0;
    progress(report);
    if (stop) break;
  }
  result.cancelled = cancel;
  result.samplesPerSecond = double(trained) / std::max(trainSeconds, 1e-9);
  return result;
}

}  // namespace flywheel
