#!/usr/bin/python3
"""The forward of a studio TorchScript model timed in python3-torch, on inputs of the shapes its
flywheel.json documents: the baseline `./studio bench` sets LibTorch's forward against.

  torch_forward.py MODEL.pt ITERATIONS   → prints "python forward p50 ms X"
"""
import json
import sys
import time

import torch


def main():
    path, iterations = sys.argv[1], int(sys.argv[2])
    extra = {"flywheel.json": ""}
    model = torch.jit.load(path, _extra_files=extra).eval()
    meta = json.loads(extra["flywheel.json"])
    h, w = meta["image_size"]
    state = torch.rand(1, meta["state_dim"])
    images = torch.rand(1, len(meta["cameras"]), 3, h, w)
    times = []
    with torch.inference_mode():
        for i in range(iterations + 3):
            start = time.perf_counter()
            model(state, images, "pick up the cube")
            if i >= 3:
                times.append(time.perf_counter() - start)
    times.sort()
    print(f"python forward p50 ms {1000 * times[len(times) // 2]:.4f}  (torch {torch.__version__}, "
          f"{torch.get_num_threads()} threads)")


if __name__ == "__main__":
    main()
