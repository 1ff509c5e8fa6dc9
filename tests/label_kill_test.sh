#!/usr/bin/env bash
# kill -9 in the middle of saving labels: the episode keeps either the old labels or the new ones, and all
# of its data. The save is slowed at its riskiest moment so the kills land inside it.
set -u
flywheel=$1
python=/usr/bin/python3
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
"$flywheel" record --rig sim --out "$work" --seconds 2 --fast >/dev/null || exit 1
episode=$work/episode_0.hdf5
data_before=$("$python" -c "import h5py, hashlib; f = h5py.File('$episode', 'r'); print(hashlib.md5(f['/observations/qpos'][()].tobytes() + f['/observations/images/top'][()].tobytes()).hexdigest())")
failures=0
for round in $(seq 1 8); do
  text="version $round"
  FLYWHEEL_TEST_LABEL_SAVE_PAUSE_MS=300 "$flywheel" label "$episode" --notes "$text" --segment "0:1:$text" >/dev/null 2>&1 &
  pid=$!
  sleep "0.$((RANDOM % 5))$((RANDOM % 10))"
  kill -9 $pid 2>/dev/null
  wait $pid 2>/dev/null
  state=$("$python" -c "
import h5py, json, hashlib
with h5py.File('$episode', 'r') as f:
    a = f['annotations']
    slot = a['slot_b' if a['current'][()] else 'slot_a'][()]
    labels = json.loads(bytes(slot).rstrip(b'\0'))
    data = hashlib.md5(f['/observations/qpos'][()].tobytes() + f['/observations/images/top'][()].tobytes()).hexdigest()
print(labels['notes'] + '|' + data)
" 2>&1)
  notes=${state%|*}
  data=${state#*|}
  previous="version $((round - 1))"
  [[ $round -eq 1 ]] && previous=""
  if [[ $data != "$data_before" ]]; then echo "FAIL round $round: the recording changed ($state)"; failures=$((failures + 1))
  elif [[ $notes == "$text" || $notes == "$previous" ]]; then echo "ok   round $round: labels '$notes'"
  else echo "FAIL round $round: labels '$notes', expected '$previous' or '$text'"; failures=$((failures + 1)); fi
  # Finish this round's save for real, so the next round starts from known labels.
  "$flywheel" label "$episode" --notes "$text" --segment "0:1:$text" --clear-segments >/dev/null || failures=$((failures + 1))
done
echo "label kill: $failures failures"
exit $((failures > 0))
