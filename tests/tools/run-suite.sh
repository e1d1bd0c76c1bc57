#!/usr/bin/env bash
# Run the named Make targets in order, keep going after a failure so one run
# shows every broken step, print how long each took, and fail if any failed.
# Last, check that no server the tests started is still running.
set -uo pipefail
cd "$(dirname "$0")/../.." || exit 1
declare -a names times results
overall=0
suite_start=$(date +%s)
# The tests that failed, one line each (tests/tools/ansible-test.sh writes them): printed last, where a log cut to its
# tail still shows them.
PATCHWISE_SUITE_FAILURES=$(mktemp "${TMPDIR:-/tmp}/patchwise-suite-failures.XXXXXX") || exit 1
export PATCHWISE_SUITE_FAILURES
trap 'rm -f "$PATCHWISE_SUITE_FAILURES"' EXIT
# run_step NAME COMMAND...: run COMMAND, record its time and result under NAME.
run_step() {
  local name=$1 start result
  shift
  start=$(date +%s)
  if "$@"; then result=ok; else result=FAILED; overall=1; fi
  names+=("$name"); times+=("$(( $(date +%s) - start ))"); results+=("$result")
}
for step in "$@"; do
  echo "=== make $step"
  run_step "$step" make --no-print-directory "$step"
  # Without a working environment nothing later can pass; say so once.
  if [[ $step == setup && ${results[-1]} != ok ]]; then break; fi
done
# A server left behind would take a port or memory from the next run: that fails the suite too.
echo "=== leftover test servers"
run_step leftovers tests/tools/check-leftover-servers.sh
echo
echo "=== timing summary"
for i in "${!names[@]}"; do
  printf '  %-10s %6ss  %s\n' "${names[$i]}" "${times[$i]}" "${results[$i]}"
done
printf '  %-10s %6ss\n' total "$(( $(date +%s) - suite_start ))"
if [[ -s $PATCHWISE_SUITE_FAILURES ]]; then
  echo
  echo "=== failed tests ($(wc -l < "$PATCHWISE_SUITE_FAILURES"); the first 40)"
  head -n 40 "$PATCHWISE_SUITE_FAILURES"
fi
exit $overall
