// The only translation unit that includes LibTorch (its headers cost ~20 s to compile).
#include "policy/torchscript_policy.hpp"

#include <ATen/Parallel.h>
#include <torch/cuda.h>
#include <torch/script.h>

#include <malloc.h>

#include <array>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <optional>
#include <sstream>

#include "core/prompt_words.hpp"
#include "policy/image_prep.hpp"

namespace flywheel {

namespace {

double secondsSince(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

std::vector<double> numbers(const nlohmann::json& j, const char* key, std::size_t expected,
                            const std::string& source) {
  if (!j.contains(key)) return {};
  std::vector<double> values;
  try {
    values = j.at(key).get<std::vector<double>>();
  } catch (const nlohmann::json::exception&) {
    throw PolicyError(source + ": flywheel.json: " + key + " must be a list of numbers");
  }
  if (values.size() != expected)
    throw PolicyError(source + ": flywheel.json: " + key + " has " + std::to_string(values.size()) +
                      " values, expected " + std::to_string(expected));
  return values;
}

// ACT clips its standard deviations to this; LeRobot adds a small epsilon. Either way no division by 0.
constexpr double kMinStd = 1e-2;

std::string numberText(double v) {
  std::ostringstream text;
  text << v;
  return text.str();
}

// Statistics as given, each finite and each std >= 0; a std below kMinStd is floored (and noted). A mean
// without a std gets std 1, a std without a mean gets mean 0.
void checkStatistics(std::vector<double>& mean, std::vector<double>& stdev, std::size_t size,
                     const char* meanKey, const char* stdKey, const char* item, const std::string& source,
                     std::vector<std::string>& notes) {
  if (mean.empty() && stdev.empty()) return;
  if (mean.empty()) mean.assign(size, 0.0);
  if (stdev.empty()) stdev.assign(size, 1.0);
  std::string floored;
  for (std::size_t j = 0; j < size; ++j) {
    if (!std::isfinite(mean[j]))
      throw PolicyError(source + ": flywheel.json: " + meanKey + " of " + item + " " + std::to_string(j) +
                        " is " + numberText(mean[j]) + ": a mean must be a finite number");
    if (!std::isfinite(stdev[j]) || stdev[j] < 0.0)
      throw PolicyError(source + ": flywheel.json: " + stdKey + " of " + item + " " + std::to_string(j) +
                        " is " + numberText(stdev[j]) +
                        ": a standard deviation must be a finite number >= 0");
    if (stdev[j] < kMinStd) {
      floored += (floored.empty() ? "" : ", ") + std::to_string(j) + " is " + numberText(stdev[j]);
      stdev[j] = kMinStd;
    }
  }
  if (!floored.empty())
    notes.push_back(std::string(stdKey) + " of " + item + " " + floored + ": floored to 0.01, as ACT does");
}

// Every inference allocates and frees the same few megabytes (the input tensor, the activations, the
// letterboxing). glibc hands such blocks back to the kernel as they are freed (mmap'd blocks, a trimmed
// heap top), so the next inference page-faults them in again, zero-filled: ~500 faults and 2-3 ms on the
// sim-aloha bench model, more than its whole 1.4 ms forward. Kept in the process they are reused as they
// are. Process-wide, so memory freed by anything else is kept for reuse too (up to the trim threshold).
void keepFreedMemoryInProcess() {
  mallopt(M_MMAP_THRESHOLD, 32 << 20);   // blocks up to 32 MiB (glibc's maximum) come from the heap
  mallopt(M_TRIM_THRESHOLD, 256 << 20);  // and up to 256 MiB of free heap top stays mapped
}

std::string shapeText(const at::Tensor& t) {
  std::string text = "[";
  for (long d = 0; d < t.dim(); ++d)
    text += (d ? ", " : "") + std::to_string(t.size(d));
  return text + "]";
}

}  // namespace

ModelContract ModelContract::fromJson(const std::string& text, const std::string& source) {
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(text);
  } catch (const nlohmann::json::exception& e) {
    throw PolicyError(source + ": flywheel.json is not JSON: " + e.what());
  }
  ModelContract c;
  try {
    c.stateDim = j.at("state_dim").get<std::size_t>();
    c.actionDim = j.at("action_dim").get<std::size_t>();
    c.horizon = j.at("horizon").get<int>();
    c.cameras = j.value("cameras", std::vector<std::string>{});
    auto size = j.value("image_size", std::vector<int>{224, 224});
    if (size.size() != 2 || size[0] < 1 || size[1] < 1)
      throw PolicyError(source + ": image_size must be [H, W]");
    c.imageHeight = size[0];
    c.imageWidth = size[1];
    c.takesPrompt = j.value("takes_prompt", false);
    c.promptVocabulary = j.value("prompt_vocabulary", std::vector<std::string>{});
  } catch (const nlohmann::json::exception& e) {
    throw PolicyError(source + ": flywheel.json: " + e.what());
  }
  if (c.horizon < 1) throw PolicyError(source + ": flywheel.json: horizon must be at least 1");
  if (j.contains("prompt_vocabulary")) {
    if (!c.takesPrompt)
      throw PolicyError(source + ": flywheel.json: prompt_vocabulary is given but takes_prompt is not true");
    try {
      PromptVocabulary::fromList(c.promptVocabulary);
    } catch (const std::invalid_argument& e) {
      throw PolicyError(source + ": flywheel.json: prompt_vocabulary: " + e.what());
    }
  }
  c.imageMean = numbers(j, "image_mean", 3, source);
  c.imageStd = numbers(j, "image_std", 3, source);
  c.stateMean = numbers(j, "state_mean", c.stateDim, source);
  c.stateStd = numbers(j, "state_std", c.stateDim, source);
  c.actionMean = numbers(j, "action_mean", c.actionDim, source);
  c.actionStd = numbers(j, "action_std", c.actionDim, source);
  checkStatistics(c.imageMean, c.imageStd, 3, "image_mean", "image_std", "channel", source, c.notes);
  checkStatistics(c.stateMean, c.stateStd, c.stateDim, "state_mean", "state_std", "joint", source, c.notes);
  checkStatistics(c.actionMean, c.actionStd, c.actionDim, "action_mean", "action_std", "joint", source,
                  c.notes);
  return c;
}

struct TorchScriptPolicy::Impl {
  std::string path;
  ModelContract contract;
  std::vector<std::size_t> cameraIndex;  // rig camera index of each model camera
  torch::jit::script::Module module;
  torch::Device device{torch::kCPU};
  std::array<std::array<float, 256>, 3> pixelValues{};  // per channel: byte → normalised float
  std::optional<PromptVocabulary> vocabulary;           // the prompt goes in as word ids

