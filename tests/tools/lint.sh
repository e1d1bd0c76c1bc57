#!/usr/bin/env bash
# The ecosystem's linters, on a copy of the collection (see copy-collection.sh).
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$PWD
work=$(mktemp -d "${TMPDIR:-/tmp}/patchwise-lint.XXXXXX")
trap 'rm -rf "$work"' EXIT
ruff check plugins tests bench
dest="$work/ansible_collections/patchwise/patching"
tests/tools/copy-collection.sh "$dest"
cd "$dest"
ANSIBLE_COLLECTIONS_PATH="$work${ANSIBLE_COLLECTIONS_PATH:+:$ANSIBLE_COLLECTIONS_PATH}" ansible-lint --offline --profile production --nocolor
cd "$root"
antsibull-docs lint-collection-docs --plugin-docs .
antsibull-changelog lint
