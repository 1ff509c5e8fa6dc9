#!/usr/bin/env bash
# `flywheel label --trim` and `--trim-idle`: the marks are read back from the file with h5py, bad ones are
# refused with the reason and change nothing, and the recording itself is never rewritten.
set -u
flywheel=$1
python=/usr/bin/python3
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
failures=0
source "$(dirname "$0")/check.sh"
"$flywheel" record --rig sim --out "$work/d" --episodes 2 --seconds 2 --fast >/dev/null || exit 1
e0=$work/d/episode_0.hdf5
e1=$work/d/episode_1.hdf5

# The live label slot's trim as "START:END" (an absent side empty), and a digest of the recorded data.
trim_of() {
  "$python" -c "
import h5py, json, sys
with h5py.File(sys.argv[1], 'r') as f:
    a = f['annotations']
    labels = json.loads(bytes(a['slot_b' if a['current'][()] else 'slot_a'][()]).rstrip(b'\0'))
t = labels.get('trim', {})
side = lambda k: '%.3f' % t[k] if k in t else ''
print(side('start') + ':' + side('end'))" "$1"
}
data_of() {
  "$python" -c "
import h5py, hashlib, sys
with h5py.File(sys.argv[1], 'r') as f:
    print(hashlib.md5(b''.join(f[p][()].tobytes() for p in ('observations/qpos', 'action', 'timestamp', 'observations/images/top'))).hexdigest())" "$1"
}
expect_trim() {  # NAME FILE EXPECTED
  local got
  got=$(trim_of "$2")
  [[ $got == "$3" ]] && echo "ok   $1" || { echo "FAIL $1: trim '$got', expected '$3'"; failures=$((failures + 1)); }
}
data_before=$(data_of "$e0")

check trim-set 0 'trim 0.500:1.500 s' -- "$flywheel" label "$e0" --trim 0.5:1.5
expect_trim trim-set-read-back "$e0" "0.500:1.500"
check trim-end-only 0 'trim :1.200 s' -- "$flywheel" label "$e0" --trim :1.2
expect_trim trim-end-only-read-back "$e0" ":1.200"

before=$(md5sum <"$e0")
check trim-reversed 1 'trim: start 1.500 s is not before end 0.500 s; nothing saved' -- "$flywheel" label "$e0" --trim 1.5:0.5
check trim-nan 1 'trim: a mark is not a number' -- "$flywheel" label "$e0" --trim nan:1
check trim-past-end 1 "trim: end 9.000 s is past the episode's end \(2.0[0-9]* s\)" -- "$flywheel" label "$e0" --trim 0:9
check trim-negative 1 'trim: start -1.000 s is before the episode' -- "$flywheel" label "$e0" --trim -1:1
check trim-malformed 1 "--trim 'abc': expected START:END" -- "$flywheel" label "$e0" --trim abc
check trim-not-seconds 1 "--trim '1:2s': '2s' is not a number of seconds" -- "$flywheel" label "$e0" --trim 1:2s
check trim-and-idle nonzero 'excludes' -- "$flywheel" label "$e0" --trim 1:2 --trim-idle
[[ $(md5sum <"$e0") == "$before" ]] && echo "ok   bad-trims-change-nothing" || { echo "FAIL bad-trims-change-nothing"; failures=$((failures + 1)); }
expect_trim bad-trims-keep-the-old-trim "$e0" ":1.200"

# Trim idle, for several episodes at once: the cut head and tail stay within the idle motion (0.02 rad)
# of the first and last positions, and the kept part starts and ends with a joint beyond it.
check trim-idle 0 'episode_1.hdf5: .*trim [0-9.]*:[0-9.]* s' -- "$flywheel" label "$e0" "$e1" --trim-idle
for e in "$e0" "$e1"; do
  name=$(basename "$e")
  result=$("$python" -c "
import h5py, json, sys
import numpy as np
with h5py.File(sys.argv[1], 'r') as f:
    a = f['annotations']
    t = json.loads(bytes(a['slot_b' if a['current'][()] else 'slot_a'][()]).rstrip(b'\0'))['trim']
    q, ts = f['observations/qpos'][()], f['timestamp'][()]
first = int(np.searchsorted(ts, t['start'] - 1e-9)); last = int(np.searchsorted(ts, t['end'] - 1e-9))
assert 0 < first < last < len(ts), (first, last, len(ts))
head = np.abs(q[:first] - q[0]).max(); tail = np.abs(q[last:] - q[-1]).max()
starts = np.abs(q[first] - q[0]).max(); ends = np.abs(q[last - 1] - q[-1]).max()
print('ok' if head <= 0.02 < starts and tail <= 0.02 < ends else 'bad', first, last, head, starts, tail, ends)" "$e")
  [[ $result == ok* ]] && echo "ok   trim-idle-$name ($result)" || { echo "FAIL trim-idle-$name: $result"; failures=$((failures + 1)); }
done

check trim-clear 0 'segments$' -- "$flywheel" label "$e0" --trim :
expect_trim trim-clear-read-back "$e0" ":"
[[ $(data_of "$e0") == "$data_before" ]] && echo "ok   recording-untouched" || { echo "FAIL recording-untouched"; failures=$((failures + 1)); }
# A take that fell behind its rate (20 ticks of 50 Hz at 40 Hz: 0.5 s measured, 0.4 s by tick / fps) takes
# segments up to its measured end, as the Review view saves them, so labels saved there can be edited here.
"$flywheel" record --rig sim --out "$work/lag" --seconds 0.4 --fast >/dev/null || exit 1
lag=$work/lag/episode_0.hdf5
"$python" -c "import h5py,sys; f=h5py.File(sys.argv[1],'r+'); f['timestamp'][:] = [t / 40 for t in range(len(f['timestamp']))]" "$lag"
check segment-on-measured-clock 0 '1 segments' -- "$flywheel" label "$lag" --segment '0.41:0.49:late'
check segment-past-measured-end 1 "'too late'\) lies outside the episode \(0 to 0.495" -- "$flywheel" label "$lag" --segment '0.45:0.6:too late'
echo "label trims: $failures failures"
exit $((failures > 0))
