#!/usr/bin/python3
"""Writes damaged and foreign variants of one good episode into a dataset folder, one file per variant.

Usage: make_damaged_corpus.py GOOD_EPISODE OUT_DIR
First writes episode_50.hdf5, a good copy with 4x4 frames (so that 30 variants stay small); every variant
is made from it. Prints one line per file: "<file name>\t<complete|damaged>\t<what was done to it>". Every variant is a file a user could
really meet: a copy cut short, bytes from another program, an h5py script that wrote the wrong shape or
type, an annotation block someone else rewrote, attributes no recorder writes.
"""
import os
import shutil
import sys

import h5py
import numpy as np

from small_episode import write_small_copy

source, out = sys.argv[1], sys.argv[2]
good = os.path.join(out, "episode_50.hdf5")
write_small_copy(source, good)
size = os.path.getsize(good)
rng = np.random.default_rng(11)
variants = []
number = [100]


def name(what):
    path = os.path.join(out, f"episode_{number[0]}.hdf5")
    number[0] += 1
    variants.append((os.path.basename(path), what))
    return path


def copy(what):
    path = name(what)
    shutil.copyfile(good, path)
    return path


def edit(what, change, **kwargs):
    path = copy(what)
    with h5py.File(path, "a", **kwargs) as f:
        change(f)


def replace(f, key, data):
    del f[key]
    f[key] = data


# Bytes that are not an episode at all.
open(name("zero bytes"), "wb").close()
with open(good, "rb") as src:
    data = src.read()
open(name("cut to half its size"), "wb").write(data[: size // 2])
open(name("cut to its first 2 KiB"), "wb").write(data[:2048])
open(name("random bytes"), "wb").write(rng.integers(0, 256, 65536, dtype=np.uint8).tobytes())
open(name("HDF5 signature then random bytes"), "wb").write(
    data[:8] + rng.integers(0, 256, 65536, dtype=np.uint8).tobytes())
os.mkdir(os.path.join(out, "episode_9.hdf5"))
variants.append(("episode_9.hdf5", "a directory"))
with h5py.File(name("an HDF5 file that is not an episode"), "w") as f:
    f["numbers"] = np.arange(10)

# Datasets missing, mis-shaped or mistyped.
edit("no /observations/qpos", lambda f: f.__delitem__("observations/qpos"))
edit("1-D /action", lambda f: replace(f, "action", f["action"][:, 0]))
edit("3-D /action", lambda f: replace(f, "action", f["action"][:][:, :, None]))
edit("qpos shorter than action", lambda f: replace(f, "observations/qpos", f["observations/qpos"][:-3]))
edit("qpos with other joints", lambda f: replace(f, "observations/qpos", f["observations/qpos"][:, :3]))
edit("/action of strings", lambda f: replace(f, "action", np.array([b"x"] * len(f["action"]))[:, None]))
edit("/timestamp shorter", lambda f: replace(f, "timestamp", f["timestamp"][:5]))
edit("frames without colour channels",
     lambda f: replace(f, "observations/images/top", f["observations/images/top"][:, :, :, 0]))
edit("frames stored as float32",
     lambda f: replace(f, "observations/images/front", f["observations/images/front"][:].astype(np.float32)))
edit("/intervention of strings", lambda f: replace(f, "intervention", np.array([b"no"] * len(f["action"]))))
edit("/action claims 10^9 ticks", lambda f: (f.__delitem__("action"),
                                             f.create_dataset("action", shape=(10**9, 7), dtype="f8", chunks=(1024, 7))))

# Annotation blocks rewritten by someone else.
edit("annotations/current = numpy.zeros(4096, uint8)",
     lambda f: replace(f, "annotations/current", np.zeros(4096, np.uint8)))
edit("annotations/slot_a of 1 MiB", lambda f: replace(f, "annotations/slot_a", np.zeros(1 << 20, np.uint8)))
edit("annotations/slot_b of int32", lambda f: (replace(f, "annotations/slot_b", np.zeros(16384, np.int32)),
                                               replace(f, "annotations/current", np.uint8(1))))
edit("annotations/current = 7", lambda f: replace(f, "annotations/current", np.uint8(7)))
edit("annotations/current is a string", lambda f: replace(f, "annotations/current", "a"))
edit("annotations/slot_a is not JSON",
     lambda f: f["annotations/slot_a"].__setitem__(slice(0, 4), np.frombuffer(b"\xff{[x", np.uint8)))
edit("annotations/slot_a is a JSON array",
     lambda f: f["annotations/slot_a"].__setitem__(slice(0, 8), np.frombuffer(b"[1,2,3]\0", np.uint8)))
edit("/annotations is a dataset", lambda f: replace(f, "annotations", np.zeros(3)))
edit("no annotations, task attribute not UTF-8",
     lambda f: (f.__delitem__("annotations"), f.attrs.__setitem__("task", np.bytes_(b"wipe \xff\xfe"))))

# Attributes no recorder writes.
edit("task attribute of 4 MiB", lambda f: f.attrs.__setitem__("task", "x" * (4 << 20)), libver="latest")
edit("fps attribute is an array of 8000", lambda f: f.attrs.__setitem__("fps", np.ones(8000)),
     libver="latest")
edit("complete attribute is a string", lambda f: f.attrs.__setitem__("complete", "yes"))
edit("fps attribute is NaN", lambda f: f.attrs.__setitem__("fps", float("nan")))

print(f"episode_50.hdf5\tcomplete\ta good copy with 4x4 frames")
for file, what in variants:
    print(f"{file}\tdamaged\t{what}")
