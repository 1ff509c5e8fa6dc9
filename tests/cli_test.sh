#!/usr/bin/env bash
# The flywheel command as a user runs it: help, bad arguments, recording, inspecting, the headless demo.
set -u
flywheel=$1
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
failures=0
check() {  # check NAME EXPECTED_STATUS PATTERN -- command...
  local name=$1 expected=$2 pattern=$3
  shift 4
  local output status
  output=$("$@" 2>&1)
  status=$?
  if [[ $expected == nonzero && $status -eq 0 ]] || [[ $expected != nonzero && $status -ne $expected ]]; then
    echo "FAIL $name: exit $status, expected $expected"; echo "$output" | sed 's/^/    /'; failures=$((failures + 1)); return
  fi
  if ! grep -qE -- "$pattern" <<<"$output"; then
    echo "FAIL $name: output lacks /$pattern/"; echo "$output" | sed 's/^/    /'; failures=$((failures + 1)); return
  fi
  echo "ok   $name"
}

check help 0 'record .*Record teleoperated episodes' -- "$flywheel" --help
check record-help 0 '--episodes' -- "$flywheel" record --help
check version 0 '^flywheel [0-9]+\.[0-9]+\.[0-9]+' -- "$flywheel" --version
check unknown-command nonzero 'unknown|Extras|not expected' -- "$flywheel" dance
check missing-required nonzero '--rig is required|--out is required' -- "$flywheel" record --out "$work/x"
check bad-number nonzero 'seconds' -- "$flywheel" record --rig sim --out "$work/x" --seconds -3
check missing-rig 1 'no such rig file \(bundled rigs: koch-emulated, sim, sim-aloha, so100-emulated\)' -- "$flywheel" record --rig "$work/none.yaml" --out "$work/x"
printf 'name: broken\narms:\n  - name: a\n    role: boss\n' >"$work/broken.yaml"
check bad-rig 1 'broken.yaml:4: arms\[0\].role: must be .leader. or .follower., got .boss.' -- "$flywheel" record --rig "$work/broken.yaml" --out "$work/x"
[[ ! -e $work/x ]] && echo "ok   bad-rig-starts-nothing" || { echo "FAIL bad-rig-starts-nothing: $work/x exists"; failures=$((failures + 1)); }

check record-fast 0 'episode_1.hdf5: 50 ticks, 1.00 s' -- "$flywheel" record --rig sim --out "$work/data" --episodes 2 --seconds 1 --fast
check record-again-numbers-on 0 'episode_2.hdf5: 25 ticks' -- "$flywheel" record --rig sim --out "$work/data" --seconds 0.5 --fast
check inspect 0 '50 ticks at 50.0 fps = 1.00 s' -- "$flywheel" inspect "$work/data/episode_1.hdf5"
check inspect-png 0 'saved .*front_10.png' -- "$flywheel" inspect "$work/data/episode_1.hdf5" --png "$work/png" --tick 10
[[ -s $work/png/front_10.png && -s $work/png/top_10.png ]] && echo "ok   png-written" || { echo "FAIL png-written"; failures=$((failures + 1)); }
echo "not hdf5" >"$work/data/episode_9.hdf5"
check inspect-damaged 1 'episode_9.hdf5: not an HDF5 file' -- "$flywheel" inspect "$work/data/episode_9.hdf5"
check inspect-missing 1 'no such file' -- "$flywheel" inspect "$work/nothing.hdf5"

# Servo hardware: discovery, the emulator, calibration and recording over emulated buses.
export FLYWHEEL_CONFIG_DIR=$work/config
check devices 0 'USB-serial adapters' -- "$flywheel" devices
check emulate 0 'Emulating sts3215 servos \(feetech protocol, ids 1-3\) on /dev/pts/' -- "$flywheel" emulate --model sts3215 --ids 1-3 --seconds 0.5
check emulate-unknown 2 "unknown servo model 'nope'" -- "$flywheel" emulate --model nope --seconds 0.1
check calibrate 0 "Saved $work/config/calibration/emulator-leader.yaml" -- bash -c "echo | '$flywheel' calibrate --rig koch-emulated --arm leader --range-seconds 2"
check calibrate-no-overwrite 1 'already holds a calibration' -- bash -c "echo | '$flywheel' calibrate --rig koch-emulated --arm leader --range-seconds 1"
check calibrate-force 0 'Saved' -- bash -c "echo | '$flywheel' calibrate --rig koch-emulated --arm leader --range-seconds 2 --force"
ls "$work/config/calibration/emulator-leader.yaml.bak-"* >/dev/null 2>&1 && echo "ok   calibration-backup" || { echo "FAIL calibration-backup"; failures=$((failures + 1)); }
check calibrate-unmoved 1 "joint 'shoulder_pan' \(servo 1\) moved only" -- bash -c "echo | '$flywheel' calibrate --rig koch-emulated --arm follower --range-seconds 0.5"
check record-koch 0 'episode_0.hdf5: 50 ticks, 1.00 s, 0 dropped' -- "$flywheel" record --rig koch-emulated --out "$work/koch" --seconds 1
check record-so100 0 'episode_0.hdf5: 50 ticks, 1.00 s, 0 dropped' -- "$flywheel" record --rig so100-emulated --out "$work/so100" --seconds 1

# The README's first command without a display: a real-time demo episode, and where it went.
check headless-demo 0 "Saved 1 episode\(s\) in $work/home/flywheel-data/sim" -- env -u DISPLAY -u WAYLAND_DISPLAY HOME="$work/home" "$flywheel"
[[ -s $work/home/flywheel-data/sim/episode_0.hdf5 ]] && echo "ok   demo-file" || { echo "FAIL demo-file"; failures=$((failures + 1)); }
check demo-inspect 0 '500 ticks at 50.0 fps' -- "$flywheel" inspect "$work/home/flywheel-data/sim/episode_0.hdf5"

echo "cli: $failures failures"
exit $((failures > 0))
