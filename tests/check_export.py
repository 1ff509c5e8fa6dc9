#!/usr/bin/python3
"""Reads a `flywheel export` the way its consumer does and compares it with the source recordings.

  check_export.py EXPORT_DIR --consumer act|openpi [--length T] [--float32] [--expect-kept SUFFIX=FIRST:END]

act: ACT's EpisodicDataset / get_norm_stats (h5py; a JPEG row is cv2.imdecode'd and used as it is, as
act-plus-plus does when the root attribute `compress` is set). openpi: examples/aloha_real/
convert_aloha_data_to_lerobot.py (get_cameras, has_velocity/has_effort, load_image_frame: cv2.imdecode then
BGR->RGB). Every row's joints must equal the source's kept tick (the last one again on padded rows), every
checked frame's colour means must match the source's raw frame within JPEG error, and the other
consumer's decoding must get red and blue swapped (so the test proves each export is encoded for its own).
Prints one line per episode; exits 1 with the reasons on any mismatch.
"""
import argparse
import json
import os
import sys

import cv2
import h5py
import numpy as np

OPENPI_CAMERAS = {"cam_high", "cam_low", "cam_left_wrist", "cam_right_wrist"}
JOINTS = ["/observations/qpos", "/observations/qvel", "/observations/effort", "/action"]
problems = []


def fail(text):
    problems.append(text)


def decode(row, consumer):
    """A stored frame as the consumer's code turns it into an RGB array."""
    if row.ndim == 3:
        return row
    image = cv2.imdecode(row, 1)
    return cv2.cvtColor(image, cv2.COLOR_BGR2RGB) if consumer == "openpi" else image


def source_frame(src, camera, tick):
    """The recording's frame as the studio stored it (raw RGB, or its JPEG decoded as ACT does)."""
    row = src[f"/observations/images/{camera}"][tick]
    return row if row.ndim == 3 else cv2.imdecode(row, 1)


def means(image):
    return image.reshape(-1, 3).astype(np.float64).mean(axis=0)