  // [1, L] word ids; an empty prompt is one padding id (no word), so L is never 0.
  at::Tensor promptIds(const std::string& prompt) const {
    std::vector<std::int64_t> ids = vocabulary->ids(prompt);
    if (ids.empty()) ids.push_back(PromptVocabulary::kPad);
    return torch::tensor(ids, torch::kInt64).reshape({1, static_cast<long>(ids.size())});
  }

  void buildPixelTable() {
    for (std::size_t c = 0; c < 3; ++c) {
      const double mean = contract.imageMean.empty() ? 0.0 : contract.imageMean[c];
      const double scale = contract.imageStd.empty() ? 1.0 : 1.0 / contract.imageStd[c];
      for (int v = 0; v < 256; ++v)
        pixelValues[c][static_cast<std::size_t>(v)] = static_cast<float>((v / 255.0 - mean) * scale);
    }
  }

  at::Tensor stateTensor(const JointVector& state) const {
    at::Tensor t = torch::empty({1, static_cast<long>(contract.stateDim)}, torch::kFloat32);
    float* out = t.data_ptr<float>();
    for (std::size_t j = 0; j < contract.stateDim; ++j) {
      double v = state[j];
      if (!contract.stateMean.empty()) v = (v - contract.stateMean[j]) / contract.stateStd[j];
      out[j] = static_cast<float>(v);
    }
    return t;
  }

