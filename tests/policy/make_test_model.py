#!/usr/bin/python3
"""Writes small TorchScript policies that follow the studio's I/O contract (README, 'Policies'), and the
actions python3-torch computes for a known input, so the C++ side can be checked against them.

  make_test_model.py OUT.pt --variant good|wrong-shape|wrong-joints|nan|no-metadata|bench|prompt-ids
                     [--joints 7] [--cameras top,front] [--horizon 10] [--expected OUT.json]
                     [--zero-std-joint J] [--negative-std-joint J]   (that joint's state_std and action_std)
"""
import argparse
import json

import torch


class TinyPolicy(torch.nn.Module):
    """Image means and the state through a small MLP; a residual keeps actions near the state."""

    def __init__(self, joints: int, cameras: int, horizon: int, out_joints: int, emit_nan: bool, width: int):
        super().__init__()
        torch.manual_seed(7)
        self.horizon = horizon
        self.out_joints = out_joints
        self.emit_nan = emit_nan
        self.encoder = torch.nn.Sequential(
            torch.nn.Conv2d(3, width, 5, stride=4), torch.nn.ReLU(),
            torch.nn.Conv2d(width, width, 3, stride=2), torch.nn.ReLU(),
            torch.nn.AdaptiveAvgPool2d(1))
        self.head = torch.nn.Sequential(
            torch.nn.Linear(joints + cameras * width, 128), torch.nn.Tanh(),
            torch.nn.Linear(128, horizon * out_joints))
        self.joints = joints

    def forward(self, state: torch.Tensor, images: torch.Tensor, prompt: str) -> torch.Tensor:
        n = images.shape[1]
        if n > 0:
            features = self.encoder(images.flatten(0, 1)).flatten(1).reshape(1, -1)
        else:
            features = torch.zeros(1, 0)
        x = torch.cat([state, features], 1)
        delta = 0.1 * self.head(x).view(1, self.horizon, self.out_joints)
        base = state[:, : self.out_joints].unsqueeze(1) if self.out_joints <= self.joints else torch.zeros(1, 1, self.out_joints)
        out = base + delta
        if self.emit_nan:
            out[0, 0, 0] = float("nan")
        return out


class PromptIdsPolicy(torch.nn.Module):
    """Takes the prompt as word ids [1, L] (flywheel.json prompt_vocabulary): every action is the state,
    plus the sum of the ids on joint 0 and the count of words (padding excluded) on joint 1, so a test can
    read back exactly which ids the studio passed."""

    def __init__(self, horizon: int):
        super().__init__()
        self.horizon = horizon

    def forward(self, state: torch.Tensor, images: torch.Tensor, prompt: torch.Tensor) -> torch.Tensor:
        out = state.unsqueeze(1).repeat(1, self.horizon, 1)
        out[:, :, 0] += prompt.sum(1).to(state.dtype).unsqueeze(1)
        out[:, :, 1] += (prompt > 0).sum(1).to(state.dtype).unsqueeze(1)
        return out


PROMPT_VOCABULARY = ["<pad>", "<unk>", "bin", "cube", "in", "left", "put", "right", "the"]


def main():
    p = argparse.ArgumentParser()
    p.add_argument("out")
    p.add_argument("--variant", default="good")
    p.add_argument("--joints", type=int, default=7)
    p.add_argument("--cameras", default="top,front")
    p.add_argument("--horizon", type=int, default=10)
    p.add_argument("--expected")
    p.add_argument("--zero-std-joint", type=int)
    p.add_argument("--negative-std-joint", type=int)
    a = p.parse_args()
    cameras = [c for c in a.cameras.split(",") if c]
    joints = a.joints
    meta_joints = joints - 1 if a.variant == "wrong-joints" else joints
    out_joints = joints - 1 if a.variant == "wrong-shape" else joints
    width = 32 if a.variant == "bench" else 8
    size = [224, 224] if a.variant == "bench" else [64, 64]
    model = TinyPolicy(meta_joints, len(cameras), a.horizon, out_joints, a.variant == "nan", width).eval()
    if a.variant == "prompt-ids":
        meta = {"state_dim": joints, "action_dim": joints, "horizon": a.horizon, "cameras": [],
                "takes_prompt": True, "prompt_vocabulary": PROMPT_VOCABULARY}
        scripted = torch.jit.script(PromptIdsPolicy(a.horizon))
        torch.jit.save(scripted, a.out, _extra_files={"flywheel.json": json.dumps(meta)})
        return
    meta = {
        "state_dim": meta_joints, "action_dim": meta_joints, "horizon": a.horizon, "cameras": cameras,
        "image_size": size, "image_mean": [0.5, 0.5, 0.5], "image_std": [0.25, 0.25, 0.25],
        "state_mean": [0.1 * j for j in range(meta_joints)], "state_std": [1.0 + 0.1 * j for j in range(meta_joints)],
        "action_mean": [0.1 * j for j in range(meta_joints)], "action_std": [1.0 + 0.1 * j for j in range(meta_joints)],
        "takes_prompt": True,
    }
    for joint, value in ((a.zero_std_joint, 0.0), (a.negative_std_joint, -1.0)):
        if joint is not None:  # a joint that never moved in the training data (or a broken export)
            meta["state_std"][joint] = meta["action_std"][joint] = value
    scripted = torch.jit.script(model)
    extra = {} if a.variant == "no-metadata" else {"flywheel.json": json.dumps(meta)}
    torch.jit.save(scripted, a.out, _extra_files=extra)

    if a.expected:
        # A known input: state j = 0.05 j, every camera a uniform colour already at the model's size
        # (so letterboxing is the identity); actions as the studio must compute them.
        state = [0.05 * j for j in range(meta_joints)]
        colours = [[(40 + 60 * c) % 256, (90 + 30 * c) % 256, (200 - 50 * c) % 256] for c in range(len(cameras))]
        # Standard deviations below 0.01 are floored to 0.01, as ACT clips them (README, 'Policies').
        state_std = [max(v, 1e-2) for v in meta["state_std"]]
        action_std = [max(v, 1e-2) for v in meta["action_std"]]
        s = torch.tensor([[(state[j] - meta["state_mean"][j]) / state_std[j] for j in range(meta_joints)]])
        imgs = torch.zeros(1, len(cameras), 3, size[0], size[1])
        for c, rgb in enumerate(colours):
            for ch in range(3):
                imgs[0, c, ch] = (rgb[ch] / 255.0 - 0.5) / 0.25
        with torch.no_grad():
            raw = scripted(s, imgs, "pick up the cube")[0]
        actions = [[float(raw[i, j]) * action_std[j] + meta["action_mean"][j] for j in range(out_joints)]
                   for i in range(a.horizon)]
        with open(a.expected, "w") as f:
            json.dump({"state": state, "colours": colours, "image_size": size, "actions": actions}, f)


if __name__ == "__main__":
    main()
