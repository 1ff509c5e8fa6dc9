#!/usr/bin/env python3
"""The Python side of bench-train: python3-torch training the architecture `flywheel train` builds
(training/policy_model.cpp), eager, on random batches of the same shapes, with the same optimiser and
random-shift augmentation. Prints one line: `samples/s N`. It reads no episodes, so it measures the
model's compute alone; flywheel's figure includes reading and decoding its batches."""
import argparse
import time

import torch
import torch.nn.functional as F


class Encoder(torch.nn.Module):
    def __init__(self, channels, strides):
        super().__init__()
        layers, c_in = [], 3
        for i, s in enumerate(strides):
            layers.append(torch.nn.Conv2d(c_in, channels, 3, s, 1))
            c_in = channels
        self.convs = torch.nn.ModuleList(layers)
        self.norms = torch.nn.ModuleList(torch.nn.GroupNorm(8, channels) for _ in strides[:-1])

    def forward(self, x):
        for i, conv in enumerate(self.convs):
            x = conv(x)
            if i < len(self.norms):  # the last layer's raw output is the keypoints' attention
                x = torch.relu(self.norms[i](x))
        n, k, h, w = x.shape
        attention = torch.softmax(x.reshape(n, k, h * w), -1)
        ys = torch.linspace(-1, 1, h).view(h, 1).expand(h, w).reshape(h * w)
        xs = torch.linspace(-1, 1, w).view(1, w).expand(h, w).reshape(h * w)
        keypoints = torch.cat([(attention * xs).sum(-1), (attention * ys).sum(-1)], 1)
        return torch.cat([keypoints, x.mean((2, 3))], 1)


class Policy(torch.nn.Module):
    def __init__(self, cameras, joints, horizon, channels, strides, hidden):
        super().__init__()
        self.horizon, self.joints = horizon, joints
        self.encoders = torch.nn.ModuleList(Encoder(channels, strides) for _ in range(cameras))
        width = joints + cameras * 3 * channels
        self.mlp = torch.nn.Sequential(torch.nn.Linear(width, hidden), torch.nn.ReLU(),
                                       torch.nn.Linear(hidden, hidden), torch.nn.ReLU(),
                                       torch.nn.Linear(hidden, horizon * joints))

    def forward(self, state, images):
        features = [state] + [e(images[:, i] * 2.0 - 1.0) for i, e in enumerate(self.encoders)]
        return self.mlp(torch.cat(features, 1)).view(-1, self.horizon, self.joints)


def random_shift(images, pad=4):
    b, c, ch, h, w = images.shape
    flat = images.view(b * c, ch, h, w)
    padded = F.pad(flat, (pad, pad, pad, pad), mode="replicate")
    out = torch.empty_like(flat)
    offsets = torch.randint(0, 2 * pad + 1, (b * c, 2))
    for i in range(b * c):
        dy, dx = int(offsets[i, 0]), int(offsets[i, 1])
        out[i] = padded[i, :, dy:dy + h, dx:dx + w]
    return out.view(b, c, ch, h, w)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--cameras", type=int, default=2)
    p.add_argument("--joints", type=int, default=7)
    p.add_argument("--horizon", type=int, default=20)
    p.add_argument("--height", type=int, default=60)
    p.add_argument("--width", type=int, default=80)
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--channels", type=int, default=32)
    p.add_argument("--strides", default="2,2,1,1")
    p.add_argument("--hidden", type=int, default=512)
    p.add_argument("--seconds", type=float, default=20)
    p.add_argument("--threads", type=int, default=0)
    a = p.parse_args()
    torch.manual_seed(1)
    if a.threads:
        torch.set_num_threads(a.threads)
    strides = [int(s) for s in a.strides.split(",")]
    model = Policy(a.cameras, a.joints, a.horizon, a.channels, strides, a.hidden)
    optimiser = torch.optim.AdamW(model.parameters(), lr=1e-3, weight_decay=1e-4)
    b = a.batch_size
    state = torch.randn(b, a.joints)
    pixels = torch.randint(0, 256, (b, a.cameras, 3, a.height, a.width), dtype=torch.uint8)
    target = torch.randn(b, a.horizon, a.joints)

    def step():
        images = random_shift(pixels.float() / 255.0)
        loss = F.l1_loss(model(state, images), target)
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()

    for _ in range(3):
        step()
    start, samples = time.monotonic(), 0
    while time.monotonic() - start < a.seconds:
        step()
        samples += b
    print(f"samples/s {samples / (time.monotonic() - start):.1f}")
    print(f"parameters {sum(p.numel() for p in model.parameters())}")


if __name__ == "__main__":
    main()