  at::Tensor imagesTensor(const std::vector<CameraFrame>& frames) const {
    const long n = static_cast<long>(cameraIndex.size()), h = contract.imageHeight, w = contract.imageWidth;
    at::Tensor t = torch::empty({1, n, 3, h, w}, torch::kFloat32);
    float* out = t.data_ptr<float>();
    const std::size_t plane = static_cast<std::size_t>(h * w);
    for (long i = 0; i < n; ++i) {
      const Image& image = frames.at(cameraIndex[static_cast<std::size_t>(i)]).image;
      std::vector<std::uint8_t> chw = resizeWithPadChw(image, contract.imageHeight, contract.imageWidth);
      for (std::size_t c = 0; c < 3; ++c) {
        const std::array<float, 256>& table = pixelValues[c];
        float* dst = out + (static_cast<std::size_t>(i) * 3 + c) * plane;
        const std::uint8_t* src = chw.data() + c * plane;
        for (std::size_t p = 0; p < plane; ++p)
          dst[p] = table[src[p]];
      }
    }
    return t;
  }

  at::Tensor forward(const at::Tensor& state, const at::Tensor& images, const std::string& prompt) {
    std::vector<torch::jit::IValue> inputs{state.to(device), images.to(device)};
    if (contract.takesPrompt && vocabulary)
      inputs.emplace_back(promptIds(prompt).to(device));
    else if (contract.takesPrompt)
      inputs.emplace_back(prompt);
    c10::InferenceMode inference;
    return module.forward(inputs).toTensor().to(torch::kCPU, torch::kFloat32).contiguous();
  }

