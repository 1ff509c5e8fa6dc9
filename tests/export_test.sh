#!/usr/bin/env bash
# `flywheel export` end to end on recorded sim-aloha and sim episodes: each format read back the way its
# consumer's code reads it (tests/check_export.py) with colours compared to the source frames, trims
# honoured, --length padding and cutting, float32, filters and the seeded split, bad selections and
# unwritable destinations refused with clear errors, an interrupted or killed export never looking
# finished, and the source files never changed.
set -u
flywheel=$1
python=/usr/bin/python3
checker=$(dirname "$0")/check_export.py
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
failures=0
source "$(dirname "$0")/check.sh"
fail() { echo "FAIL $1"; failures=$((failures + 1)); }
pass() { echo "ok   $1"; }
record() { "$flywheel" record --fast "$@" >>"$work/record.log" 2>&1 || { cat "$work/record.log"; echo "FAIL record"; exit 1; }; }
manifest() { "$python" -c "import json,sys; m=json.load(open('$1/manifest.json')); print($2)"; }

# Sources: raw frames (a), JPEG frames with another task, operator and tags (b), the 7-joint sim rig (c)
# with a demonstration and a policy run.
record --rig sim-aloha --out "$work/a" --episodes 2 --seconds 0.4 --seed 3 --operator ann
record --rig sim-aloha --out "$work/b" --episodes 2 --seconds 0.4 --seed 5 --jpeg --operator bob --tag left --tag wet --task "stack"
record --rig sim --out "$work/c" --seconds 0.4
"$flywheel" run --rig sim --policy sim-pick-place --task pick --seconds 0.4 --fast --record "$work/c" >>"$work/record.log" 2>&1 ||
  fail "policy run recorded"
"$flywheel" label "$work/a/episode_1.hdf5" --trim 0.11:0.29 --success yes >/dev/null || fail "trim set"
sums() { md5sum "$work"/{a,b,c}/episode_*.hdf5; }
before=$(sums)

# 1. ALOHA/ACT, raw: every row equal to the source, the trim honoured, episodes numbered from 0 per split.
check aloha-raw 0 "^3 train, 1 validation episodes" -- "$flywheel" export --data "$work/a" --data "$work/b" --data "$work/a/episode_0.hdf5" --out "$work/x1" --format aloha --val-fraction 0.25 --seed 7
check aloha-raw-reads 0 '4 episodes read as act' -- "$python" "$checker" "$work/x1" --consumer act --expect-kept a/episode_1.hdf5=6:15 --expect-kept a/episode_0.hdf5=0:20
check aloha-raw-trim-rows 0 '^9$' -- manifest "$work/x1" "[e['rows'] for e in m['episodes'] if e['source']['path'].endswith('a/episode_1.hdf5')][0]"
check manifest-source 0 "^[0-9]+ True True$" -- manifest "$work/x1" "m['episodes'][0]['source']['bytes'], 'mtime_ns' in m['episodes'][0]['source'], m['settings']['seed'] == 7"
check same-seed-same-split 0 '3 train, 1 validation' -- "$flywheel" export --data "$work/a" --data "$work/b" --out "$work/x1b" --format aloha --val-fraction 0.25 --seed 7
[[ $(manifest "$work/x1" "[e['split'] for e in m['episodes']]") == "$(manifest "$work/x1b" "[e['split'] for e in m['episodes']]")" ]] &&
  pass "the seed fixes the split" || fail "same seed, different split"
cmp -s <(manifest "$work/x1" "[s['path'] for s in [e['source'] for e in m['episodes']]]") <(ls "$work"/a/episode_*.hdf5 "$work"/b/episode_*.hdf5 | "$python" -c "import sys; print([l.strip() for l in sys.stdin])") &&
  pass "every source named in the manifest" || fail "manifest sources"

