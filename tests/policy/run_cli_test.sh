#!/usr/bin/env bash
# `flywheel run` as a user runs it: a TorchScript model and an openpi server on the simulated rig, a
# scripted takeover and prompt change recorded, models and servers that cannot serve refused clearly.
set -u
flywheel=$1
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
server_pid=
trap '[[ -n $server_pid ]] && kill $server_pid 2>/dev/null; rm -rf "$work"' EXIT
failures=0
source "$(dirname "$0")/../check.sh"

/usr/bin/python3 "$here/make_test_model.py" "$work/model.pt" || exit 1
/usr/bin/python3 "$here/make_test_model.py" "$work/wrong.pt" --variant wrong-shape || exit 1
/usr/bin/python3 "$here/make_test_model.py" "$work/aloha.pt" --joints 14 --cameras cam_high,cam_low,cam_left_wrist,cam_right_wrist || exit 1

check run-help 0 '--takeover-at' -- "$flywheel" run --help
check torchscript-run 0 '1 takeover\(s\), last by key' -- \
  "$flywheel" run --rig sim --policy "$work/model.pt" --task "pick up the cube" --seconds 3 --fast \
  --record "$work/ds" --takeover-at 1:1.5 --prompt-at "2:put it back"
# --fast steps simulated time in lockstep with the model, so simulated time stands still while it runs:
# the latency reported is wall time, never 0.0 ms.
check fast-latency-is-wall-time 0 'observation to chunk p50 ([1-9][0-9]*\.[0-9]|0\.[1-9]) ms.*\(wall time\)' -- \
  "$flywheel" run --rig sim --policy "$work/model.pt" --task x --seconds 1 --fast
# The outcome on the simulated rig is printed, and it is the one stored in the file.
check outcome-printed 0 'Saved .*episode_0.hdf5: .*dropped, (success|failure)' -- \
  "$flywheel" run --rig sim --policy "$work/model.pt" --task x --seconds 2 --fast --record "$work/outcome"
printed=$("$flywheel" run --rig sim --policy "$work/model.pt" --task x --seconds 2 --fast --record "$work/outcome" |
  sed -n 's/^Saved .*dropped, \(success\|failure\)$/\1/p')
check outcome-is-stored 0 "^stored $printed\$" -- /usr/bin/python3 -c '
import sys, h5py
with h5py.File(sys.argv[1], "r") as f:
    print("stored", "success" if f.attrs["success"] else "failure")' "$work/outcome/episode_1.hdf5"
check wrong-model 2 'the model returned \[1, 10, 6\], its flywheel.json promises \[1, 10, 7\]' -- \
  "$flywheel" run --rig sim --policy "$work/wrong.pt" --task x --seconds 1 --fast
check no-server 2 'cannot connect to ws://127.0.0.1:9: Connection refused' -- \
  "$flywheel" run --rig sim --policy ws://127.0.0.1:9 --task x --seconds 1 --fast
check bad-takeover-time 2 "--takeover-at takes SECONDS:VALUE with SECONDS a number, got '1:soon'" -- \
  "$flywheel" run --rig sim --policy "$work/model.pt" --task x --seconds 1 --fast --takeover-at 1:soon
check bad-prompt-time 2 "--prompt-at takes SECONDS:VALUE with SECONDS a number, got '-2:stack'" -- \
  "$flywheel" run --rig sim --policy "$work/model.pt" --task x --seconds 1 --fast --prompt-at -2:stack
check model-for-another-rig 2 "the model takes a state of 7 and acts on 7 joints; this rig's followers have 14" -- \
  "$flywheel" run --rig sim-aloha --policy "$work/model.pt" --task x --seconds 1 --fast

# What the file says: who was in control, what the policy proposed, the prompts as segments.
check file-flags 0 'interventions 1, proposals ok, policy model.pt' -- /usr/bin/python3 - "$work/ds/episode_0.hdf5" <<'PY'
import sys, h5py, numpy as np
with h5py.File(sys.argv[1], "r") as f:
    flags = f["intervention"][:]
    assert flags.dtype == np.bool_, flags.dtype
    proposed, executed = f["policy_action"][:], f["action"][:]
    assert proposed.shape == executed.shape == (150, 7), proposed.shape
    edges = int(np.sum(np.diff(flags.astype(int)) == 1)) + int(flags[0])
    policy_ticks = ~flags & ~np.isnan(proposed).any(axis=1)
    assert policy_ticks.sum() > 50 and np.allclose(proposed[policy_ticks], executed[policy_ticks], atol=0.1)
    print(f"interventions {edges}, proposals ok, policy {f.attrs['policy']}")
