#!/usr/bin/env bash
# A dataset folder holding 30 damaged or foreign variants of an episode next to good ones: every dataset
# command and the Review view list the bad ones with a reason, keep working on the good ones, never crash,
# and leave every file byte-identical (`label` changes only the episode it labels). Then the same folder
# read-only (run as nobody) and on a full disk (index.json.tmp is /dev/full): the read-only commands still
# work, leave index.json as it was and say so once. Last, `list` during a recording in another process.
# Usage: damaged_corpus_test.sh FLYWHEEL
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
chmod 755 "$work"
fw=$work/flywheel  # a copy: a rebuild relinking the original mid-test cannot pull it away
cp "$1" "$fw"
export QT_QPA_PLATFORM=offscreen FLYWHEEL_CONFIG_DIR="$work/config"
d=$work/data
failures=0
fail() {
  echo "FAIL: $*"
  failures=$((failures + 1))
}
# A command may fail with a message, never with a signal (exit status 128 + N).
run() {
  "$@" >"$work/out" 2>"$work/err"
  local rc=$?
  if ((rc >= 128)); then fail "$* died with signal $((rc - 128))"; fi
  return $rc
}
checksums() { (cd "$d" && find . -path ./index.json -prune -o -name .index.lock -prune -o -type f -print0 |
  sort -z | xargs -0 sha256sum); }

"$fw" record --rig sim --out "$d" --episodes 2 --seconds 0.5 --fast >/dev/null || { echo "FAIL: record"; exit 1; }
/usr/bin/python3 "$here/make_damaged_corpus.py" "$d/episode_0.hdf5" "$d" >"$work/expected" || exit 1
printf 'episode_0.hdf5\tcomplete\trecorded\nepisode_1.hdf5\tcomplete\trecorded\n' >>"$work/expected"
echo "corpus: $(grep -c $'\tdamaged\t' "$work/expected") damaged variants," \
  "$(grep -c $'\tcomplete\t' "$work/expected") good episodes"
run "$fw" list "$d" || fail "list exited $?"  # writes the first index.json
before=$(checksums)

# list: each file with the status expected, and a reason for every damaged one.
run "$fw" list "$d" || fail "list exited $?"
cp "$work/out" "$work/list"
while IFS=$'\t' read -r file status what; do
  line=$(grep -a "^$file " "$work/list") || { fail "list does not show $file ($what)"; continue; }
  read -r _ shown _ _ _ _ _ reason <<<"$line"
  [[ $shown == "$status" ]] || fail "$file ($what): listed as $shown, expected $status"
  [[ $status == complete || -n $reason ]] || fail "$file ($what): damaged without a reason"
done <"$work/expected"
/usr/bin/python3 - "$d/index.json" "$work/expected" <<'PY' || fail "index.json does not match the files"
import json, sys
index = {e["file"]: e for e in json.load(open(sys.argv[1]))["episodes"]}
for line in open(sys.argv[2]):
    file, status, what = line.rstrip("\n").split("\t")
    assert index[file]["status"] == status, (file, what, index[file])
    assert status == "complete" or index[file]["problem"], (file, what)
PY

# export-manifest: the good episodes, each bad one named as skipped.
for format in json csv; do
  run "$fw" export-manifest "$d" --format "$format" || fail "export-manifest --format $format exited $?"
  for good in episode_0 episode_1 episode_50; do
    grep -q "$good.hdf5" "$work/out" || fail "export-manifest --format $format lacks $good"
  done
  grep -q "episode_117.hdf5" "$work/out" && fail "export-manifest --format $format exports a damaged episode"
done

# inspect: the good ones succeed, the bad ones fail with a message, none crashes.
while IFS=$'\t' read -r file status what; do
  run "$fw" inspect "$d/$file"
  rc=$?
  if [[ $status == complete ]]; then
    ((rc == 0)) || fail "inspect $file exited $rc"
  else
    ((rc != 0)) || fail "inspect $file ($what) succeeded"
    [[ -s $work/err || $(grep -c damaged "$work/out") -gt 0 ]] || fail "inspect $file ($what): no reason given"
  fi
done <"$work/expected"

# The Review view (and the whole window) on the folder, first episode damaged included.
run "$fw" gui --rig sim --out "$d" --screenshots "$work/shots" --delay 1 || fail "gui exited $?"
[[ -s $work/shots/review-1280x800.png ]] || fail "gui saved no Review screenshot: $(tail -2 "$work/err")"
after=$(checksums)
[[ $before == "$after" ]] || fail "a read-only command changed a file: $(diff <(echo "$before") <(echo "$after"))"