# 2. JPEG for ACT (decoded as is), float32, padded to a fixed length holding the last frame and action.
check aloha-jpeg-pad 0 '20 padded' -- "$flywheel" export --data "$work/a" --data "$work/b" --out "$work/x2" --format aloha --jpeg --float32 --length 40
check aloha-jpeg-pad-reads 0 '4 episodes read as act' -- "$python" "$checker" "$work/x2" --consumer act --length 40 --float32
# 3. Cut to a shorter length.
check aloha-cut 0 '11 cut' -- "$flywheel" export --data "$work/a" --out "$work/x3" --format aloha --length 9 --val-fraction 0
check aloha-cut-reads 0 '2 episodes read as act' -- "$python" "$checker" "$work/x3" --consumer act --length 9
check float64-is-checked 1 'is float64, expected float32' -- "$python" "$checker" "$work/x3" --consumer act --length 9 --float32

# Labels follow on the measured clock: a take that fell behind its rate (20 ticks at 40 of 50 Hz: 0.495 s
# measured, 0.4 s by tick / fps) keeps its segment past 0.4 s.
record --rig sim --out "$work/lag" --seconds 0.4
"$python" -c "import h5py,sys; f=h5py.File(sys.argv[1],'r+'); f['timestamp'][:] = [t / 40 for t in range(len(f['timestamp']))]" "$work/lag/episode_0.hdf5"
"$flywheel" label "$work/lag/episode_0.hdf5" --segment '0.41:0.49:late' >/dev/null || fail "late segment set"
check lagging-export 0 'export: ' -- "$flywheel" export --data "$work/lag" --out "$work/x8" --format aloha --val-fraction 0
check lagging-segment-kept 0 "^\[\[0.41, 0.49, 'late'\]\]$" -- "$python" -c "
import h5py, json, sys
with h5py.File(sys.argv[1], 'r') as f:
    a = f['annotations']
    labels = json.loads(bytes(a['slot_b' if a['current'][()] else 'slot_a'][()]).rstrip(b'\0'))
print([[round(s['start'], 3), round(s['end'], 3), s['text']] for s in labels['segments']])" "$work/x8/train/episode_0.hdf5"

# 4. openpi: true-colour JPEG (imdecode + BGR2RGB gives the source's RGB; ACT's reading gets red and blue
# swapped, and the ACT export read openpi's way does too).
check openpi-jpeg 0 'export: ' -- "$flywheel" export --data "$work/a" --data "$work/b" --out "$work/x4" --format openpi --jpeg
check openpi-jpeg-reads 0 '4 episodes read as openpi' -- "$python" "$checker" "$work/x4" --consumer openpi
check openpi-not-act 1 'not encoded for act' -- "$python" "$checker" "$work/x4" --consumer act
check act-not-openpi 1 'not encoded for openpi' -- "$python" "$checker" "$work/x2" --consumer openpi --length 40 --float32
check openpi-raw 0 'export: ' -- "$flywheel" export --data "$work/b" --out "$work/x5" --format openpi
check openpi-raw-reads 0 '2 episodes read as openpi' -- "$python" "$checker" "$work/x5" --consumer openpi
check openpi-other-cameras 2 "camera '(front|top)' is not one openpi's ALOHA converter declares .*--camera" -- "$flywheel" export --data "$work/c" --out "$work/x6" --format openpi
check openpi-missing-camera 2 "no camera 'cam_left_wrist': openpi's ALOHA converter needs all four" -- "$flywheel" export --data "$work/c" --out "$work/x6" --format openpi --camera front=cam_high --camera top=cam_low
check camera-collision 2 "two cameras exported as 'cam_high'" -- "$flywheel" export --data "$work/a" --out "$work/x6" --format aloha --camera cam_low=cam_high
check camera-rename 0 'export: ' -- "$flywheel" export --data "$work/c" --out "$work/x7" --format aloha --camera front=cam_high --val-fraction 0
check camera-rename-reads 0 '2 episodes read as act' -- "$python" "$checker" "$work/x7" --consumer act --camera front=cam_high

