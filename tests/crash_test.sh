#!/usr/bin/env bash
# Recording survives what happens in the field: kill -9 mid-episode, a full disk, a damaged file beside
# good ones. Checked with the CLI and read back with h5py.
set -u
flywheel=$1
python=/usr/bin/python3
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
failures=0
fail() { echo "FAIL $1"; failures=$((failures + 1)); }
pass() { echo "ok   $1"; }

# 1. kill -9 while recording: the file opens in h5py and holds all but at most the last second.
"$flywheel" record --rig sim-aloha --out "$work/crash" --seconds 30 >"$work/crash.log" 2>&1 &
pid=$!
for _ in $(seq 200); do [[ -e $work/crash/episode_0.hdf5 ]] && break; sleep 0.05; done
started=$(date +%s.%N)
sleep 4
kill -9 $pid
killed=$(date +%s.%N)
wait $pid 2>/dev/null
elapsed=$(echo "$killed - $started" | bc -l)
kept=$("$python" -c "
import h5py, sys
with h5py.File('$work/crash/episode_0.hdf5', 'r') as f:
    n = f['/action'].shape[0]
    assert f['/observations/qpos'].shape[0] == n and f['/observations/images/cam_high'].shape[0] == n
    assert f['/observations/images/cam_low'][n - 1].std() > 5, 'last frame is blank'
    assert not bool(f.attrs['complete'])
    print(f['/timestamp'][n - 1])
" 2>&1)
if [[ $? -ne 0 ]]; then fail "kill-9: h5py cannot read the file: $kept"
elif (($(echo "$kept >= $elapsed - 1.0" | bc -l))); then pass "kill-9: $kept s of ${elapsed} s kept"
else fail "kill-9: only $kept s of ${elapsed} s kept"; fi

# ...and the next session finds it and marks it incomplete, without touching it.
before=$(md5sum <"$work/crash/episode_0.hdf5")
out=$("$flywheel" record --rig sim --out "$work/crash" --seconds 0.2 --fast 2>&1)
grep -q "found episode_0.hdf5, interrupted while recording" <<<"$out" && pass "interrupted episode reported" || fail "interrupted episode not reported: $out"
[[ $(md5sum <"$work/crash/episode_0.hdf5") == "$before" ]] && pass "interrupted episode untouched" || fail "interrupted episode was modified"
"$python" -c "
import json
index = json.load(open('$work/crash/index.json'))['episodes']
assert [e['status'] for e in index] == ['incomplete', 'complete'], index
assert index[1]['file'] == 'episode_1.hdf5'
" && pass "index marks it incomplete" || fail "index.json does not match the files"

# 2. A full disk (a file-size limit here): a clear error, what was written kept, earlier episodes intact.
"$flywheel" record --rig sim --out "$work/full" --seconds 0.2 --fast >/dev/null 2>&1
good=$(md5sum <"$work/full/episode_0.hdf5")
out=$(bash -c "ulimit -f 150000; exec '$flywheel' record --rig sim --out '$work/full' --seconds 5" 2>&1)
status=$?
if [[ $status -eq 1 ]] && grep -q "recording stopped: .*episode_1.hdf5: write failed after .*(File too large)" <<<"$out" &&
  grep -q "earlier episodes are untouched" <<<"$out"; then pass "disk full: clear error naming the file and the cause"
else fail "disk full: exit $status: $out"; fi
[[ $(md5sum <"$work/full/episode_0.hdf5") == "$good" ]] && pass "disk full: earlier episode intact" || fail "disk full: earlier episode changed"
"$python" -c "
import h5py
with h5py.File('$work/full/episode_1.hdf5', 'r') as f:
    assert f['/action'].shape[0] > 5, f['/action'].shape
" && pass "disk full: what was written is readable" || fail "disk full: partial episode unreadable"

# 2b. A disk that is really full (a 100 MiB tmpfs in a private mount namespace, where the system allows
# one): the message names the episode and the cause, and is not replaced by the index.json rewrite that
# fails next on the same full disk; what was flushed stays readable.
if unshare -rm true 2>/dev/null; then
  mkdir -p "$work/tiny"
  out=$(unshare -rm bash -c "
    mount -t tmpfs -o size=100m tmpfs '$work/tiny' || { echo 'no tmpfs'; exit 0; }
    '$flywheel' record --rig sim --out '$work/tiny/d' --seconds 0.1 --fast >/dev/null 2>&1 || echo 'first take failed'
    '$flywheel' record --rig sim --out '$work/tiny/d' --seconds 5 2>&1
    echo \"status=\$?\"
    $python -c \"
import h5py
with h5py.File('$work/tiny/d/episode_1.hdf5', 'r') as f:
    assert f['/action'].shape[0] > 5 and not bool(f.attrs['complete']), f['/action'].shape
print('partial episode readable')
\" 2>&1" 2>&1)
  if grep -q 'no tmpfs' <<<"$out"; then echo "skip real full disk: tmpfs cannot be mounted here"
  else
    grep -q "status=1" <<<"$out" && grep -q "recording stopped: .*episode_1.hdf5: write failed after [0-9]* ticks: .*(disk full: 0 MiB free)" <<<"$out" &&
      ! grep -q "recording stopped: .*index.json" <<<"$out" && pass "real full disk: the take's own error, not the index's" || fail "real full disk: $out"
    grep -q "partial episode readable" <<<"$out" && pass "real full disk: what was flushed is readable" || fail "real full disk, partial episode: $out"
  fi
else
  echo "skip real full disk: unshare -rm is not allowed here"
fi

# 2c. A bus that goes away mid-take (the follower's emulator process ends, as an unplugged adapter): the
# take is saved as incomplete with the reason, the bus counters are printed, the exit status is 1. (On a
# loaded machine the leader's bus can be the one that fails first: the same path, so either counts.)
export FLYWHEEL_CONFIG_DIR=$work/config
sed '/name: follower/,/joints:/ s|port: emulator|port: '"$work"'/follower-link|' "$(dirname "$0")/../resources/rigs/koch-emulated.yaml" >"$work/unplug.yaml"
"$flywheel" emulate --model xl430-w250 --ids 1-6 --link "$work/follower-link" >/dev/null 2>&1 &
emulator=$!
for _ in $(seq 200); do [[ -e $work/follower-link ]] && break; sleep 0.05; done
"$flywheel" record --rig "$work/unplug.yaml" --out "$work/unplug" --seconds 60 >"$work/unplug.log" 2>&1 &
recorder=$!
for _ in $(seq 400); do [[ -e $work/unplug/episode_0.hdf5 ]] && break; sleep 0.05; done
sleep 1
kill $emulator
wait $emulator 2>/dev/null
wait $recorder
status=$?
out=$(cat "$work/unplug.log")
[[ $status -eq 1 ]] && grep -q "episode_0.hdf5: [0-9]* ticks, .*saved as incomplete" <<<"$out" &&
  grep -q "the take was cut short: the control loop stopped: " <<<"$out" &&
  pass "unplugged bus: take saved as incomplete, reason given" || fail "unplugged bus: exit $status: $out"
grep -q "bus of 'follower' (.*follower-link): [0-9]* transactions, .* failed" <<<"$out" &&
  pass "unplugged bus: bus counters printed" || fail "unplugged bus: no bus counters: $out"
"$python" -c "
import h5py, json
with h5py.File('$work/unplug/episode_0.hdf5', 'r') as f:
    assert not bool(f.attrs['complete']), 'marked complete'
    reason = f.attrs['stop_reason']
    reason = reason.decode() if isinstance(reason, bytes) else reason
    assert reason.startswith('the control loop stopped: '), reason
    assert f['/action'].shape[0] > 0, f['/action'].shape
index = json.load(open('$work/unplug/index.json'))['episodes']
assert index[0]['status'] == 'incomplete', index
assert index[0]['problem'] == 'cut short: ' + reason, index
" && pass "unplugged bus: file and index say incomplete, with stop_reason" || fail "unplugged bus: file or index wrong"
out=$("$flywheel" list "$work/unplug" 2>&1)
grep -q "episode_0.hdf5 *incomplete .*\[cut short: the control loop stopped: " <<<"$out" &&
  pass "unplugged bus: list says why the take is incomplete" || fail "unplugged bus: list: $out"
out=$("$flywheel" inspect "$work/unplug/episode_0.hdf5" 2>&1)
grep -q "complete *no (cut short: the control loop stopped: " <<<"$out" &&
  pass "unplugged bus: inspect says why the take is incomplete" || fail "unplugged bus: inspect: $out"

# 3. A damaged file beside good ones is listed as damaged; the rest work.
head -c 5000 "$work/full/episode_0.hdf5" >"$work/full/episode_7.hdf5"
out=$("$flywheel" record --rig sim --out "$work/full" --seconds 0.2 --fast 2>&1)
grep -q "found episode_7.hdf5, damaged" <<<"$out" && grep -q "episode_8.hdf5: 10 ticks" <<<"$out" &&
  pass "damaged file listed, recording goes on" || fail "damaged file: $out"
"$python" -c "
import json
index = {e['file']: e['status'] for e in json.load(open('$work/full/index.json'))['episodes']}
assert index['episode_0.hdf5'] == 'complete' and index['episode_7.hdf5'] == 'damaged' and index['episode_8.hdf5'] == 'complete', index
" && pass "index lists the damaged file" || fail "index.json wrong after a damaged file"

echo "crash: $failures failures"
exit $((failures > 0))
