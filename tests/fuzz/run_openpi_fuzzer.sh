#!/usr/bin/env bash
# Builds the openpi reply fuzz target with clang (libFuzzer, ASan, UBSan) and runs it for a while, seeded
# with replies written by the openpi test server's own msgpack code.
# Usage: run_openpi_fuzzer.sh SOURCE_ROOT WORK_DIR SECONDS
set -euo pipefail
root=$1 work=$2 seconds=${3:-20}
mkdir -p "$work/openpi-corpus"
clang++ -std=c++20 -O1 -g -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all -I"$root" \
  -DMSGPACK_DEFAULT_API_VERSION=3 "$root/tests/fuzz/fuzz_openpi_reply.cpp" "$root/policy/openpi_wire.cpp" \
  -o "$work/fuzz_openpi_reply"
ROOT="$root" /usr/bin/python3 - "$work/openpi-corpus" <<'PY'
import os, sys, numpy as np
sys.path.insert(0, os.path.join(os.environ["ROOT"], "tests/policy"))
from openpi_test_server import packb
out = sys.argv[1]
actions = np.arange(20, dtype=np.float32).reshape(10, 2)
open(f"{out}/reply_f4", "wb").write(packb({"actions": actions, "server_timing": {"infer_ms": 3.5}}))
open(f"{out}/reply_f8", "wb").write(packb({"actions": actions.astype(np.float64)}))
open(f"{out}/metadata", "wb").write(packb({"server": "x", "horizon": 10}))
PY
"$work/fuzz_openpi_reply" -max_total_time="$seconds" -seed=1 -print_final_stats=1 "$work/openpi-corpus" 2>&1 | tail -n 12
