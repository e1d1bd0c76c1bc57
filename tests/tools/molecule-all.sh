#!/usr/bin/env bash
# Run every Molecule scenario (molecule/<name>/molecule.yml) with its full test
# sequence.  Scenarios run one after another; a failed one does not stop the
# others, so one run reports all of them.  Give scenario names to run a subset.
set -uo pipefail
cd "$(dirname "$0")/../.." || exit 1
if [[ $# -gt 0 ]]; then
  scenarios=("$@")
else
  mapfile -t scenarios < <(find molecule -mindepth 2 -maxdepth 2 -name molecule.yml -printf '%h\n' | xargs -rn1 basename | sort)
fi
failed=()
for s in "${scenarios[@]}"; do
  start=$(date +%s)
  echo "=== molecule test -s $s"
  if molecule test -s "$s"; then r=ok; else r=FAILED; failed+=("$s"); fi
  echo "=== molecule $s: $r in $(( $(date +%s) - start ))s"
done
if [[ ${#failed[@]} -gt 0 ]]; then
  echo "molecule: failed scenarios: ${failed[*]}" >&2
  exit 1
fi
