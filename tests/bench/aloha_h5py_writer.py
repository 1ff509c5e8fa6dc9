"""The baseline for `./studio bench`: ALOHA's way of saving an episode (record_episodes.py), with h5py.

ALOHA keeps the whole episode in memory and writes it when the episode ends; the operator waits for this.
Prints the MiB/s of that write, including making the file durable, for the same data `flywheel bench`
writes (sim-aloha ticks: four 480x640x3 frames and 14 joints).
"""
import os
import sys
import tempfile
import time

import h5py
import numpy as np

CAMERAS = ["cam_high", "cam_low", "cam_left_wrist", "cam_right_wrist"]


def main(ticks: int, folder: str) -> None:
    frame = np.arange(480 * 640 * 3, dtype=np.uint32).reshape(480, 640, 3)
    frames = [((frame * 7 + c * 31) & 0xFF).astype(np.uint8) for c in range(len(CAMERAS))]
    data_dict = {"/observations/qpos": [], "/observations/qvel": [], "/observations/effort": [], "/action": []}
    for cam in CAMERAS:
        data_dict[f"/observations/images/{cam}"] = []
    for _ in range(ticks):  # what ALOHA accumulates while recording
        for key in ("/observations/qpos", "/observations/qvel", "/observations/effort", "/action"):
            data_dict[key].append(np.zeros(14))
        for c, cam in enumerate(CAMERAS):
            data_dict[f"/observations/images/{cam}"].append(frames[c].copy())

    path = os.path.join(folder, "aloha_style.hdf5")
    start = time.monotonic()
    with h5py.File(path, "w", rdcc_nbytes=1024**2 * 2) as root:
        root.attrs["sim"] = False
        obs = root.create_group("observations")
        image = obs.create_group("images")
        for cam in CAMERAS:
            image.create_dataset(cam, (ticks, 480, 640, 3), dtype="uint8", chunks=(1, 480, 640, 3))
        obs.create_dataset("qpos", (ticks, 14))
        obs.create_dataset("qvel", (ticks, 14))
        obs.create_dataset("effort", (ticks, 14))
        root.create_dataset("action", (ticks, 14))
        for name, array in data_dict.items():
            root[name][...] = array
    with open(path, "rb") as f:
        os.fsync(f.fileno())
    seconds = time.monotonic() - start
    mib = os.path.getsize(path) / 2**20
    os.remove(path)
    print(f"  h5py, ALOHA's way     {mib / seconds:7.1f} MiB/s  ({mib:.0f} MiB written in {seconds:.2f} s after the episode)")


if __name__ == "__main__":
    with tempfile.TemporaryDirectory() as folder:
        main(int(sys.argv[1]) if len(sys.argv) > 1 else 600, folder)
