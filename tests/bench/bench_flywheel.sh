#!/usr/bin/env bash
# bench-flywheel: does a turn of the flywheel help, on the simulated rig? (issue #14)
#   1. record D scripted demonstrations (seeds 1000..., trimmed to where the arm moves), train, eval on EVAL
#      held-out seeds (1...);
#   2. C rollouts of that policy supervised by the scripted operator (seeds 3000..., disjoint from both),
#      retrain on the demonstrations plus the corrections (the human-controlled ticks), eval on the same seeds;
#   3. the control: C more demonstrations (seeds 1000+D...) instead, retrain, eval on the same seeds;
#   4. the same operator time: as many more demonstrations as the corrections' human-controlled ticks fill
#      (the first of step 3's seeds), retrain, eval on the same seeds.
# Every training run gets the same number of samples (SAMPLES: epochs = SAMPLES / dataset ticks, rounded
# up), so the three differ in their data, not in their compute or in how busy the machine was.
# Prints success with 95% Wilson intervals (from `flywheel eval`), the takeovers the rollouts needed,
# training samples/s and the wall time of each step.
# Usage: tests/bench/bench_flywheel.sh FLYWHEEL [D=20] [C=20] [SAMPLES=120000] [EVAL=50] [SECONDS=15]
set -euo pipefail
flywheel=$1 demos=${2:-20} rollouts=${3:-20} samples=${4:-120000} episodes=${5:-50} seconds=${6:-15}
python=/usr/bin/python3
work=${FLYWHEEL_BENCH_DIR:-$(mktemp -d)}
[[ -n ${FLYWHEEL_BENCH_DIR:-} ]] || trap 'rm -rf "$work"' EXIT
mkdir -p "$work"
task="pick up the cube and place it in the bin"
steps=()

now() { date +%s.%N; }
# step NAME COMMAND...: runs it with its output in $work/NAME.log, and keeps its wall time.
step() {
  local name=$1 start
  shift
  start=$(now)
  "$@" >"$work/$name.log" 2>&1 || { cat "$work/$name.log"; echo "bench-flywheel: $name failed" >&2; exit 1; }
  steps+=("$(printf '%-28s %6.1f s' "$name" "$(echo "$(now) - $start" | bc -l)")")
}

# Training ticks of the folders given, as `train` counts them: a demonstration's ticks within its trim marks,
# the human-controlled ones of a policy run.
ticks() {
  $python - "$@" <<'EOF'
import glob, json, sys
import h5py, numpy as np
total = 0
for folder in sys.argv[1:]:
    for path in glob.glob(folder + "/*.hdf5"):
        with h5py.File(path, "r") as f:
            if "policy_action" in f:
                total += int(f["intervention"][()].sum())
                continue
            a = f["annotations"]
            slot = bytes(a["slot_b" if a["current"][()] == 1 else "slot_a"][()])
            trim = json.loads(slot[: slot.index(0)] if 0 in slot else slot).get("trim") or {}
            t = f["timestamp"][()] - f["timestamp"][0]
            keep = np.ones(len(t), bool)
            if trim.get("start") is not None: keep &= t >= trim["start"] - 1e-9
            if trim.get("end") is not None: keep &= t < trim["end"] - 1e-9
            total += int(keep.sum())
print(total)
EOF
}

