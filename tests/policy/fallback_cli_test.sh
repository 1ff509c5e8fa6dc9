#!/usr/bin/env bash
# `flywheel run --fallback` on the simulated rig against the openpi test server over loopback: a server
# that stalls mid-run and comes back, one that sends error frames, one that never answers; the recorded
# /policy_source shows the switches where the summary says they happened, the followers never move more
# than the safety step per tick, and without --fallback the robot holds as before.
set -u
flywheel=$1
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
servers=()
trap 'for p in "${servers[@]}"; do kill "$p" 2>/dev/null; done; rm -rf "$work"' EXIT
failures=0
source "$(dirname "$0")/../check.sh"

# start_server NAME ARGS...: a test server on a free port; sets $port.
start_server() {
  local name=$1
  shift
  /usr/bin/python3 "$here/openpi_test_server.py" --port 0 --image-size 0 "$@" >"$work/$name.out" 2>"$work/$name.err" &
  servers+=($!)
  for _ in $(seq 100); do grep -q listening "$work/$name.out" 2>/dev/null && break; sleep 0.1; done
  port=$(awk '/listening on/ {print $3}' "$work/$name.out")
}

# check_sources NAME FILE RUN_OUTPUT EXPECTED_SEQUENCE: /policy_source, with runs of the same source
# collapsed (none ignored), is EXPECTED_SEQUENCE; each switch printed by run lies within 0.1 s of where the
# file changes source; /action never moves more than the rig's safety step (max_joint_speed / rate).
check_sources() {
  check "$1" 0 "^sources $4\$" -- /usr/bin/python3 - "$2" "$3" <<'PY'
import re, sys, h5py, numpy as np
with h5py.File(sys.argv[1], "r") as f:
    names = {v: k for k, v in h5py.check_enum_dtype(f["policy_source"].dtype).items()}
    src = f["policy_source"][:]
    action, fps = f["action"][:], float(f.attrs["fps"])
assert len(src) == len(action), (len(src), len(action))
step = np.abs(np.diff(action, axis=0)).max()
assert step <= 4.0 / 50 + 1e-9, f"a follower moved {step} rad in one tick"
seq, changes, driving = [], [], "main"  # the main policy drives from the start
for t, s in enumerate(src):
    name = names[int(s)]
    if name == "none":
        continue
    if name != driving:
        changes.append((t / fps, name))
        driving = name
    if not seq or seq[-1] != name:
        seq.append(name)
printed = [(float(m[0]), m[1]) for m in re.findall(r"^\s+([0-9.]+) s  to (\w+)", open(sys.argv[2]).read(), re.M)]
assert len(printed) == len(changes), (printed, changes)
for (pt, pn), (ft, fn) in zip(printed, changes):
    assert pn == fn and abs(pt - ft) < 0.1, (printed, changes)
print("sources", " ".join(seq))
PY
}

run_fast() {  # run_fast OUTPUT ARGS...: flywheel run on the simulated rig, output kept
  local out=$1
  shift
  "$flywheel" run --rig sim --task x --fast "$@" >"$out" 2>&1
}

# A server that stalls for 2 s after 30 replies, then answers again: the fallback drives from the
# watchdog (1 s) until three valid answers in a row, then the main policy takes back over.
start_server stall --stall-after 30 --stall-seconds 2
run_fast "$work/stall.txt" --policy "ws://127.0.0.1:$port" --fallback sim-pick-place --seconds 6 \
  --record "$work/stall"
check stall-summary 0 'fallback sim-pick-place.pt: 2 switch\(es\)' -- cat "$work/stall.txt"
check stall-reason 0 'to fallback  no answer from ws://127.0.0.1:[0-9]+ for 1\.0 s' -- cat "$work/stall.txt"
check stall-back 0 'to main +3 valid answers in a row' -- cat "$work/stall.txt"
# Held only while the plan had run out and the watchdog had not yet fired: at most its 1 s (50 ticks).
check stall-held-within-watchdog 0 '^ok$' -- awk '/held the robot for/ {print ($5 <= 50 ? "ok" : "held " $5)}' \
  "$work/stall.txt"
check_sources stall-file "$work/stall/episode_0.hdf5" "$work/stall.txt" "main fallback main"

# Error frames (openpi's text frame, then close) on request 20 and every 40th after: each hands over to
# the fallback until the client has reconnected and three answers came back valid.
start_server errors --error-after 20 --error-every 40
run_fast "$work/errors.txt" --policy "ws://127.0.0.1:$port" --fallback sim-pick-place --seconds 4 \
  --record "$work/errors"
check errors-reason 0 'to fallback  .*ran out of memory' -- cat "$work/errors.txt"
check_sources errors-file "$work/errors/episode_0.hdf5" "$work/errors.txt" "main fallback main( fallback main)*"

# A server that never answers: after the watchdog the fallback drives for the rest of the run.
start_server silent --stall-after 0 --stall-seconds 600
run_fast "$work/silent.txt" --policy "ws://127.0.0.1:$port" --fallback sim-pick-place --seconds 3 \
  --record "$work/silent"
check_sources silent-file "$work/silent/episode_0.hdf5" "$work/silent.txt" "fallback"

# No --fallback: the same stall holds the robot (none in /policy_source), as before the fallback existed.
start_server hold --stall-after 30 --stall-seconds 2
run_fast "$work/hold.txt" --policy "ws://127.0.0.1:$port" --seconds 5 --wall-latency --record "$work/hold"
check hold-summary 0 'held the robot for [1-9][0-9]+ ticks' -- cat "$work/hold.txt"
check hold-no-switches 1 '^0$' -- grep -c fallback "$work/hold.txt"
check hold-file 0 '^none [1-9][0-9]+ main [1-9][0-9]+ fallback 0$' -- /usr/bin/python3 -c '
import sys, h5py, numpy as np
with h5py.File(sys.argv[1], "r") as f:
    s = f["policy_source"][:]
print("none", int((s == 0).sum()), "main", int((s == 1).sum()), "fallback", int((s == 2).sum()))' \
  "$work/hold/episode_0.hdf5"

# A fallback is checked up front like a main policy: one that does not fit the rig, or is not local.
/usr/bin/python3 "$here/make_test_model.py" "$work/wrong.pt" --variant wrong-shape || exit 1
check fallback-wrong-model 2 'fallback: .*wrong.pt: the model returned \[1, 10, 6\], its flywheel.json promises \[1, 10, 7\]' -- \
  "$flywheel" run --rig sim --policy sim-pick-place --fallback "$work/wrong.pt" --task x --seconds 1 --fast
check fallback-not-local 2 "a fallback runs on this computer: a TorchScript .pt file or a bundled policy, got 'ws://\*\*\*@gpu:8000'" -- \
  "$flywheel" run --rig sim --policy sim-pick-place --fallback ws://me:secret@gpu:8000 --task x --seconds 1 --fast
check fallback-other-rig 2 "fallback: .*this rig's followers have 14" -- \
  "$flywheel" run --rig sim-aloha --policy "ws://127.0.0.1:$port" --fallback sim-pick-place --task x --seconds 1 --fast

((failures == 0)) || { echo "$failures check(s) failed"; exit 1; }
echo "all fallback checks passed"
