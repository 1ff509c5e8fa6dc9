#!/usr/bin/env bash
# The flywheel command as a user runs it: help, bad arguments, recording, inspecting, the headless demo.
set -u
flywheel=$1
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
failures=0
source "$(dirname "$0")/check.sh"

check help 0 'record .*Record teleoperated episodes' -- "$flywheel" --help
check record-help 0 '--episodes' -- "$flywheel" record --help
check version 0 '^flywheel [0-9]+\.[0-9]+\.[0-9]+' -- "$flywheel" --version
check unknown-command nonzero 'unknown|Extras|not expected' -- "$flywheel" dance
check missing-required nonzero '--rig is required|--out is required' -- "$flywheel" record --out "$work/x"
check bad-number nonzero 'seconds' -- "$flywheel" record --rig sim --out "$work/x" --seconds -3
check missing-rig 1 'no such rig file \(bundled rigs: koch-emulated, sim, sim-aloha, sim-two-bins, so100-emulated\)' -- "$flywheel" record --rig "$work/none.yaml" --out "$work/x"
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
# Episode quality: list shows each verdict ("-" for what cannot be read) and --why the reasons, here from a
# rig file whose quality: section allows 0.1 s of idle.
check list-verdict 0 '^episode_1.hdf5 +complete +good ' -- "$flywheel" list "$work/data"
check list-verdict-unread 0 '^episode_9.hdf5 +damaged +- ' -- "$flywheel" list "$work/data"
sed 's/^name: sim$/name: strict\nquality:\n  check_idle_s: 0.1/' "$(dirname "$0")/../resources/rigs/sim.yaml" >"$work/strict.yaml"
"$flywheel" record --rig "$work/strict.yaml" --out "$work/strict" --seconds 1 --fast >/dev/null
check list-why-verdict 0 '^episode_0.hdf5 +complete +check ' -- "$flywheel" list "$work/strict" --why
check list-why-reason 0 '^    idle [0-9.]+ s at the start$' -- "$flywheel" list "$work/strict" --why

# Label text that is not UTF-8 is refused, naming the option, before anything is created or changed:
# every kind of malformed sequence, through every command that stores text.
bad_utf8=($'\xff' $'cube \xc0\xaf' $'\xed\xa0\x80' $'\xf4\x90\x80\x80' $'truncated \xe2\x82')
for i in "${!bad_utf8[@]}"; do
  text=${bad_utf8[$i]}
  check "utf8-record-task-$i" 2 '^flywheel: --task: byte [0-9]+ \(0x[0-9a-f]{2}\) is not valid UTF-8' -- "$flywheel" record --rig sim --out "$work/utf8" --seconds 0.2 --fast --task "$text"
done
check utf8-record-operator 2 '^flywheel: --operator: byte 1 \(0xff\)' -- "$flywheel" record --rig sim --out "$work/utf8" --seconds 0.2 --fast --operator $'\xff'
check utf8-record-tag 2 '^flywheel: --tag: byte 3 \(0xe9\)' -- "$flywheel" record --rig sim --out "$work/utf8" --seconds 0.2 --fast --tag ok --tag $'ca\xe9'
[[ ! -e $work/utf8 ]] && echo "ok   utf8-record-creates-nothing" || { echo "FAIL utf8-record-creates-nothing: $(ls -R "$work/utf8")"; failures=$((failures + 1)); }
before=$(md5sum <"$work/data/episode_1.hdf5")
for option in --task --notes --tag; do
  check "utf8-label$option" 2 "^flywheel: $option: byte 1 \\(0xff\\)" -- "$flywheel" label "$work/data/episode_1.hdf5" "$option" $'\xff'
done
check utf8-label-segment 2 '^flywheel: --segment: byte 7' -- "$flywheel" label "$work/data/episode_1.hdf5" --segment $'0:0.5:\xff'
check utf8-rename-task 2 '^flywheel: --to: byte 1' -- "$flywheel" rename-task "$work/data" --from x --to $'\xff'
[[ $(md5sum <"$work/data/episode_1.hdf5") == "$before" ]] && echo "ok   utf8-label-changes-nothing" || { echo "FAIL utf8-label-changes-nothing"; failures=$((failures + 1)); }
check utf8-run-task 2 '^flywheel: --task: byte 1' -- "$flywheel" run --rig sim --policy "$work/none.pt" --task $'\xff' --seconds 0.2 --record "$work/utf8"
check utf8-run-prompt 2 '^flywheel: --prompt-at: byte 3' -- "$flywheel" run --rig sim --policy "$work/none.pt" --task ok --prompt-at $'1:\xff' --seconds 0.2 --record "$work/utf8"
[[ ! -e $work/utf8 ]] && echo "ok   utf8-run-creates-nothing" || { echo "FAIL utf8-run-creates-nothing"; failures=$((failures + 1)); }
unicode_task='ramasser la pièce — 立方体を箱へ 🤖'
check utf8-valid-accepted 0 'episode_0.hdf5: 10 ticks' -- "$flywheel" record --rig sim --out "$work/unicode" --seconds 0.2 --fast --task "$unicode_task" --operator 'Zoë'
/usr/bin/python3 -c "
import h5py, sys
with h5py.File('$work/unicode/episode_0.hdf5', 'r') as f:
    task = f.attrs['task']
    task = task.decode() if isinstance(task, bytes) else task
    assert task == sys.argv[1], (task, sys.argv[1])