PY
check prompt-segments 0 'episode_0.hdf5 +complete +(good|check|bad) +3.00 +150 .* 2 +1 +pick up the cube' -- "$flywheel" list "$work/ds"

# The ALOHA request to a server speaking openpi's protocol, on the simulated ALOHA.
/usr/bin/python3 "$here/openpi_test_server.py" --port 0 --horizon 25 --image-size 0 \
  >"$work/server.out" 2>"$work/server.err" &
server_pid=$!
for _ in $(seq 100); do grep -q listening "$work/server.out" 2>/dev/null && break; sleep 0.1; done
port=$(awk '/listening on/ {print $3}' "$work/server.out")
check openpi-run 0 'Policy ws://127.0.0.1:[0-9]+: [0-9]+ answers \(0 refused, 0 failed\)' -- \
  "$flywheel" run --rig sim-aloha --policy "ws://127.0.0.1:$port" --task "fold the towel" --seconds 1 --fast \
  --record "$work/aloha"
check openpi-metadata 0 'server: server=flywheel-test, horizon=25, behaviour=good; 0 reconnect\(s\)' -- \
  "$flywheel" run --rig sim-aloha --policy "ws://127.0.0.1:$port" --task x --seconds 0.5 --fast

# Secrets in the address (credentials, query values) are never printed or stored, also in errors.
secret_url="ws://operator:hunter2pass@127.0.0.1:$port/?token=s3cr3tTOKEN&team=t7secret"
check secret-redacted 0 "Running ws://\*\*\*@127\.0\.0\.1:$port/\?token=\*\*\*&team=\*\*\* " -- \
  "$flywheel" run --rig sim-aloha --policy "$secret_url" --task x --seconds 0.5 --fast --record "$work/secret"
check secret-redacted-in-errors 2 'cannot connect to ws://\*\*\*@127\.0\.0\.1:9/\?token=\*\*\*: ' -- \
  "$flywheel" run --rig sim-aloha --policy "ws://operator:hunter2pass@127.0.0.1:9/?token=s3cr3tTOKEN" --task x \
  --seconds 0.5 --fast
check secret-redacted-not-ws 2 "got 'http://\*\*\*@gpu/\?token=\*\*\*'" -- \
  "$flywheel" run --rig sim-aloha --policy "http://operator:hunter2pass@gpu/?token=s3cr3tTOKEN" --task x --seconds 0.5
leaks=$( (
  "$flywheel" run --rig sim-aloha --policy "$secret_url" --task x --seconds 0.5 --fast --record "$work/secret"
  "$flywheel" run --rig sim-aloha --policy "ws://operator:hunter2pass@127.0.0.1:9/?token=s3cr3tTOKEN" --task x --seconds 0.5 --fast
  "$flywheel" list "$work/secret"
  cat "$work/secret"/*  # every byte of the episode files and the index
) 2>&1 | grep -acE 'hunter2pass|s3cr3tTOKEN|t7secret')
check secret-never-printed-or-stored 0 '^0$' -- echo "$leaks"
check secret-policy-attribute 0 "^ws://\*\*\*@127\.0\.0\.1:$port/\?token=\*\*\*&team=\*\*\*\$" -- /usr/bin/python3 -c '
import sys, h5py
with h5py.File(sys.argv[1], "r") as f:
    print(f.attrs["policy"])' "$work/secret/episode_0.hdf5"
check bench-policy 0 '4 cameras 224 +602498' -- \
  "$flywheel" bench-policy --model "$work/aloha.pt" --server "ws://127.0.0.1:$port" --iterations 3
# An inference reuses the memory of the one before: glibc used to hand the input tensor, activations and
# letterboxing buffers back to the kernel after each one, and the next page-faulted them in again (hundreds
# to ~1600 faults per inference, more time than the forward itself).
/usr/bin/python3 "$here/make_test_model.py" "$work/bench.pt" --variant bench --joints 14 --horizon 50 \
  --cameras cam_high,cam_low,cam_left_wrist,cam_right_wrist || exit 1
check no-page-faults-per-inference 0 ', [0-9] page faults per inference' -- \
  "$flywheel" bench-policy --model "$work/bench.pt" --iterations 20
check openpi-file 0 'policy_action +\[50, 14\] float64' -- "$flywheel" inspect "$work/aloha/episode_0.hdf5"

((failures == 0)) || { echo "$failures check(s) failed"; exit 1; }
echo "all run checks passed"
