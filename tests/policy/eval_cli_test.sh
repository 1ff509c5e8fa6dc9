#!/usr/bin/env bash
# `flywheel eval` and bundled policies as a user meets them: a test model evaluated on two seeds (rows,
# the Wilson line, the recorded scenes are the seeds'), a model named like a bundled rig found through
# $FLYWHEEL_POLICIES and after `cmake --install`, an operator's s and f on an emulated real rig, bad flags.
set -u
flywheel=$1
build=${2:-}
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
session=flywheel-eval-$$
trap 'tmux kill-session -t "$session" 2>/dev/null; rm -rf "$work"' EXIT
failures=0
source "$(dirname "$0")/../check.sh"
oneline() {  # the command's output on one line, its lines ended by ~, so that a pattern spans lines
  "$@" 2>&1 | tr '\n' '~'
  return "${PIPESTATUS[0]}"
}

/usr/bin/python3 "$here/make_test_model.py" "$work/model.pt" || exit 1
/usr/bin/python3 "$here/make_test_model.py" "$work/arm6.pt" --joints 6 --cameras "" || exit 1
unset FLYWHEEL_POLICIES

check eval-help 0 '--episodes' -- "$flywheel" eval --help
# Two seeds: a row each, in order, then the rate with its 95% Wilson interval (0/2: 0.0-65.8%).
rows='~ +5 +failure +- +0~ +6 +failure +- +0~success 0/2 \(0\.0%, 95% CI 0\.0-65\.8%\)~$'
check two-seeds 0 "seeds 5-6, at most 3\.0 s each, async chunks~ +seed +outcome +to success +takeovers$rows" -- \
  oneline "$flywheel" eval --rig sim --policy "$work/model.pt" --episodes 2 --seed 5 --seconds 3 --fast
check recorded 0 '6 +failure +- +0 +[^~]*/ds/episode_1\.hdf5~success 0/2 ' -- oneline "$flywheel" eval --rig sim \
  --policy "$work/model.pt" --episodes 2 --seed 5 --seconds 1 --fast --mode sync --record "$work/ds"
# Each recorded run starts from its seed's scene: its first frames are those `record --seed` starts from.
for seed in 5 6; do
  "$flywheel" record --rig sim --out "$work/ref$seed" --seed $seed --episodes 1 --seconds 0.2 --fast >/dev/null
done
check recorded-scenes-are-the-seeds 0 '^scenes ok$' -- /usr/bin/python3 - "$work" <<'PY'
import sys, h5py, numpy as np
work = sys.argv[1]
def first_frames(path, policy=None):
    with h5py.File(path, "r") as f:
        assert f.attrs.get("policy") == policy, dict(f.attrs)
        return np.concatenate([f["observations/images"][c][0].ravel() for c in sorted(f["observations/images"])])
runs = [first_frames(f"{work}/ds/episode_{i}.hdf5", "model.pt") for i in (0, 1)]
refs = [first_frames(f"{work}/ref{s}/episode_0.hdf5") for s in (5, 6)]
diff = lambda a, b: np.abs(a.astype(float) - b.astype(float)).mean()
assert diff(runs[0], refs[0]) < 0.05 and diff(runs[1], refs[1]) < 0.05, "a run is not its seed's scene"
assert diff(runs[0], refs[1]) > 0.2 and diff(runs[1], refs[0]) > 0.2, "the seeds' scenes are alike"
print("scenes ok")
PY
check recorded-listed 0 'episode_1\.hdf5 +complete +(good|check|bad) +1\.00 +50 +no' -- "$flywheel" list "$work/ds"

# Bundled policies: a name with no / and no .pt is resources/policies/<name>.pt, found on the search path.
mkdir -p "$work/bundled" && cp "$work/model.pt" "$work/bundled/sim-test.pt" && cp "$work/arm6.pt" "$work/bundled/arm6.pt"
check bundled-eval 0 'Evaluating sim-test\.pt on rig .sim.: 1 episode\(s\), seed 3,' -- \
  env FLYWHEEL_POLICIES="$work/bundled" "$flywheel" eval --rig sim --policy sim-test --episodes 1 --seed 3 --seconds 1 --fast
