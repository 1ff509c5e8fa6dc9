#!/usr/bin/env bash
# The recording keys from a terminal (tmux stands in for the operator's): r re-records the take, n saves
# it now, q saves and stops.
set -u
flywheel=$1
work=$(mktemp -d)
session=flywheel-keys-$$
trap 'tmux kill-session -t "$session" 2>/dev/null; rm -rf "$work"' EXIT
tmux new-session -d -s "$session" -x 160 -y 40 \
  "'$flywheel' record --rig sim --out '$work/data' --episodes 3 --seconds 30 --reset-seconds 0 >'$work/log' 2>&1; echo \$? >'$work/rc'"
wait_for() { for _ in $(seq 200); do [[ -e $1 ]] && return 0; sleep 0.05; done; return 1; }
wait_for "$work/data/episode_0.hdf5" || { echo "FAIL no take started"; cat "$work/log"; exit 1; }
sleep 1
tmux send-keys -t "$session" r   # that take was bad: record it again
sleep 1.5
tmux send-keys -t "$session" n   # save it now, before its 30 s
wait_for "$work/data/episode_1.hdf5" || { echo "FAIL the next take did not start"; cat "$work/log"; exit 1; }
sleep 1
tmux send-keys -t "$session" q   # save this one and stop
wait_for "$work/rc" || { echo "FAIL record did not stop"; cat "$work/log"; exit 1; }
failures=0
check() { if eval "$2"; then echo "ok   $1"; else echo "FAIL $1"; failures=$((failures + 1)); fi; }
check "exit 0" '[[ $(cat "$work/rc") == 0 ]]'
check "re-record announced" 'grep -q "episode_0.hdf5: discarded, recording it again" "$work/log"'
check "two episodes, no third" '[[ -e $work/data/episode_0.hdf5 && -e $work/data/episode_1.hdf5 && ! -e $work/data/episode_2.hdf5 ]]'
check "saved early" 'grep -qE "episode_0.hdf5: [0-9]+ ticks" "$work/log" && ! grep -q "episode_0.hdf5: 1500 ticks" "$work/log"'
check "stopped after saving" 'grep -q "Saved 2 episode(s)" "$work/log"'
[[ $failures -gt 0 ]] && cat "$work/log"
echo "keys: $failures failures"
exit $((failures > 0))