# record NAME FOLDER EPISODES SEED: scripted demonstrations, trimmed to where the arm moves (an idle head at
# home teaches a small model to stay there: README, "A task where the words matter").
record() {
  step "$1" "$flywheel" record --rig sim --out "$2" --episodes "$3" --seconds 10 --jpeg --fast --seed "$4" --task "$task"
  "$flywheel" label "$2"/*.hdf5 --trim-idle >"$work/$1 trim.log" 2>&1 || { cat "$work/$1 trim.log"; exit 1; }
}

train() {  # train NAME OUT FOLDERS...
  local name=$1 out=$2 n args=()
  shift 2
  n=$(ticks "$@")
  for d in "$@"; do args+=(--data "$d"); done
  epochs=$(((samples + n - 1) / n))
  step "$name" "$flywheel" train "${args[@]}" --out "$out" --epochs "$epochs" --held-out 0 --seed 1
  echo "$n ticks x $epochs epochs" >"$work/$name.size"
}

evaluate() {  # evaluate NAME MODEL
  step "$1" "$flywheel" eval --rig sim --policy "$2" --task "$task" --episodes "$episodes" --seed 1 --fast \
    --seconds "$seconds"
}

start=$(now)
record "1 record $demos demos" "$work/demos" "$demos" 1000
train "1 train" "$work/m1.pt" "$work/demos"
evaluate "1 eval" "$work/m1.pt"

step "2 supervised rollouts" "$flywheel" eval --rig sim --policy "$work/m1.pt" --task "$task" \
  --episodes "$rollouts" --seed 3000 --fast --seconds "$seconds" --supervisor scripted --record "$work/rollouts" --jpeg
train "2 retrain +corrections" "$work/m2.pt" "$work/demos" "$work/rollouts"
evaluate "2 eval" "$work/m2.pt"

record "3 record $rollouts more demos" "$work/more" "$rollouts" $((1000 + demos))
train "3 retrain +demos" "$work/m3.pt" "$work/demos" "$work/more"
evaluate "3 eval" "$work/m3.pt"

# Step 4: the operator's time in the corrections, spent on demonstrations instead.
correction_ticks=$(ticks "$work/rollouts")
demo_ticks=$(ticks "$work/demos")
same_time=$(((correction_ticks * demos + demo_ticks / 2) / demo_ticks))
((same_time >= 1)) || same_time=1
record "4 record $same_time more demos" "$work/same-time" "$same_time" $((1000 + demos))
train "4 retrain +same time" "$work/m4.pt" "$work/demos" "$work/same-time"
evaluate "4 eval" "$work/m4.pt"
total=$(echo "$(now) - $start" | bc -l)

rate() { grep '^success ' "$work/$1.log" | sed 's/^success //'; }
speed() { sed -n 's/^model: .*; \([0-9]*\) samples\/s.*/\1/p' "$work/$1.log"; }
echo "bench-flywheel: D=$demos demonstrations, C=$rollouts rollouts, $samples training samples per policy," \
  "eval on seeds 1-$episodes, $seconds s per episode, async chunks, $(nproc) cores"
printf '%-34s %-22s %10s  %s\n' policy "trained on" samples/s "success (95% CI)"
printf '%-34s %-22s %10s  %s\n' "1 demonstrations" "$(cat "$work/1 train.size")" "$(speed "1 train")" \
  "$(rate "1 eval")"
printf '%-34s %-22s %10s  %s\n' "2 demonstrations + corrections" "$(cat "$work/2 retrain +corrections.size")" \
  "$(speed "2 retrain +corrections")" "$(rate "2 eval")"
printf '%-34s %-22s %10s  %s\n' "3 demonstrations + more demos" "$(cat "$work/3 retrain +demos.size")" \
  "$(speed "3 retrain +demos")" "$(rate "3 eval")"
printf '%-34s %-22s %10s  %s\n' "4 demonstrations + $same_time (same time)" \
  "$(cat "$work/4 retrain +same time.size")" "$(speed "4 retrain +same time")" "$(rate "4 eval")"
echo "rollouts: $(grep '^takeovers: ' "$work/2 supervised rollouts.log" || echo 'takeovers: 0'); reasons:" \
  "$(grep -o 'correction: .*' "$work/2 supervised rollouts.log" | sort | uniq -c | tr -s ' ' | paste -sd, -)"
echo "  rollouts with the supervisor's help: $(rate "2 supervised rollouts")"
echo "  human-controlled ticks: $correction_ticks in the corrections, $demo_ticks in the $demos demonstrations"
echo "wall time per step:"
printf '  %s\n' "${steps[@]}"
printf '  %-28s %6.1f s\n' total "$total"