check bundled-run 0 'Running sim-test\.pt on rig' -- \
  env FLYWHEEL_POLICIES="$work/bundled" "$flywheel" run --rig sim --policy sim-test --task x --seconds 1 --fast
check bundled-unknown-lists-names 2 "no bundled policy named 'sim-nope'; bundled: arm6, sim-pick-place, sim-test, sim-two-bins \(or give" -- \
  env FLYWHEEL_POLICIES="$work/bundled" "$flywheel" eval --rig sim --policy sim-nope --episodes 1 --fast
# The policy that ships (resources/policies/sim-pick-place.pt, from the source tree) loads and runs by name.
check bundled-sim-pick-place 0 'Evaluating sim-pick-place\.pt on rig .sim.: 1 episode\(s\), seed 3,.*~ +3 +(success|failure) ' -- \
  oneline "$flywheel" eval --rig sim --policy sim-pick-place --episodes 1 --seed 3 --seconds 2 --fast
check bundled-search-path-order 0 'Evaluating sim-test\.pt' -- \
  env FLYWHEEL_POLICIES="$work/nowhere:$work/bundled" "$flywheel" eval --rig sim --policy sim-test --episodes 1 --seconds 0.5 --fast
if [[ -n $build ]]; then  # installed: <prefix>/bin/flywheel finds <prefix>/share/flywheel/policies
  cmake --install "$build" --prefix "$work/prefix" >/dev/null || { echo "FAIL cmake --install"; failures=$((failures + 1)); }
  mkdir -p "$work/prefix/share/flywheel/policies" && cp "$work/model.pt" "$work/prefix/share/flywheel/policies/installed-test.pt"
  check bundled-installed 0 'Evaluating installed-test\.pt' -- \
    "$work/prefix/bin/flywheel" eval --rig sim --policy installed-test --episodes 1 --seconds 0.5 --fast
fi

# Bad flags: clear errors, nothing run.
check no-episodes 105 '--episodes: Value 0 not in range 1 to' -- \
  "$flywheel" eval --rig sim --policy "$work/model.pt" --episodes 0 --fast
check unknown-policy 2 "no bundled policy named 'no-such-policy'" -- \
  "$flywheel" eval --rig sim --policy no-such-policy --episodes 1 --fast
check missing-model 2 'missing\.pt: no such model file' -- \
  "$flywheel" eval --rig sim --policy "$work/missing.pt" --episodes 1 --fast
check no-policy 106 '--policy is required' -- "$flywheel" eval --rig sim --episodes 1

# A real rig (emulated buses): the operator judges each episode with s or f, Enter starts the next.
tmux new-session -d -s "$session" -x 160 -y 40 \
  "'$flywheel' eval --rig so100-emulated --policy '$work/arm6.pt' --episodes 2 --seconds 1 --record '$work/real' >'$work/log' 2>&1; echo \$? >'$work/rc'"
wait_for() {  # wait_for TEXT COUNT: until the log shows TEXT COUNT times
  local n
  for _ in $(seq 300); do
    n=$(grep -c -- "$1" "$work/log" 2>/dev/null)
    ((${n:-0} >= $2)) && return 0
    sleep 0.05
  done
  return 1
}
wait_for 'how did it go' 1 && tmux send-keys -t "$session" s
wait_for 'Enter starts the next' 1 && tmux send-keys -t "$session" Enter
wait_for 'how did it go' 2 && tmux send-keys -t "$session" f
for _ in $(seq 200); do [[ -e $work/rc ]] && break; sleep 0.05; done
check operator-verdicts 0 '~ +1 +success +- +0 +[^~]*episode_0\.hdf5~.*~ +2 +failure +- +0 +[^~]*episode_1\.hdf5~success 1/2 \(50\.0%, 95% CI 9\.5-90\.5%\)~$' -- \
  oneline sh -c "cat '$work/log'; exit \$(cat '$work/rc')"
check operator-verdicts-labelled 0 'episode_0\.hdf5 +complete +(good|check|bad) +1\.00 +50 +yes .*episode_1\.hdf5 +complete +(good|check|bad) +1\.00 +50 +no ' -- \
  oneline "$flywheel" list "$work/real"

((failures == 0)) || { echo "$failures check(s) failed"; exit 1; }
echo "all eval checks passed"