# 5. Filters, combined.
check by-task 0 '^2 train, 0 validation' -- "$flywheel" export --data "$work/a" --data "$work/b" --out "$work/f1" --format aloha --jpeg --task stack
check by-operator-and-tags 0 '^2 train' -- "$flywheel" export --data "$work/a" --data "$work/b" --out "$work/f2" --format aloha --jpeg --operator bob --tag wet --tag left
check tags-all-required 2 'no episode matches' -- "$flywheel" export --data "$work/b" --out "$work/f3" --format aloha --jpeg --tag wet --tag dry
check by-outcome-and-labelled 0 '^1 train, 0 validation' -- "$flywheel" export --data "$work/a" --data "$work/b" --out "$work/f4" --format aloha --jpeg --outcome success --labelled
check policy-runs 0 "^1 train" -- "$flywheel" export --data "$work/c" --out "$work/f5" --format aloha --kind policy-run --float32 --length 30
check policy-run-chosen 0 'episode_1.hdf5' -- manifest "$work/f5" "m['episodes'][0]['source']['path']"
check policy-run-reads 0 "1 episodes read as act" -- "$python" "$checker" "$work/f5" --consumer act --float32 --length 30
check demonstrations 0 '^1 train' -- "$flywheel" export --data "$work/c" --out "$work/f6" --format aloha --kind demonstration
check demonstration-chosen 0 'c/episode_0.hdf5' -- manifest "$work/f6" "m['episodes'][0]['source']['path']"
total=0
for verdict in good check bad; do
  n=$("$flywheel" export --data "$work/a" --data "$work/b" --out "$work/v-$verdict" --format aloha --jpeg --verdict "$verdict" 2>/dev/null | grep -c ' <- ')
  total=$((total + n))
done
[[ $total -eq 4 ]] && pass "verdicts partition the episodes ($total)" || fail "verdict filters chose $total of 4"

