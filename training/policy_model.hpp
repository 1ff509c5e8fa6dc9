// The policy `flywheel train` builds, as data: its parameters (name, shape, initialisation) and the
// TorchScript source of its methods, so the trainer can assemble a torch::jit::Module and python3-torch
// (tests/bench/train_baseline.py) can mirror it. No LibTorch here.
//
// Per camera, a small convolutional encoder (3x3 convolutions with GroupNorm and ReLU) ends in spatial
// softmax keypoints (x, y per channel) and the channels' mean; every camera's features and the state feed
// an MLP that outputs `horizon` normalised actions of `joints` values. A prompt-conditioned model adds the
// mean of its prompt's word embeddings (padding excluded) to the MLP's input.
#pragma once

#include <string>
#include <vector>

namespace flywheel {

struct PolicyArchitecture {
  int cameras = 2, joints = 7, horizon = 20, height = 60, width = 80;
  int channels = 32;                     // of every convolution
  std::vector<int> strides{2, 2, 1, 1};  // one 3x3 convolution each
  int hidden = 512;                      // two hidden MLP layers
  // Prompt-conditioned models: the words of the prompt (core/prompt_words.hpp ids, 0 padding) are
  // embedded, averaged and fed to the MLP beside the cameras' features. 0 words: no prompt input.
  int vocabulary = 0;
  int promptDim = 32;
};

struct ParameterSpec {
  enum class Init { Uniform, Ones, Zeros };  // Uniform: +-1/sqrt(fanIn), PyTorch's default for both
  std::string name;
  std::vector<long> shape;
  Init init = Init::Uniform;
  long fanIn = 1;
};

std::vector<ParameterSpec> policyParameters(const PolicyArchitecture& a);
// `forward(state [B, joints], images [B, cameras, 3, H, W] in 0..1[, prompt int64 [B, L] word ids])`
// → [B, horizon, joints].
std::string policySource(const PolicyArchitecture& a);
// One line for flywheel.json and the README: "2 cameras x 4 conv 32ch (strides 2,2,1,1) ...".
std::string describe(const PolicyArchitecture& a);

}  // namespace flywheel
