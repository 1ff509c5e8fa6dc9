#!/usr/bin/env bash
# bench-quality: the quality metrics of a 60 s sim-aloha episode (computed at save, and for older files when
# indexed) against reading its summary, which every listing already pays; then indexing an old dataset of
# COPIES copies of a short sim-aloha episode stripped of /quality: the first index measures every file,
# the second takes the measurements from index.json. Figures are medians of `flywheel bench-quality`.
# Usage: tests/bench/bench_quality.sh FLYWHEEL [COPIES=1000]
set -eu
flywheel=$1 copies=${2:-1000}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

"$flywheel" record --rig sim-aloha --episodes 1 --seconds 60 --jpeg --fast --out "$work/long" >/dev/null
"$flywheel" record --rig sim-aloha --episodes 1 --seconds 0.4 --jpeg --fast --out "$work/short" >/dev/null
TMPDIR=$work "$flywheel" bench-quality "$work/long/episode_0.hdf5" --repeat 5
TMPDIR=$work "$flywheel" bench-quality "$work/short/episode_0.hdf5" --repeat 5 --copies "$copies"
