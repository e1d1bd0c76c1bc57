#!/usr/bin/env bash
# Run ansible-test from the venv given as $1 on a copy of the collection.
# ansible-test insists on a checkout path ending in
# ansible_collections/<namespace>/<name>; the repository root is the collection
# root, so we copy the files git knows about (tracked and untracked, minus
# ignored ones) into a private tree each time.  A private tree per call lets
# several runs (2.18 and 2.19, units and sanity) go on at once.
set -euo pipefail
venv=$1; shift
cd "$(dirname "$0")/../.."
root=$PWD
work=$(mktemp -d "${TMPDIR:-/tmp}/patchwise-ansible-test.XXXXXX")
trap 'rm -rf "$work"' EXIT
dest="$work/ansible_collections/patchwise/patching"
tests/tools/copy-collection.sh "$dest" 2>/dev/null
# ansible-test lists files through git when a .git is present: give it one.
git -C "$dest" init -q
git -C "$dest" add -A
cd "$dest"
status=0
PATH="$root/$venv/bin:$PATH" "$root/$venv/bin/ansible-test" "$@" || status=$?
# Keep reports (junit, coverage, bot output) where a developer will look for
# them; ansible-test's own scratch space (.tmp, with its venvs) stays behind.
if [[ -d tests/output ]]; then
  mkdir -p "$root/tests/output"
  tar -C tests/output --exclude=./.tmp -c . | tar -C "$root/tests/output" -x
fi
# Under run-suite.sh, the failed tests of this run (this private tree holds its reports only) are named again
# after the suite's timing summary.
if [[ $status -ne 0 && -n ${PATCHWISE_SUITE_FAILURES:-} ]]; then
  failed=$(shopt -s nullglob; "$root/$venv/bin/python" "$root/tests/tools/junit-failures.py" "$venv $1" tests/output/junit/*.xml) || true
  echo "${failed:-$venv $1: exit $status, no failed test case in its reports}" >> "$PATCHWISE_SUITE_FAILURES"
fi
exit $status
