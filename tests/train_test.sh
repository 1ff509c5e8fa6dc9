#!/usr/bin/env bash
# `flywheel train` end to end on two short recorded episodes: the loss falls, a damaged episode beside them
# is skipped by name, the model loads in python3-torch and drives `flywheel run`, Ctrl-C keeps a model,
# and bad flags get clear errors.
set -u
flywheel=$1
python=/usr/bin/python3
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
failures=0
fail() { echo "FAIL $1"; failures=$((failures + 1)); }
pass() { echo "ok   $1"; }

"$flywheel" record --rig sim --episodes 2 --seconds 2 --jpeg --fast --out "$work/data" >"$work/record.log" 2>&1 ||
  { cat "$work/record.log"; echo "FAIL record"; exit 1; }
head -c 200000 "$work/data/episode_0.hdf5" >"$work/data/episode_7.hdf5"  # cut short: a damaged file

# 1. A tiny run: every epoch reported, the training loss falls, the damaged episode named.
small=(--image-size 24x32 --horizon 10 --batch-size 16)
"$flywheel" train --data "$work/data" --out "$work/model.pt" --epochs 4 "${small[@]}" >"$work/train.log" 2>&1
status=$?
cat "$work/train.log"
[[ $status -eq 0 && -s $work/model.pt ]] && pass "train wrote the model" || fail "train exited $status"
grep -q "skipped .*episode_7.hdf5: " "$work/train.log" && pass "damaged episode skipped by name" ||
  fail "damaged episode not named"
[[ $(grep -c '^epoch [0-9]/4 .*held-out [0-9.]* .*samples/s' "$work/train.log") -eq 4 ]] &&
  pass "a line per epoch" || fail "not one line per epoch"
first=$(grep -m1 '^epoch 1/4' "$work/train.log" | sed 's/.*train \([0-9.]*\).*/\1/')
last=$(grep '^epoch 4/4' "$work/train.log" | sed 's/.*train \([0-9.]*\).*/\1/')
(($(echo "${last:-9} < 0.8 * ${first:-0}" | bc -l))) && pass "loss falls: $first -> $last" ||
  fail "loss did not fall: $first -> $last"
grep -q "^model: $work/model.pt (epoch [1-4] of 4, held-out loss [0-9.]*" "$work/train.log" &&
  pass "says where the model is" || fail "no final line"
[[ -z $(ls "$work" | grep '\.tmp$') ]] && pass "no temporary file left" || fail "temporary file left"

# 2. python3-torch loads it and runs it on the contract's shapes.
out=$("$python" -c "
import json, torch
extra = {'flywheel.json': ''}
m = torch.jit.load('$work/model.pt', _extra_files=extra)
meta = json.loads(extra['flywheel.json'])
h, w = meta['image_size']
y = m(torch.zeros(1, meta['state_dim']), torch.rand(1, len(meta['cameras']), 3, h, w))
assert tuple(y.shape) == (1, meta['horizon'], meta['action_dim']), y.shape
assert torch.isfinite(y).all()
assert meta['cameras'] == ['front', 'top'] or meta['cameras'] == ['top', 'front'], meta['cameras']
assert len(meta['action_mean']) == 7 and len(meta['state_std']) == 7
print('shape', tuple(y.shape))
" 2>&1)
[[ $? -eq 0 ]] && pass "python3-torch loads and runs it: $out" || fail "python3-torch: $out"

# 3. It drives the simulated rig.
out=$("$flywheel" run --rig sim --policy "$work/model.pt" --task "pick" --seconds 1 --fast 2>&1)
status=$?
[[ $status -eq 0 ]] && grep -q "answers (0 refused, 0 failed)" <<<"$out" && pass "flywheel run drives sim with it" ||
  fail "flywheel run exited $status: $out"

# 4. Ctrl-C ends training and keeps a model that loads.
"$flywheel" train --data "$work/data" --out "$work/stopped.pt" --minutes 5 "${small[@]}" >"$work/stop.log" 2>&1 &
pid=$!
for _ in $(seq 300); do grep -q '^epoch 1 ' "$work/stop.log" && break; sleep 0.1; done
kill -INT $pid
wait $pid
status=$?
[[ $status -eq 130 ]] && grep -q "stopped: the best model so far is kept" "$work/stop.log" &&
  "$python" -c "import torch; torch.jit.load('$work/stopped.pt')" && pass "Ctrl-C keeps the best model" ||
  { cat "$work/stop.log"; fail "Ctrl-C: exit $status"; }

# 5. Bad flags: clear errors, exit non-zero, no model written.
expect_error() {  # name, pattern, flags...
  local name=$1 pattern=$2
  shift 2
  out=$("$flywheel" train --out "$work/bad.pt" "$@" 2>&1)
  local status=$?
  [[ $status -ne 0 ]] && grep -qi -- "$pattern" <<<"$out" && [[ ! -e $work/bad.pt ]] && pass "$name: $(tail -1 <<<"$out")" ||
    fail "$name: exit $status: $out"
}
mkdir "$work/empty"
expect_error "no episodes" "no .*episode" --data "$work/empty"
expect_error "missing folder" "$work/nowhere" --data "$work/nowhere"
expect_error "camera the episodes lack" "side" --data "$work/data" --cameras top,side
expect_error "horizon 0" "horizon" --data "$work/data" --horizon 0
expect_error "epochs and minutes" "excludes" --data "$work/data" --epochs 2 --minutes 1
expect_error "image size" "image-size" --data "$work/data" --image-size 60by80
expect_error "no --data" "data" --epochs 1

[[ $failures -eq 0 ]] && echo "all passed" || echo "$failures failed"
exit $((failures > 0))
