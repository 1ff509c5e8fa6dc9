#!/usr/bin/env bash
# A task where the words matter, end to end on the sim-two-bins rig: record stores each episode's
# instruction as its task, train makes a prompt-conditioned model (vocabulary in flywheel.json) that
# python3-torch loads and runs on word ids, run feeds it prompts with unknown words, eval reports success
# per prompt, and the bundled sim-two-bins policy is redirected to the other bin by run --prompt-at.
set -u
flywheel=$1
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
failures=0
source "$here/check.sh"
left="put the cube in the left bin"
right="put the cube in the right bin"
unset FLYWHEEL_POLICIES

# 1. Without a task naming a bin, each episode's instruction is drawn from its seed (2: right, 3: left);
#    a task that names one is followed and stored as it is.
check record-draws 0 'episode_1\.hdf5: 100 ticks' -- \
  "$flywheel" record --rig sim-two-bins --out "$work/d" --episodes 2 --seconds 2 --seed 2 --jpeg --fast
check task-drawn-right 0 "task +$right" -- "$flywheel" inspect "$work/d/episode_0.hdf5"
check task-drawn-left 0 "task +$left" -- "$flywheel" inspect "$work/d/episode_1.hdf5"
check record-told 0 'Saved 1 episode' -- "$flywheel" record --rig sim-two-bins --out "$work/d" --episodes 1 \
  --seconds 2 --seed 9 --jpeg --fast --task "Put the cube in the LEFT bin"
check task-kept 0 "task +Put the cube in the LEFT bin" -- "$flywheel" inspect "$work/d/episode_2.hdf5"

# 2. Several tasks: a prompt-conditioned model, its vocabulary the training tasks' words.
check train-conditioned 0 'prompt-conditioned: vocabulary <pad>,<unk>,bin,cube,in,left,put,right,the' -- \
  "$flywheel" train --data "$work/d" --out "$work/m.pt" --epochs 1 --image-size 24x32 --horizon 10 \
  --batch-size 16 --held-out 0

# 3. python3-torch loads it (and the bundled model) and runs it on word ids, tokenised as the studio does;
#    the prompt changes the actions, an unknown word is <unk>.
for model in "$work/m.pt" "$here/../resources/policies/sim-two-bins.pt"; do
  check "python-loads-$(basename "$model")" 0 '^prompt changes actions$' -- /usr/bin/python3 - "$model" <<'PY'
import json, re, sys, torch
extra = {"flywheel.json": ""}
m = torch.jit.load(sys.argv[1], _extra_files=extra)
meta = json.loads(extra["flywheel.json"])
assert meta["takes_prompt"] is True, meta
vocab = meta["prompt_vocabulary"]
assert vocab[:2] == ["<pad>", "<unk>"] and "left" in vocab and "right" in vocab, vocab
ids = lambda p: torch.tensor([[vocab.index(w) if w in vocab else 1 for w in re.findall("[a-z]+", p.lower())]])
assert ids("Put the sphere in the LEFT bin")[0, 2].item() == 1
h, w = meta["image_size"]
state, images = torch.zeros(1, meta["state_dim"]), torch.rand(1, len(meta["cameras"]), 3, h, w)
with torch.no_grad():
    a = m(state, images, ids("put the cube in the left bin"))
    b = m(state, images, ids("put the cube in the right bin"))
    c = m(state, images, ids("put the sphere in the left bin"))
assert tuple(a.shape) == (1, meta["horizon"], meta["action_dim"]) and torch.isfinite(c).all()
assert (a - b).abs().max() > 1e-4, "the prompt changed nothing"
print("prompt changes actions")
PY
done

# 4. run: a prompt of unknown words is answered, never refused; eval reports each prompt's rate.
check run-unknown-words 0 'answers \(0 refused, 0 failed\)' -- "$flywheel" run --rig sim-two-bins \
  --policy "$work/m.pt" --task "Bring the sphere to the blue crate!" --seconds 1 --fast
per_prompt="  \"$left\": success [0-9]+/1 .*~  \"$right\": success [0-9]+/1 "
check eval-per-prompt 0 "$per_prompt" -- sh -c "\"$flywheel\" eval --rig sim-two-bins --policy \"$work/m.pt\" \
  --episodes 2 --seconds 0.5 --fast --prompts \"$left\" \"$right\" | tr '\n' '~'"

# 5. The bundled policy, told the left bin, carries the cube to the left (waist turned to +y); told the
#    left bin and then, mid-run, the right one, it turns to the right bin instead. The run is saved with a
#    segment per prompt.
redirect=(run --rig sim-two-bins --policy sim-two-bins --seconds 9 --fast --mode ensemble --seed 4 --task "$left")
check run-left 0 'Saved ' -- "$flywheel" "${redirect[@]}" --record "$work/left"
check run-redirected 0 'Saved ' -- "$flywheel" "${redirect[@]}" --record "$work/right" --prompt-at "2.5:$right"
check redirected 0 '^left [0-9.]+ right -[0-9.]+$' -- /usr/bin/python3 - "$work" <<'PY'
import json, sys, h5py
work = sys.argv[1]
def waist(run):  # the follower's waist angle over the run: + turns to the left bin, - to the right one
    with h5py.File(f"{work}/{run}/episode_0.hdf5", "r") as f:
        return f["observations/qpos"][:, 0]
left, right = waist("left"), waist("right")
# The bins stand at waist +-0.9 rad, every cube within +-0.4 of 0.
assert left.max() > 0.6 and left.min() > -0.6, f"told left: waist {left.min():.2f}..{left.max():.2f}"
assert right.min() < -0.6 and right.max() < 0.6, f"redirected: waist {right.min():.2f}..{right.max():.2f}"
print(f"left {left.max():.2f} right {right.min():.2f}")
PY
check prompt-segments 0 "^$left \\| $right$" -- /usr/bin/python3 -c "
import h5py, json
with h5py.File('$work/right/episode_0.hdf5', 'r') as f:
    a = f['annotations']
    slot = bytes(a['slot_b' if a['current'][()] == 1 else 'slot_a'][()])
    labels = json.loads(slot[: slot.index(0)] if 0 in slot else slot)
    print(' | '.join(s['text'] for s in labels['segments']))"

[[ $failures -eq 0 ]] && echo "all passed" || echo "$failures failed"
exit $((failures > 0))
