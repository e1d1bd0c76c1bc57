#!/usr/bin/env bash
# Build the collection tarball and run Galaxy's importer on it, as Galaxy would
# on upload (without its ansible-test container step, which needs Docker).
# Fails on any error or warning the importer reports.
set -euo pipefail
cd "$(dirname "$0")/../.."
work=$(mktemp -d "${TMPDIR:-/tmp}/patchwise-import.XXXXXX")
trap 'rm -rf "$work"' EXIT
src="$work/src"
tests/tools/copy-collection.sh "$src"
ansible-galaxy collection build --output-path "$work" --force "$src" >/dev/null
tarball=$(ls "$work"/patchwise-patching-*.tar.gz)
cat > "$work/galaxy-importer.cfg" <<CFG
[galaxy-importer]
RUN_ANSIBLE_TEST = False
RUN_ANSIBLE_LINT = True
CHECK_REQUIRED_TAGS = False
CFG
status=0
# The importer writes importer_result.json into its working directory: keep it out of the checkout.
(cd "$work" && GALAXY_IMPORTER_CONFIG="$work/galaxy-importer.cfg" \
  python -m galaxy_importer.main "$tarball" > "$work/import.log" 2>&1) || status=$?
cat "$work/import.log"
if [[ $status -ne 0 ]] || grep -Eq '^(ERROR|WARNING)' "$work/import.log"; then
  echo "galaxy-import: the importer reported problems (see above)" >&2
  exit 1
fi
echo "galaxy-import: $(basename "$tarball") imports cleanly"
