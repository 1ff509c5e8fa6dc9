#!/usr/bin/env bash
# Starts the studio under Xvfb on a simulated rig and saves each view at 1280x800 and 1920x1080.
# Usage: tests/screenshots.sh [FLYWHEEL] [OUT_DIR] [RIG]   (defaults: build/app/flywheel, resources/screenshots, sim-aloha)
set -euo pipefail
cd "$(dirname "$0")/.."
flywheel=${1:-build/app/flywheel}
out=${2:-resources/screenshots}
rig=${3:-sim-aloha}
data=$(mktemp -d)
trap 'rm -rf "$data"' EXIT
# Two episodes to review, one labelled with language segments.
"$flywheel" record --rig "$rig" --out "$data" --episodes 2 --seconds 8 --fast >/dev/null
"$flywheel" label "$data/episode_0.hdf5" --success yes --notes "clean grasp" --tag demo \
  --segment "0.4:2.6:reach the cube" --segment "2.6:4.2:grasp and lift it" --segment "4.2:6.6:place it in the bin" >/dev/null
xvfb-run -a -s "-screen 0 1920x1080x24" "$flywheel" gui --rig "$rig" --out "$data" --screenshots "$out" --delay 3
# The Run Policy view with a model driving and then a human in control, from the GUI test that drives it.
tests=$(dirname "$flywheel")/../tests
FLYWHEEL_SCREENSHOT_DIR=$(realpath "$out") xvfb-run -a -s "-screen 0 1920x1080x24" \
  "$tests/test_gui" runsAPolicyAndTakesOver >/dev/null
# Review with trim marks and a takeover split into recovery and correction, from its GUI test.
FLYWHEEL_SCREENSHOT_DIR=$(realpath "$out") xvfb-run -a -s "-screen 0 1920x1080x24" \
  "$tests/test_review_trims" humanControlIsSplitIntoRecoveryAndCorrection >/dev/null
# The Run view with the fallback driving while the server stalls, and its bands in Review, from their GUI test.
FLYWHEEL_SCREENSHOT_DIR=$(realpath "$out") xvfb-run -a -s "-screen 0 1920x1080x24" \
  "$tests/test_gui_fallback" >/dev/null
# The Run view with the scripted operator correcting a run, and the corrections in Review, from their GUI test.
FLYWHEEL_SCREENSHOT_DIR=$(realpath "$out") xvfb-run -a -s "-screen 0 1920x1080x24" \
  "$tests/test_gui_flywheel" >/dev/null
