#!/usr/bin/env bash
# Run every benchmark (bench/bench_*.py, in name order, or the ones named as
# arguments).  Each prints its figures beside the baseline it measured in the
# same run; this script only runs them and reports which failed.
set -uo pipefail
cd "$(dirname "$0")/../.." || exit 1
mkdir -p bench/output
if [[ $# -gt 0 ]]; then benches=("$@"); else benches=(bench/bench_*.py); fi
failed=()
for b in "${benches[@]}"; do
  [[ -f $b ]] || continue
  echo "=== $b"
  python "$b" || failed+=("$b")
done
if [[ ${#failed[@]} -gt 0 ]]; then
  echo "bench: failed: ${failed[*]}" >&2
  exit 1
fi
