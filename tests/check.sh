# Sourced by the shell tests: `check NAME EXPECTED_STATUS PATTERN -- command...` runs the command and
# counts a failure in the caller's $failures unless it exits with EXPECTED_STATUS (a number, or
# `nonzero`) and its output matches the extended regular expression PATTERN.
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
