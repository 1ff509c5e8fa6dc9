#!/usr/bin/env bash
# The flywheel's machinery in under a minute (bench-flywheel with tiny settings, checking mechanics, not
# rates): the scripted supervisor takes over a policy run through the leader arm (the detector's cause names
# a leader joint, not the key), the episode stores /intervention and /policy_action with a "correction: ..."
# segment over each human span, `train` adds exactly those ticks to the demonstrations, and the retrained
# model loads and drives. Also: --supervisor is refused on a rig that drives hardware.
set -u
flywheel=$1
python=/usr/bin/python3
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
failures=0
fail() { echo "FAIL $1"; failures=$((failures + 1)); }
pass() { echo "ok   $1"; }

# 1. Refused up front where a person supervises.
"$flywheel" run --rig koch-emulated --policy sim-pick-place --task x --supervisor scripted >"$work/refuse.log" 2>&1
status=$?
[[ $status -eq 2 ]] && grep -q "supervisor scripted needs a simulated rig; 'koch-emulated' drives hardware" \
  "$work/refuse.log" && pass "refused on a hardware rig" || { cat "$work/refuse.log"; fail "not refused ($status)"; }

# 2. Demonstrations, then supervised runs of the bundled policy on seeds it fails alone (README: 7 and 8).
"$flywheel" record --rig sim --episodes 2 --seconds 6 --jpeg --fast --seed 2000 --out "$work/demos" \
  >"$work/record.log" 2>&1 || { cat "$work/record.log"; echo "FAIL record"; exit 1; }
# Seed 7's run stores its frames as JPEG (--jpeg), seed 8's raw.
for seed in 7 8; do
  frames=()
  [[ $seed == 7 ]] && frames=(--jpeg)
  "$flywheel" run --rig sim --policy sim-pick-place --task "pick up the cube and place it in the bin" \
    --seconds 14 --fast --mode ensemble --seed "$seed" --supervisor scripted --record "$work/runs" "${frames[@]}" \
    >"$work/run_$seed.log" 2>&1 || { cat "$work/run_$seed.log"; fail "run seed $seed"; }
done
cat "$work"/run_*.log | grep "takeover(s)"
takeovers=$(cat "$work"/run_*.log | sed -n 's/.* \([0-9]*\) takeover(s).*/\1/p' | paste -sd+ | bc)
((${takeovers:-0} >= 1)) && pass "the supervisor took over $takeovers time(s)" || fail "no takeover"
if grep "takeover(s), last by" "$work"/run_*.log | grep -v "last by leader moved: joint [0-9]"; then
  fail "a takeover not seen by the leader-deviation detector"
else
  grep -q "takeover(s), last by leader moved: joint" "$work"/run_*.log && pass "takeovers detected on a leader joint"
fi

# 3. The files: human spans and correction segments agree; the policy's proposals are stored.
$python - "$work/runs" >"$work/files.log" 2>&1 <<'EOF'
import glob, json, sys
import h5py, numpy as np
human = 0
for path in sorted(glob.glob(sys.argv[1] + "/*.hdf5")):
    with h5py.File(path, "r") as f:
        a = f["annotations"]
        slot = bytes(a["slot_b" if a["current"][()] == 1 else "slot_a"][()])
        labels = json.loads(slot[: slot.index(0)] if 0 in slot else slot)
        iv = f["intervention"][()].astype(bool)
        t = f["timestamp"][()] - f["timestamp"][0]
        assert f["policy_action"].shape == f["action"].shape, "policy_action missing or misshapen"
        spans = np.flatnonzero(np.diff(np.concatenate([[0], iv.astype(int), [0]])))
        segments = [s for s in labels.get("segments", []) if s["text"].startswith("correction: ")]
        assert len(segments) == len(spans) // 2, f"{path}: {len(spans) // 2} human spans, segments {segments}"
        for (begin, end), s in zip(spans.reshape(-1, 2), segments):
            # one tick of slack each side: the segment is timed on the loop's clock, the ticks on /timestamp
            assert abs(s["start"] - t[begin]) < 0.05 and abs(s["end"] - t[end - 1]) < 0.05, (s, t[begin], t[end - 1])
            print(f"{path.split('/')[-1]}: {s['text']} {s['start']:.2f}-{s['end']:.2f} s, {end - begin} human ticks")
        human += int(iv.sum())
for path, jpeg in ((sys.argv[1] + "/episode_0.hdf5", True), (sys.argv[1] + "/episode_1.hdf5", False)):
    with h5py.File(path, "r") as f:
        assert ("compress_len" in f) == jpeg, f"{path}: frames stored {'raw' if jpeg else 'as JPEG'}"
        print(f"{path.split('/')[-1]}: frames {'JPEG' if jpeg else 'raw'}, {f['observations/images/top'].dtype}")
print("human", human)
EOF
status=$?
cat "$work/files.log"
[[ $status -eq 0 ]] && pass "each human span is a correction segment" || fail "files do not match"
human=$(sed -n 's/^human //p' "$work/files.log")

# 4. Retrain on the demonstrations and the corrections: every demonstration tick plus the human ticks.
small=(--image-size 24x32 --horizon 10 --batch-size 16 --held-out 0)
"$flywheel" train --data "$work/demos" --data "$work/runs" --out "$work/model.pt" --epochs 1 "${small[@]}" \
  >"$work/train.log" 2>&1 || { cat "$work/train.log"; fail "train"; }
head -1 "$work/train.log"
samples=$(sed -n 's/.*; \([0-9]*\) training and .*/\1/p' "$work/train.log")
[[ -n $human && $samples -eq $((600 + human)) ]] && pass "trained on 600 demonstration + $human correction ticks" ||
  fail "trained on $samples samples, expected 600 + ${human:-?}"

# 5. The retrained model loads and drives.
"$flywheel" eval --rig sim --policy "$work/model.pt" --episodes 1 --seconds 2 --fast --seed 60 >"$work/eval.log" 2>&1
status=$?
cat "$work/eval.log"
[[ $status -eq 0 ]] && grep -q "^success [01]/1 " "$work/eval.log" && pass "the retrained model runs" ||
  fail "the retrained model did not run ($status)"

((failures == 0)) && echo "all passed" || echo "$failures failure(s)"
exit $((failures > 0))
