#!/usr/bin/env bash
# Run the named Make targets in order, keep going after a failure so one run
# shows every broken step, print how long each took, and fail if any failed.
# Last, check that no server the tests started is still running.
#
# An argument holding '|' names lanes run at once, each lane's steps in order:
# 'molecule | sanity lint import' runs the checks while Molecule's scenarios
# run, which keep the two CPUs only part busy (they wait on containers, package
# managers and services).  The first lane prints as it goes; each other lane's
# output is kept in a log and printed whole when every lane has ended, so lanes
# never interleave.
set -uo pipefail
cd "$(dirname "$0")/../.." || exit 1
declare -a names times results
overall=0
suite_start=$(date +%s)
# The tests that failed, one line each (tests/tools/ansible-test.sh writes them): printed last, where a log cut to its
# tail still shows them.
PATCHWISE_SUITE_FAILURES=$(mktemp "${TMPDIR:-/tmp}/patchwise-suite-failures.XXXXXX") || exit 1
export PATCHWISE_SUITE_FAILURES
lanes_dir=$(mktemp -d "${TMPDIR:-/tmp}/patchwise-suite-lanes.XXXXXX") || exit 1
trap 'rm -rf "$PATCHWISE_SUITE_FAILURES" "$lanes_dir"' EXIT

# step_result NAME: run the make target NAME, then write "NAME SECONDS ok|FAILED" to file descriptor 3.
step_result() {
  local name=$1 start result
  start=$(date +%s)
  echo "=== make $name"
  if make --no-print-directory "$name"; then result=ok; else result=FAILED; fi
  echo "$name $(( $(date +%s) - start )) $result" >&3
}

# record NAME SECONDS RESULT [NOTE]: add one step to the timing summary.
record() {
  names+=("$1${4:+ ($4)}"); times+=("$2"); results+=("$3")
  if [[ $3 != ok ]]; then overall=1; fi
}

# run_lanes SPEC: the lanes of SPEC ('a b | c d') at once; see the header.
run_lanes() {
  local spec=$1 index=0 lane note pids=() first_steps
  local -a lanes steps
  IFS='|' read -r -a lanes <<< "$spec"
  first_steps=$(echo "${lanes[0]}" | xargs)
  for lane in "${lanes[@]}"; do
    read -r -a steps <<< "$lane"
    if (( index == 0 )); then
      ( for s in "${steps[@]}"; do step_result "$s"; done ) 3> "$lanes_dir/$index.results" &
    else
      ( for s in "${steps[@]}"; do step_result "$s"; done ) 3> "$lanes_dir/$index.results" > "$lanes_dir/$index.log" 2>&1 &
    fi
    pids+=($!)
    index=$(( index + 1 ))
  done
  for (( index = 0; index < ${#lanes[@]}; index++ )); do
    # A lane ends 0 whatever its steps gave (they write their results): anything else is a lane killed midway, whose
    # last step wrote no result, and must not pass unnoticed.
    if ! wait "${pids[$index]}"; then
      echo "$(echo "${lanes[$index]}" | xargs | tr ' ' '+')-lane-killed 0 FAILED" >> "$lanes_dir/$index.results"
    fi
  done
  for (( index = 0; index < ${#lanes[@]}; index++ )); do
    note=
    if (( index > 0 )); then
      note="beside $first_steps"
      echo "=== lane $(echo "${lanes[$index]}" | xargs), run beside $first_steps: its output"
      cat "$lanes_dir/$index.log"
    fi
    while read -r name seconds result; do
      record "$name" "$seconds" "$result" "$note"
    done < "$lanes_dir/$index.results"
  done
}

for step in "$@"; do
  if [[ $step == *'|'* ]]; then
    run_lanes "$step"
    continue
  fi
  step_result "$step" 3> "$lanes_dir/step.result"
  read -r name seconds result < "$lanes_dir/step.result"
  record "$name" "$seconds" "$result"
  # Without a working environment nothing later can pass; say so once.
  if [[ $step == setup && $result != ok ]]; then break; fi
done
# A server left behind would take a port or memory from the next run: that fails the suite too.
echo "=== leftover test servers"
start=$(date +%s)
if tests/tools/check-leftover-servers.sh; then result=ok; else result=FAILED; fi
record leftovers "$(( $(date +%s) - start ))" "$result"
echo
echo "=== timing summary"
for i in "${!names[@]}"; do
  printf '  %-30s %6ss  %s\n' "${names[$i]}" "${times[$i]}" "${results[$i]}"
done
printf '  %-30s %6ss\n' total "$(( $(date +%s) - suite_start ))"
if [[ -s $PATCHWISE_SUITE_FAILURES ]]; then
  echo
  echo "=== failed tests ($(wc -l < "$PATCHWISE_SUITE_FAILURES"); the first 40)"
  head -n 40 "$PATCHWISE_SUITE_FAILURES"
fi
exit $overall