# label over a bad and a good episode: goes on past the bad one, exits non-zero, changes only the good one.
run "$fw" label "$d/episode_117.hdf5" "$d/episode_1.hdf5" "$d/episode_9.hdf5" --task "wipe the table"
rc=$?
((rc == 1)) || fail "label over bad and good episodes exited $rc, expected 1"
grep -q "episode_117.hdf5: labels:" "$work/err" || fail "label does not report episode_117: $(cat "$work/err")"
grep -q "episode_9.hdf5" "$work/err" || fail "label does not report episode_9"
grep -q "episode_1.hdf5: task 'wipe the table'" "$work/out" || fail "label skipped the good episode"
changed=$(diff <(echo "$after") <(checksums) | grep '^>' | awk '{print $3}')
[[ $changed == "./episode_1.hdf5" ]] || fail "label changed: $changed"
before=$(checksums)

# record with the corpus present: the index rebuild names the damaged files, the new take is saved.
run "$fw" record --rig sim --out "$d" --seconds 0.5 --fast || fail "record exited $?: $(tail -3 "$work/err")"
grep -q "found episode_117.hdf5, damaged: labels:" "$work/out" || fail "record does not report episode_117"
new=$(diff <(echo "$before") <(checksums) | grep '^[<>]' | awk '{print $1 $3}')
[[ $new == ">./episode_130.hdf5" ]] || fail "record changed more than its new episode: $new"

# Read-only: run as nobody on a folder nobody may write (root ignores permissions, nobody does not).
rm -f "$d/index.json"
before=$(checksums)
if setpriv --reuid=65534 --regid=65534 --clear-groups true 2>/dev/null; then
  for cmd in "list $d" "export-manifest $d" "inspect $d/episode_0.hdf5"; do
    run setpriv --reuid=65534 --regid=65534 --clear-groups "$fw" $cmd || fail "$cmd read-only exited $?"
    if [[ $cmd != inspect* ]]; then
      [[ $(grep -c "index.json left as it was" "$work/err") == 1 ]] || fail "$cmd read-only: $(cat "$work/err")"
    fi
  done
  mkdir -p "$work/nobody" && chown 65534 "$work/nobody"
  HOME=$work/nobody FLYWHEEL_CONFIG_DIR=$work/nobody XDG_RUNTIME_DIR=$work/nobody \
    run setpriv --reuid=65534 --regid=65534 --clear-groups "$fw" gui --rig sim --out "$d" \
    --screenshots "$work/nobody/shots" --delay 1 || fail "gui read-only exited $?"
  [[ -s $work/nobody/shots/review-1280x800.png ]] || fail "gui read-only saved no Review screenshot"
  grep -q "^episode_0.hdf5 *complete" <(setpriv --reuid=65534 --regid=65534 --clear-groups "$fw" list "$d" 2>/dev/null) ||
    fail "list as nobody does not list episode_0"
  [[ ! -e $d/index.json ]] || fail "index.json written in a read-only folder"
else
  echo "note: setpriv cannot drop to nobody here; the read-only case is not run"
fi

# A full disk: the index's temporary file is /dev/full, so its write fails with ENOSPC.
echo '{"version": 1, "episodes": []}' >"$d/index.json"
ln -s /dev/full "$d/index.json.tmp"
run "$fw" list "$d" || fail "list on a full disk exited $?"
grep -q "No space left on device" "$work/err" || fail "list on a full disk does not say so: $(cat "$work/err")"
grep -q "^episode_50.hdf5 *complete" "$work/out" || fail "list on a full disk does not list episode_50"
[[ $(cat "$d/index.json") == '{"version": 1, "episodes": []}' ]] || fail "index.json changed on a full disk"
rm -f "$d/index.json.tmp"
[[ $before == "$(checksums)" ]] || fail "the read-only and full-disk runs changed a file"

# A take in progress, seen from another process: `recording`, never `damaged`, in the list and the index.
live=$work/live
"$fw" record --rig sim --out "$live" --seconds 60 >"$work/live.log" 2>&1 &
recorder=$!
while [[ ! -e $live/episode_0.hdf5 ]] && kill -0 $recorder 2>/dev/null; do sleep 0.1; done
run "$fw" list "$live" || fail "list during a recording exited $?"
grep -q "^episode_0.hdf5 *recording" "$work/out" || fail "list during a recording: $(cat "$work/out")"
grep -q damaged "$live/index.json" && fail "index.json calls the take in progress damaged"
kill -INT $recorder
wait $recorder
run "$fw" list "$live"
grep -q "^episode_0.hdf5 *complete" "$work/out" || fail "the take after Ctrl-C: $(cat "$work/out")"

if ((failures > 0)); then
  echo "$failures failure(s)"
  exit 1
fi
echo "damaged corpus: every command survived, every file unchanged"
