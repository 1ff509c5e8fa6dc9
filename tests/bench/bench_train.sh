#!/usr/bin/env bash
# bench-train: training samples/s of `flywheel train` against python3-torch training the same architecture
# (tests/bench/train_baseline.py) on the same batch shapes, one after the other on this machine, as a ratio;
# then peak RSS of `flywheel train` over a dataset and one twice as large (GNU time -v), with a decoded-frame
# cache smaller than either, so what is measured is what grows with the data.
# Usage: tests/bench/bench_train.sh FLYWHEEL [EPISODES=4] [SECONDS=5] [EPOCHS=3] [THREADS=every core]
set -eu
flywheel=$1 episodes=${2:-4} seconds=${3:-5} epochs=${4:-3} threads=${5:-$(nproc)}
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

"$flywheel" record --rig sim --episodes "$episodes" --seconds "$seconds" --jpeg --fast --out "$work/a" >/dev/null
"$flywheel" record --rig sim --episodes "$episodes" --seconds "$seconds" --jpeg --fast --seed 1000 \
  --out "$work/b" >/dev/null

# samples/s of the last epoch: its frames come from the decode cache, as in a long run.
"$flywheel" train --data "$work/a" --out "$work/m.pt" --epochs "$epochs" --held-out 0 --threads "$threads" >"$work/train.log"
flywheel_rate=$(grep "^epoch $epochs/" "$work/train.log" | sed 's/.* \([0-9]*\) samples\/s.*/\1/')
overall=$(grep '^model:' "$work/train.log" | sed 's/.*; \([0-9]*\) samples\/s.*/\1/')
python_rate=$(/usr/bin/python3 "$here/train_baseline.py" --seconds 30 --threads "$threads" | sed -n 's/^samples\/s //p')
echo "$threads compute thread(s)"
echo "flywheel train: $flywheel_rate samples/s (last epoch; $overall over all $epochs, first-epoch decoding included)"
echo "python3-torch:  $python_rate samples/s (same architecture and batch shapes, random batches)"
echo "ratio:          $(echo "scale=2; $flywheel_rate / $python_rate" | bc -l)"

rss() {  # peak resident set of training on the given folders, in MB
  local args=()
  for d in "$@"; do args+=(--data "$d"); done
  /usr/bin/time -v "$flywheel" train "${args[@]}" --out "$work/r.pt" --epochs 1 --cache-mb 32 --threads "$threads" \
    >/dev/null 2>"$work/time.log"
  echo $(($(sed -n 's/.*Maximum resident set size (kbytes): //p' "$work/time.log") / 1024))
}
echo "peak RSS, cache 32 MB: $(rss "$work/a") MB on $episodes episodes, $(rss "$work/a" "$work/b") MB on $((2 * episodes))"