def check_frames(name, exported, src, ep, camera_map, consumer, rows, kept):
    other = "act" if consumer == "openpi" else "openpi"
    for camera in exported["/observations/images"].keys():
        source_camera = camera_map.get(camera, camera)
        for r in sorted({0, rows // 2, rows - 1}):
            tick = kept[0] + min(r, kept[1] - kept[0] - 1)
            want = means(source_frame(src, source_camera, tick))
            row = exported[f"/observations/images/{camera}"][r]
            got = means(decode(row, consumer))
            if np.abs(got - want).max() > 3.0:
                fail(f"{name} {camera} row {r}: RGB means {got.round(1)} vs source {want.round(1)}")
            if row.ndim == 3 and not np.array_equal(row, source_frame(src, source_camera, tick)):
                fail(f"{name} {camera} row {r}: raw frame differs from the source's")
            if r == 0 and row.ndim == 1 and abs(want[0] - want[2]) > 10:
                swapped = means(decode(row, other))
                if np.abs(swapped - want).max() < 10:
                    fail(f"{name} {camera}: {other}'s decoding also gets the true colours: not encoded for {consumer}")


def check_consumer(name, exported, consumer):
    cameras = set(exported["/observations/images"].keys())
    if consumer == "act":
        if "sim" not in exported.attrs:
            fail(f"{name}: no root attribute sim (ACT reads it)")
        jpeg = exported["/observations/images"][sorted(cameras)[0]].ndim == 2
        if jpeg and not exported.attrs.get("compress", False):
            fail(f"{name}: JPEG rows without the compress attribute")
        return
    if cameras != OPENPI_CAMERAS:
        fail(f"{name}: cameras {sorted(cameras)}, openpi's converter declares {sorted(OPENPI_CAMERAS)}")
    for path in JOINTS:
        if path not in exported:
            fail(f"{name}: no {path}")
    if exported["/observations/qpos"].shape[1] != 14:
        fail(f"{name}: {exported['/observations/qpos'].shape[1]} joints, the converter declares 14")
    for camera in cameras:
        frame = decode(exported[f"/observations/images/{camera}"][0], "openpi")
        if frame.shape != (480, 640, 3):
            fail(f"{name} {camera}: frame {frame.shape}, the converter declares (480, 640, 3)")


def check_episode(root, entry, args, camera_map):
    name = entry["file"]
    path = os.path.join(root, name)
    kept = entry["kept_ticks"]
    with h5py.File(path, "r") as exported, h5py.File(entry["source"]["path"], "r") as src:
        rows = exported["/action"].shape[0]
        if rows != entry["rows"]:
            fail(f"{name}: {rows} rows, the manifest says {entry['rows']}")
        if args.length and rows != args.length:
            fail(f"{name}: {rows} rows, --length {args.length}")
        if not args.length and rows != kept[1] - kept[0]:
            fail(f"{name}: {rows} rows for kept ticks {kept}")
        ticks = [kept[0] + min(r, kept[1] - kept[0] - 1) for r in range(rows)]  # padding holds the last
        for path_ in JOINTS:
            data = exported[path_][()]
            want_type = np.float32 if args.float32 else np.float64
            if data.dtype != want_type:
                fail(f"{name}: {path_} is {data.dtype}, expected {np.dtype(want_type)}")
            want = src[path_][()][ticks]
            if not np.allclose(data, want, rtol=1e-6, atol=1e-6):
                fail(f"{name}: {path_} differs from the source's kept ticks")
        for path_ in ("/intervention", "/policy_action", "/policy_source"):  # policy runs: as recorded
            if path_ in src:
                want = src[path_][()][ticks]
                got = exported[path_][()] if path_ in exported else None
                got = None if got is None else np.asarray(got, np.float64)
                if got is None or not np.allclose(got, np.asarray(want, np.float64), 1e-6, 1e-6, equal_nan=True):
                    fail(f"{name}: {path_} differs from the source's kept ticks")
        check_frames(name, exported, src, entry, camera_map, args.consumer, rows, kept)
        check_consumer(name, exported, args.consumer)
        stamps = exported["/timestamp"][()]
        if abs(stamps[0]) > 1e-9 or np.any(np.diff(stamps) <= 0):
            fail(f"{name}: /timestamp does not start at 0 and rise")
    print(f"{name}: {rows} rows from {entry['source']['path']} ticks {kept[0]}..{kept[1]} ({entry['split']})")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("root")
    parser.add_argument("--consumer", choices=["act", "openpi"], required=True)
    parser.add_argument("--length", type=int, default=0)
    parser.add_argument("--float32", action="store_true")
    parser.add_argument("--camera", action="append", default=[], help="SOURCE=EXPORTED renames used")
    parser.add_argument("--expect-kept", action="append", default=[], help="SOURCE_SUFFIX=FIRST:END")
    args = parser.parse_args()
    camera_map = {to: source for source, to in (item.split("=") for item in args.camera)}
    with open(os.path.join(args.root, "manifest.json")) as f:
        manifest = json.load(f)
    for split in ("train", "val"):
        files = sorted(e["file"] for e in manifest["episodes"] if e["split"] == split)
        wanted = sorted(f"{split}/episode_{i}.hdf5" for i in range(len(files)))
        if files != wanted:
            fail(f"{split}: files {files}, ACT reads episode_0..{len(files) - 1}")
    for entry in manifest["episodes"]:
        check_episode(args.root, entry, args, camera_map)
    for item in args.expect_kept:
        suffix, span = item.split("=")
        first, end = (int(v) for v in span.split(":"))
        found = [e["kept_ticks"] for e in manifest["episodes"] if e["source"]["path"].endswith(suffix)]
        if found != [[first, end]]:
            fail(f"{suffix}: kept ticks {found}, expected [{first}, {end}]")
    if args.length:  # ACT's get_norm_stats stacks every episode: they must have one length
        qpos = [h5py.File(os.path.join(args.root, e["file"]), "r")["/observations/qpos"][()]
                for e in manifest["episodes"]]
        np.stack(qpos)
    if problems:
        print("\n".join("PROBLEM " + p for p in problems))
        sys.exit(1)
    print(f"{len(manifest['episodes'])} episodes read as {args.consumer} reads them")


if __name__ == "__main__":
    main()
