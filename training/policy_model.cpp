#include "training/policy_model.hpp"

namespace flywheel {

namespace {

constexpr int kGroups = 8;  // GroupNorm groups: batch-size independent, same in training and on the robot

std::string convName(int camera, std::size_t layer, const char* what) {
  return "cam" + std::to_string(camera) + "_conv" + std::to_string(layer) + "_" + what;
}

std::string mlpName(int layer, const char* what) {
  return "mlp" + std::to_string(layer) + "_" + what;
}

int mlpInputs(const PolicyArchitecture& a) {
  const int prompt = a.vocabulary > 0 ? a.promptDim : 0;
  return a.joints + a.cameras * 3 * a.channels + prompt;  // keypoint x, y and mean per channel per camera
}

// The last convolution has no norm: its raw activations are the keypoints' attention logits.
bool normed(const PolicyArchitecture& a, std::size_t layer) {
  return layer + 1 < a.strides.size();
}

}  // namespace

std::vector<ParameterSpec> policyParameters(const PolicyArchitecture& a) {
  using Init = ParameterSpec::Init;
  std::vector<ParameterSpec> specs;
  for (int c = 0; c < a.cameras; ++c) {
    long in = 3;
    for (std::size_t l = 0; l < a.strides.size(); ++l) {
      const long fanIn = in * 9;
      specs.push_back({convName(c, l, "w"), {a.channels, in, 3, 3}, Init::Uniform, fanIn});
      specs.push_back({convName(c, l, "b"), {a.channels}, Init::Uniform, fanIn});
      if (normed(a, l)) {
        specs.push_back({convName(c, l, "g"), {a.channels}, Init::Ones, 1});
        specs.push_back({convName(c, l, "n"), {a.channels}, Init::Zeros, 1});
      }
      in = a.channels;
    }
  }
  if (a.vocabulary > 0) specs.push_back({"prompt_embedding", {a.vocabulary, a.promptDim}, Init::Uniform, 1});
  const std::vector<long> widths{mlpInputs(a), a.hidden, a.hidden, long(a.horizon) * a.joints};
  for (std::size_t l = 0; l + 1 < widths.size(); ++l) {
    specs.push_back({mlpName(int(l), "w"), {widths[l + 1], widths[l]}, Init::Uniform, widths[l]});
    specs.push_back({mlpName(int(l), "b"), {widths[l + 1]}, Init::Uniform, widths[l]});
  }
  return specs;
}

std::string policySource(const PolicyArchitecture& a) {
  std::string s =
      "def keypoints(self, x):\n"
      "    n = x.size(0)\n"
      "    k = x.size(1)\n"
      "    h = x.size(2)\n"
      "    w = x.size(3)\n"
      "    attention = torch.softmax(x.reshape([n, k, h * w]), -1)\n"
      "    ys = torch.linspace(-1.0, 1.0, h, dtype=x.dtype, device=x.device)\n"
      "    xs = torch.linspace(-1.0, 1.0, w, dtype=x.dtype, device=x.device)\n"
      "    ys = ys.view([h, 1]).expand([h, w]).reshape([h * w])\n"
      "    xs = xs.view([1, w]).expand([h, w]).reshape([h * w])\n"
      "    return torch.cat([(attention * xs).sum(-1), (attention * ys).sum(-1), x.mean([2, 3])], 1)\n"
      "\n";
  if (a.vocabulary > 0)
    s += "def forward(self, state, images, prompt):\n"
         "    features = [state]\n"
         "    mask = (prompt > 0).to(state.dtype).unsqueeze(2)\n"
         "    words = torch.embedding(self.prompt_embedding, prompt) * mask\n"
         "    features.append(words.sum(1) / torch.clamp(mask.sum(1), min=1.0))\n";
  else
    s += "def forward(self, state, images):\n"
         "    features = [state]\n";
  for (int c = 0; c < a.cameras; ++c) {
    s += "    x = images[:, " + std::to_string(c) + "] * 2.0 - 1.0\n";
    for (std::size_t l = 0; l < a.strides.size(); ++l) {
      const std::string stride = std::to_string(a.strides[l]);
      std::string layer = "torch.conv2d(x, self." + convName(c, l, "w") + ", self." + convName(c, l, "b") +
                          ", [" + stride + ", " + stride + "], [1, 1])";
      if (normed(a, l)) {
        layer = "torch.group_norm(" + layer + ", " + std::to_string(kGroups) + ", self." +
                convName(c, l, "g") + ", self." + convName(c, l, "n") + ")";
        layer = "torch.relu(" + layer + ")";
      }
      s += "    x = " + layer + "\n";
    }
    s += "    features.append(self.keypoints(x))\n";
  }
  s += "    x = torch.cat(features, 1)\n";
  for (int l = 0; l < 3; ++l) {
    const std::string linear = "torch.linear(x, self." + mlpName(l, "w") + ", self." + mlpName(l, "b") + ")";
    s += "    x = " + (l < 2 ? "torch.relu(" + linear + ")" : linear) + "\n";
  }
  s += "    return x.reshape([-1, " + std::to_string(a.horizon) + ", " + std::to_string(a.joints) + "])\n";
  return s;
}

std::string describe(const PolicyArchitecture& a) {
  std::string strides;
  for (int s : a.strides)
    strides += (strides.empty() ? "" : ",") + std::to_string(s);
  return std::to_string(a.cameras) + " camera(s) x " + std::to_string(a.strides.size()) + " conv3x3 " +
         std::to_string(a.channels) + "ch (strides " + strides + ", GroupNorm, ReLU) -> spatial softmax " +
         "keypoints + mean; MLP " + std::to_string(mlpInputs(a)) + "-" + std::to_string(a.hidden) + "-" +
         std::to_string(a.hidden) + "-" + std::to_string(a.horizon) + "x" + std::to_string(a.joints) +
         (a.vocabulary > 0 ? "; prompt: mean of " + std::to_string(a.promptDim) + "-d embeddings of " +
                                 std::to_string(a.vocabulary) + " words into the MLP"
                           : "");
}

}  // namespace flywheel
