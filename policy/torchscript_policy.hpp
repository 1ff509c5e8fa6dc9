// A policy in a TorchScript file, run with LibTorch on the CPU (or CUDA when the library and a GPU have it).
//
// The I/O contract. The .pt file carries a JSON description in its extra file `flywheel.json`
// (torch.jit.save(module, path, _extra_files={"flywheel.json": ...})):
//   state_dim, action_dim, horizon   the model's sizes; state_dim and action_dim must equal the rig's
//                                    follower joints
//   cameras        names of the rig cameras the model sees, in the order it stacks them (may be empty)
//   image_size     [H, W] each frame is letterboxed to (openpi's resize_with_pad), default [224, 224]
//   image_mean, image_std            3 values each, applied after scaling pixels to 0..1 (optional)
//   state_mean, state_std            normalisation of the state, state_dim values each (optional)
//   action_mean, action_std          the model's actions are un-normalised with these (optional)
//                  A standard deviation below 0.01 (a joint that never moved in the training data) is
//                  floored to 0.01, as ACT clips it, rather than dividing by 0; negative or non-finite
//                  statistics are refused, naming the joint.
//   takes_prompt   true when forward also takes the language prompt: as a str, or with
//   prompt_vocabulary  ["<pad>", "<unk>", words...] (core/prompt_words.hpp) as its word ids, int64
//                  [1, L]: the prompt lowercased and split on non-letters, a word not in the list <unk> (1),
//                  an empty prompt one <pad> (0)
// forward(state: Tensor[1, state_dim] float32 normalised,
//         images: Tensor[1, len(cameras), 3, H, W] float32,
//         [prompt: str or Tensor[1, L] int64]) -> Tensor[1, horizon, action_dim] float32 (normalised
//         actions).
// Loading checks the description against the rig and runs the model once on zeros to check its output.
#pragma once

#include <memory>

#include "policy/policy.hpp"

namespace flywheel {

struct ModelContract {
  std::size_t stateDim = 0;
  std::size_t actionDim = 0;
  int horizon = 0;
  std::vector<std::string> cameras;
  int imageHeight = 224;
  int imageWidth = 224;
  std::vector<double> imageMean, imageStd;    // empty: none
  std::vector<double> stateMean, stateStd;    // empty: none
  std::vector<double> actionMean, actionStd;  // empty: none
  bool takesPrompt = false;
  std::vector<std::string> promptVocabulary;  // empty: the prompt is passed as a str
  std::vector<std::string> notes;             // statistics that were floored

  static ModelContract fromJson(const std::string& json, const std::string& source);  // throws PolicyError
};

class TorchScriptPolicy final : public Policy {
 public:
  TorchScriptPolicy(const std::string& path, const PolicyRigSpec& rig);  // throws PolicyError
  ~TorchScriptPolicy() override;

  std::string describe() const override;
  std::vector<std::string> notes() const override;
  PolicyOutput infer(const Observation& observation, const std::string& prompt) override;
  const ModelContract& contract() const;
  std::string deviceName() const;  // "cpu" or "cuda"
  // The forward alone, timed `iterations` times on one prepared input (as python3-torch's baseline
  // times it): seconds per forward.
  std::vector<double> timeForward(const Observation& observation, int iterations);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace flywheel