  // [1, H, A] or [H, A] with the promised sizes, or a clear refusal.
  ActionChunk actions(const at::Tensor& output) const {
    at::Tensor t = output.dim() == 3 && output.size(0) == 1 ? output[0] : output;
    if (t.dim() != 2 || t.size(0) != contract.horizon || t.size(1) != static_cast<long>(contract.actionDim))
      throw PolicyError(path + ": the model returned " + shapeText(output) +
                        ", its flywheel.json promises [1, " + std::to_string(contract.horizon) + ", " +
                        std::to_string(contract.actionDim) + "]");
    ActionChunk chunk{contract.horizon, static_cast<int>(contract.actionDim), {}};
    chunk.values.resize(static_cast<std::size_t>(t.numel()));
    const float* values = t.data_ptr<float>();
    for (std::size_t i = 0; i < chunk.values.size(); ++i) {
      const std::size_t j = i % contract.actionDim;
      double v = values[i];
      if (!contract.actionMean.empty()) v = v * contract.actionStd[j] + contract.actionMean[j];
      chunk.values[i] = v;
    }
    return chunk;
  }
};

TorchScriptPolicy::TorchScriptPolicy(const std::string& path, const PolicyRigSpec& rig)
    : impl_(std::make_unique<Impl>()) {
  Impl& m = *impl_;
  keepFreedMemoryInProcess();
  m.path = path;
  if (!std::filesystem::exists(path)) throw PolicyError(path + ": no such model file");
  std::unordered_map<std::string, std::string> extra{{"flywheel.json", ""}};
  try {
    if (torch::cuda::is_available()) m.device = torch::Device(torch::kCUDA);
    m.module = torch::jit::load(path, m.device, extra);
    m.module.eval();
  } catch (const c10::Error& e) {
    throw PolicyError(path + ": not a TorchScript model LibTorch can load: " + e.what_without_backtrace());
  }
  if (extra["flywheel.json"].empty())
    throw PolicyError(path +
                      ": no flywheel.json inside the model (save it with torch.jit.save(..., "
                      "_extra_files={'flywheel.json': ...}); see README, 'Policies')");
  m.contract = ModelContract::fromJson(extra["flywheel.json"], path);
  if (!m.contract.promptVocabulary.empty())
    m.vocabulary = PromptVocabulary::fromList(m.contract.promptVocabulary);
  m.buildPixelTable();
  if (m.contract.stateDim != rig.joints || m.contract.actionDim != rig.joints)
    throw PolicyError(path + ": the model takes a state of " + std::to_string(m.contract.stateDim) +
                      " and acts on " + std::to_string(m.contract.actionDim) +
                      " joints; this rig's followers have " + std::to_string(rig.joints));
  for (const std::string& name : m.contract.cameras) {
    auto found = std::find(rig.cameras.begin(), rig.cameras.end(), name);
    if (found == rig.cameras.end()) {
      std::string have;
      for (const std::string& c : rig.cameras)
        have += (have.empty() ? "" : ", ") + c;
      throw PolicyError(path + ": the model needs camera '" + name + "'; the rig has " +
                        (have.empty() ? "no cameras" : have));
    }
    m.cameraIndex.push_back(static_cast<std::size_t>(found - rig.cameras.begin()));
  }
  // One dry run: a model whose output does not fit is refused now, not on the robot.
  std::vector<CameraFrame> blank(rig.cameras.size());
  try {
    m.actions(m.forward(m.stateTensor(JointVector(rig.joints, 0.0)), m.imagesTensor(blank), ""));
  } catch (const c10::Error& e) {
    throw PolicyError(path +
                      ": the model fails on inputs of the documented shapes: " + e.what_without_backtrace());
  }
}

TorchScriptPolicy::~TorchScriptPolicy() = default;

std::string TorchScriptPolicy::describe() const {
  return std::filesystem::path(impl_->path).filename().string();
}

std::vector<std::string> TorchScriptPolicy::notes() const {
  return impl_->contract.notes;
}

const ModelContract& TorchScriptPolicy::contract() const {
  return impl_->contract;
}

std::string TorchScriptPolicy::deviceName() const {
  return std::string(impl_->device.is_cuda() ? "cuda" : "cpu") + ", " +
         std::to_string(at::get_num_threads()) + " threads";
}

std::vector<double> TorchScriptPolicy::timeForward(const Observation& observation, int iterations) {
  Impl& m = *impl_;
  const at::Tensor state = m.stateTensor(observation.state.position);
  const at::Tensor images = m.imagesTensor(observation.frames);
  std::vector<double> seconds;
  for (int i = 0; i < 3 + iterations; ++i) {  // 3 warm-ups, as tests/bench/torch_forward.py does
    const auto start = std::chrono::steady_clock::now();
    m.forward(state, images, "pick up the cube");
    if (i >= 3) seconds.push_back(secondsSince(start));
  }
  return seconds;
}

PolicyOutput TorchScriptPolicy::infer(const Observation& observation, const std::string& prompt) {
  Impl& m = *impl_;
  if (observation.state.position.size() != m.contract.stateDim)
    throw PolicyError("a state of " + std::to_string(observation.state.position.size()) +
                      " joints for a model of " + std::to_string(m.contract.stateDim));
  for (std::size_t i = 0; i < m.cameraIndex.size(); ++i)
    if (m.cameraIndex[i] >= observation.frames.size())
      throw PolicyError(describe() + ": no frame from camera '" + m.contract.cameras[i] + "'");
  PolicyOutput output;
  const auto start = std::chrono::steady_clock::now();
  at::Tensor state = m.stateTensor(observation.state.position);
  at::Tensor images = m.imagesTensor(observation.frames);
  output.timing.preprocess = secondsSince(start);
  const auto forwardStart = std::chrono::steady_clock::now();
  at::Tensor raw;
  try {
    raw = m.forward(state, images, prompt);
  } catch (const c10::Error& e) {
    throw PolicyError(describe() + ": forward failed: " + e.what_without_backtrace());
  }
  output.timing.forward = secondsSince(forwardStart);
  const auto postStart = std::chrono::steady_clock::now();
  output.actions = m.actions(raw);
  output.timing.postprocess = secondsSince(postStart);
  output.timing.total = secondsSince(start);
  return output;
}

}  // namespace flywheel