" "$unicode_task" && echo "ok   utf8-valid-stored-exactly" || { echo "FAIL utf8-valid-stored-exactly"; failures=$((failures + 1)); }

# The outcome printed after a take is the one stored in the file, and it is the scene's at the take's
# last tick. With the bundled sim rig and seed 1 the cube lands in the bin on tick 388 or 389: a 387-tick
# take is a failure and a 389-tick one a success, however long the loop runs on before the take is closed.
# Seed 3 lands one tick after a 6.82 s take ends: there the printed success once differed from the stored one.
for take in "7.74 1" "7.78 1" "6.82 3"; do
  read -r seconds episodes <<<"$take"
  out=$("$flywheel" record --rig sim --out "$work/outcome-$seconds" --seconds "$seconds" --episodes "$episodes" --fast 2>&1)
  printed=$(grep -oE 'episode_[0-9]+\.hdf5: .*(success|failure)' <<<"$out" | sed -E 's/^(episode_[0-9]+\.hdf5).*(success|failure)$/\1 \2/')
  stored=$(/usr/bin/python3 -c "
import h5py, glob, os
for path in sorted(glob.glob('$work/outcome-$seconds/episode_*.hdf5')):
    with h5py.File(path, 'r') as f:
        print(os.path.basename(path), 'success' if bool(f.attrs['success']) else 'failure')
")
  if [[ -n $printed && $printed == "$stored" && $(wc -l <<<"$stored") -eq $episodes ]]; then echo "ok   outcome-printed-is-stored ($seconds s: $(echo $stored | tr '\n' ' '))"
  else echo "FAIL outcome-printed-is-stored ($seconds s): printed [$printed], stored [$stored]"; failures=$((failures + 1)); fi
  case $seconds in
    7.74) expected=failure ;;
    7.78) expected=success ;;
    *) continue ;;
  esac
  [[ $(head -1 <<<"$stored") == "episode_0.hdf5 $expected" ]] && echo "ok   outcome-at-last-tick ($seconds s: $expected)" || { echo "FAIL outcome-at-last-tick ($seconds s): expected $expected, stored $(head -1 <<<"$stored")"; failures=$((failures + 1)); }
done

# export-manifest reports every failed write, names the episodes it skips, and counts what it wrote.
check manifest-dev-full 1 'manifest was not written to /dev/full: .*No space left on device' -- "$flywheel" export-manifest "$work/data" --out /dev/full
check manifest-no-folder 1 'manifest was not written to /nonexistent/m.json: No such file or directory' -- "$flywheel" export-manifest "$work/data" --out /nonexistent/m.json
check manifest-stdout-full 1 'manifest was not written to standard output' -- bash -c "'$flywheel' export-manifest '$work/data' --format csv >/dev/full"
check manifest-written 0 "Wrote $work/manifest.json \\(3 episodes, 1 skipped\\)" -- "$flywheel" export-manifest "$work/data" --out "$work/manifest.json"
check manifest-names-skipped 0 'skipped episode_9.hdf5 \(damaged' -- "$flywheel" export-manifest "$work/data" --out "$work/manifest.json"
/usr/bin/python3 -c "
import json
m = json.load(open('$work/manifest.json'))
assert [e['file'] for e in m['episodes']] == ['episode_0.hdf5', 'episode_1.hdf5', 'episode_2.hdf5'], m
" && echo "ok   manifest-lists-what-it-counts" || { echo "FAIL manifest-lists-what-it-counts"; failures=$((failures + 1)); }
[[ -z $(find "$work" -maxdepth 1 -name '.manifest.json.tmp*') ]] && echo "ok   manifest-no-temporary-left" || { echo "FAIL manifest-no-temporary-left"; failures=$((failures + 1)); }

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
