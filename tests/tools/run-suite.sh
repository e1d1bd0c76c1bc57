#!/usr/bin/env bash
# Run the named Make targets in order, keep going after a failure so one run
# shows every broken step, print how long each took, and fail if any failed.
set -uo pipefail
cd "$(dirname "$0")/../.." || exit 1
declare -a names times results
overall=0
suite_start=$(date +%s)
for step in "$@"; do
  echo "=== make $step"
  start=$(date +%s)
  if make --no-print-directory "$step"; then result=ok; else result=FAILED; overall=1; fi
  names+=("$step"); times+=("$(( $(date +%s) - start ))"); results+=("$result")
  # Without a working environment nothing later can pass; say so once.
  if [[ $step == setup && $result != ok ]]; then break; fi
done
echo
echo "=== timing summary"
for i in "${!names[@]}"; do
  printf '  %-10s %6ss  %s\n' "${names[$i]}" "${times[$i]}" "${results[$i]}"
done
printf '  %-10s %6ss\n' total "$(( $(date +%s) - suite_start ))"
exit $overall
