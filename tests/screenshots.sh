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
xvfb-run -a -s "-screen 0 1920x1080x24" "$flywheel" gui --rig "$rig" --out "$data" --screenshots "$out" --delay 3