# 6. Bad selections and destinations: clear errors, non-zero, nothing left behind.
check unknown-verdict 2 "--verdict 'great': expected good, check or bad; nothing written" -- "$flywheel" export --data "$work/a" --out "$work/e1" --format aloha --verdict great
check unknown-outcome 2 "--outcome 'maybe'" -- "$flywheel" export --data "$work/a" --out "$work/e1" --format aloha --outcome maybe
check unknown-format 2 "--format 'lerobot': expected aloha or openpi" -- "$flywheel" export --data "$work/a" --out "$work/e1" --format lerobot
check no-match 2 'no episode matches the selection \(2 episode files looked at\)' -- "$flywheel" export --data "$work/a" --out "$work/e1" --format aloha --task nothing
check missing-source 2 'nowhere: no such dataset folder or episode file' -- "$flywheel" export --data "$work/nowhere" --out "$work/e1" --format aloha
[[ -z $(ls -d "$work"/e1* 2>/dev/null) ]] && pass "refusals create nothing" || fail "refusals left $(ls -d "$work"/e1*)"
touch "$work/file"
check unwritable-destination 1 'cannot create .*file/out.partial-XXXXXX beside the export: Not a directory' -- "$flywheel" export --data "$work/a" --out "$work/file/out" --format aloha
check existing-not-empty 2 'x1: exists and is not empty \(--force replaces it\)' -- "$flywheel" export --data "$work/a" --out "$work/x1" --format aloha
check force-replaces 0 'export: ' -- "$flywheel" export --data "$work/a" --out "$work/x1" --format aloha --force --val-fraction 0
[[ $(manifest "$work/x1" "len(m['episodes'])") == 2 && ! -e $work/x1/val ]] && pass "--force replaced the old export" || fail "--force"
# A write that fails (the file-size limit: writes get EFBIG) fails the export, with the reason.
check write-fails 1 'File too large\); nothing written' -- bash -c "ulimit -f 2000; '$flywheel' export --data '$work/a' --out '$work/e2' --format aloha"
[[ -z $(ls -d "$work"/e2* 2>/dev/null) ]] && pass "a failed export leaves nothing" || fail "failed export left $(ls -d "$work"/e2*)"
damaged_dir="$work/d"; mkdir "$damaged_dir"; cp "$work/c/episode_0.hdf5" "$damaged_dir/"; echo junk >"$damaged_dir/episode_1.hdf5"
check damaged-skipped 0 'skipped .*episode_1.hdf5: damaged' -- "$flywheel" export --data "$damaged_dir" --out "$work/e3" --format aloha
check damaged-in-manifest 0 'episode_1.hdf5' -- manifest "$work/e3" "m['skipped'][0]['source']"
# A per-tick dataset narrower than the joints (its rows are all the reader checks) is refused, never read
# past its end.
narrow="$work/n"; mkdir "$narrow"; cp "$work/c/episode_0.hdf5" "$narrow/"
"$python" -c "import h5py,sys; f=h5py.File(sys.argv[1],'r+'); t=f['action'].shape[0]; del f['observations/qvel']; f['observations/qvel']=[[1.0]]*t" "$narrow/episode_0.hdf5"
check narrow-dataset 1 '/observations/qvel holds [0-9]+ values, expected [0-9]+ x 7; nothing written' -- "$flywheel" export --data "$narrow" --out "$work/e4" --format aloha
[[ -z $(ls -d "$work"/e4* 2>/dev/null) ]] && pass "a refused source leaves nothing" || fail "refused source left $(ls -d "$work"/e4*)"
# A /policy_source value that names no source is refused, as the Review view refuses it, not copied on.
sources="$work/s"; mkdir "$sources"; cp "$work/c/episode_1.hdf5" "$sources/"
"$python" -c "import h5py,sys; f=h5py.File(sys.argv[1],'r+'); f['policy_source'][3] = 9" "$sources/episode_1.hdf5"
check unknown-policy-source 1 '/policy_source holds 9 at tick 3: not none \(0\), main \(1\), fallback \(2\) or human \(3\); nothing written' -- "$flywheel" export --data "$sources" --out "$work/e5" --format aloha

# 7. Interrupted (SIGINT) and killed (SIGKILL) exports never look finished.
"$flywheel" export --data "$work/a" --data "$work/b" --out "$work/k1" --format aloha --jpeg --length 400 >"$work/k1.log" 2>&1 &
pid=$!
for _ in $(seq 100); do ls "$work"/k1.partial-*/train/episode_0.hdf5 >/dev/null 2>&1 && break; sleep 0.05; done
kill -INT $pid; wait $pid; status=$?
[[ $status -eq 130 && ! -e $work/k1 && -z $(ls -d "$work"/k1.partial-* 2>/dev/null) ]] && grep -q 'export interrupted; nothing written' "$work/k1.log" &&
  pass "Ctrl-C: exit 130, staging removed" || fail "Ctrl-C: exit $status, $(ls -d "$work"/k1* 2>/dev/null) $(cat "$work/k1.log")"
"$flywheel" export --data "$work/a" --data "$work/b" --out "$work/k2" --format aloha --jpeg --length 400 >/dev/null 2>&1 &
pid=$!
for _ in $(seq 100); do ls "$work"/k2.partial-*/train/episode_0.hdf5 >/dev/null 2>&1 && break; sleep 0.05; done
kill -KILL $pid; wait $pid 2>/dev/null
partial=$(ls -d "$work"/k2.partial-* 2>/dev/null)
[[ ! -e $work/k2 && -n $partial && ! -e $partial/manifest.json ]] && pass "kill -9: no $work/k2, only an unfinished partial folder" ||
  fail "kill -9 left: $(ls -d "$work"/k2* 2>/dev/null) $(ls "$partial" 2>/dev/null)"

[[ $(sums) == "$before" ]] && pass "source files unchanged" || fail "a source file changed"
echo "$failures failure(s)"
[[ $failures -eq 0 ]]
