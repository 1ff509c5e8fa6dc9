#!/usr/bin/env bash
# Builds the episode fuzz target with clang (libFuzzer, ASan, UBSan) and runs it for a while, seeded with a
# real small episode (recorded by FLYWHEEL, frames cut to 4x4 by h5py) and label slots. The target builds an
# HDF5 image in memory from each input (see fuzz_episode_reader.cpp); FLYWHEEL_FUZZ_RAW_IMAGES=1 also feeds
# the raw bytes to HDF5, which finds crashes inside HDF5 1.10 itself within a minute.
# HDF5 and OpenCV are not instrumented: the fuzzer is guided by our code, and ASan still catches a bad
# access inside either. Leak detection is off: HDF5 1.10 leaks small blocks in its own error paths.
# Usage: run_episode_fuzzer.sh SOURCE_ROOT WORK_DIR SECONDS FLYWHEEL
set -euo pipefail
root=$1 work=$2 seconds=${3:-20} flywheel=$4
mkdir -p "$work/episode-corpus"
clang++ -std=c++20 -O1 -g -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all -I"$root" \
  -I/usr/include/hdf5/serial -I/usr/include/opencv4 \
  "$root/tests/fuzz/fuzz_episode_reader.cpp" "$root/recorder/episode_reader.cpp" "$root/recorder/labels.cpp" \
  "$root/recorder/h5.cpp" -L/usr/lib/x86_64-linux-gnu/hdf5/serial -lhdf5 -lopencv_imgcodecs -lopencv_core \
  -o "$work/fuzz_episode_reader"
seed=$work/seed-episode
rm -rf "$seed" && "$flywheel" record --rig sim --out "$seed" --seconds 0.1 --fast >/dev/null
PYTHONPATH="$root/tests/corpus" /usr/bin/python3 - "$seed/episode_0.hdf5" "$work/episode-corpus" <<'PY'
import sys, h5py
from small_episode import write_small_copy
source, out = sys.argv[1:]
write_small_copy(source, f"{out}/small_episode.hdf5")
with h5py.File(f"{out}/small_episode.hdf5", "r") as small:
    slot = bytes(small["annotations/slot_a"][:]).rstrip(b"\0")
open(f"{out}/slot.json", "wb").write(slot)
open(f"{out}/slot_segments.json", "wb").write(
    b'{"task":"a","success":true,"tags":["x"],"segments":[{"start":0,"end":1,"text":"b"}]}\0\0')
PY
"$work/fuzz_episode_reader" -max_total_time="$seconds" -seed=1 -rss_limit_mb=4096 -detect_leaks=0 -max_len=4096 -len_control=0 -timeout=10 \
  -artifact_prefix="$work/" -print_final_stats=1 \
  "$work/episode-corpus" 2>&1 | tail -n 12
