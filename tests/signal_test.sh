#!/usr/bin/env bash
# One SIGTERM (kill, a service manager, a CI timeout) ends `record` and `run` exactly as Ctrl-C does: the
# take is closed by the same rules and saved complete, and the exit status says which signal (143 for
# SIGTERM, 130 for SIGINT, as a shell reports a process killed by it). Real processes, read back with h5py.
set -u
flywheel=$1
here=$(cd "$(dirname "$0")" && pwd)
python=/usr/bin/python3
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
failures=0
fail() { echo "FAIL $1"; failures=$((failures + 1)); }
pass() { echo "ok   $1"; }

# signal_take NAME SIGNAL EXPECTED_STATUS FOLDER -- command...: starts the command, sends one signal once
# its episode file exists and a second has been recorded, then checks the exit status and the episode.
signal_take() {
  local name=$1 signal=$2 expected=$3 folder=$4
  shift 5
  "$@" >"$work/$name.log" 2>&1 &
  local pid=$!
  for _ in $(seq 600); do [[ -e $folder/episode_0.hdf5 ]] && break; sleep 0.05; done
  sleep 1
  kill "-$signal" $pid
  # Not a timing threshold: a process that ignored the signal would still be here a minute later.
  for _ in $(seq 600); do kill -0 $pid 2>/dev/null || break; sleep 0.1; done
  if kill -0 $pid 2>/dev/null; then
    fail "$name: still running a minute after one SIG$signal"
    kill -9 $pid
    wait $pid 2>/dev/null
    return
  fi
  wait $pid
  local status=$?
  [[ $status -eq $expected ]] && pass "$name: exit $status after one SIG$signal" ||
    fail "$name: exit $status after one SIG$signal, expected $expected: $(cat "$work/$name.log")"
  "$python" -c "
import h5py
with h5py.File('$folder/episode_0.hdf5', 'r') as f:
    n = f['/action'].shape[0]
    assert bool(f.attrs['complete']), 'not marked complete'
    assert 'stop_reason' not in f.attrs, f.attrs['stop_reason']
    assert n > 10 and f['/observations/qpos'].shape[0] == n and f['/timestamp'].shape[0] == n, n
" && pass "$name: the episode is complete and readable" || fail "$name: episode: $(cat "$work/$name.log")"
}

signal_take record-sigterm TERM 143 "$work/term" -- "$flywheel" record --rig sim --out "$work/term" --seconds 60
grep -q "episode_0.hdf5: [0-9]* ticks" "$work/record-sigterm.log" && grep -q "Saved 1 episode(s)" "$work/record-sigterm.log" &&
  pass "record-sigterm: take and summary printed" || fail "record-sigterm: $(cat "$work/record-sigterm.log")"
signal_take record-sigint INT 130 "$work/int" -- "$flywheel" record --rig sim --out "$work/int" --seconds 60
signal_take record-fast-sigterm TERM 143 "$work/fast" -- "$flywheel" record --rig sim --out "$work/fast" --seconds 600 --fast

# A background job of an interactive shell (`flywheel record ... &`, then `kill %1`): it must not touch
# the terminal (SIGTTOU would stop it, and a stopped process does not act on SIGTERM), so it records,
# and one SIGTERM ends it. `script` gives the shell a terminal and job control.
if command -v script >/dev/null; then
  cat >"$work/background.sh" <<SH
set -m
'$flywheel' record --rig sim --out '$work/bg' --seconds 60 >'$work/bg.log' 2>&1 &
echo \$! >'$work/bg.pid'
for _ in \$(seq 300); do [[ -e '$work/bg/episode_0.hdf5' ]] && break; sleep 0.1; done
sleep 1
kill -TERM %1
wait %1
echo "status=\$?" >>'$work/bg.log'
SH
  timeout 120 script -qec "bash -i '$work/background.sh'" /dev/null >/dev/null 2>&1 </dev/null
  kill -9 "$(cat "$work/bg.pid")" 2>/dev/null && fail "background job: still there (stopped?) after one SIGTERM"
  grep -q "status=143" "$work/bg.log" && grep -q "episode_0.hdf5: [0-9]* ticks" "$work/bg.log" &&
    pass "background job: records, and one SIGTERM ends it (exit 143)" || fail "background job: $(cat "$work/bg.log")"
else
  echo "skip background job: no script(1) here"
fi

"$python" "$here/policy/make_test_model.py" "$work/model.pt" >/dev/null || exit 1
signal_take run-sigterm TERM 143 "$work/run" -- "$flywheel" run --rig sim --policy "$work/model.pt" --task "pick up the cube" --seconds 60 --record "$work/run"
grep -q "Saved .*episode_0.hdf5" "$work/run-sigterm.log" && pass "run-sigterm: the run's episode is saved" || fail "run-sigterm: $(cat "$work/run-sigterm.log")"

echo "signal: $failures failures"
exit $((failures > 0))
