#!/usr/bin/env bash
# Builds the packet-parser fuzz target with clang (libFuzzer, ASan, UBSan) and runs it for a while.
# Usage: run_fuzzer.sh SOURCE_ROOT WORK_DIR SECONDS
set -euo pipefail
root=$1 work=$2 seconds=${3:-20}
mkdir -p "$work/corpus"
clang++ -std=c++20 -O1 -g -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all -I"$root" \
  "$root/tests/fuzz/fuzz_packet_parsers.cpp" "$root/devices/servo/dynamixel_protocol.cpp" \
  "$root/devices/servo/feetech_protocol.cpp" -o "$work/fuzz_packet_parsers"
# Seeds: real packets of both protocols, so the fuzzer starts from valid frames.
printf '\xff\xff\xfd\x00\x01\x03\x00\x01\x19\x4e' >"$work/corpus/dxl_ping"
printf '\xff\xff\x01\x04\x02\x38\x02\xbe' >"$work/corpus/sts_read"
"$work/fuzz_packet_parsers" -max_total_time="$seconds" -seed=1 -print_final_stats=1 "$work/corpus" 2>&1 | tail -n 12
