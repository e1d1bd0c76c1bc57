#!/usr/bin/env bash
# Copy the collection (the files git knows about: tracked and untracked, minus
# ignored ones) into $1, which is created.  Used where a tool needs the
# collection at a path of its own: ansible-test (a path ending in
# ansible_collections/patchwise/patching), the Galaxy import and lint checks.
#
# Galaxy's importer and ansible-lint's production profile require galaxy.yml's
# `repository`.  The project has no public repository yet and we do not invent
# one: the copy's galaxy.yml names the git checkout it was made from, and we
# say so.  Once galaxy.yml carries a real `repository`, the copy keeps it.
set -euo pipefail
dest=$1
cd "$(dirname "$0")/../.."
mkdir -p "$dest"
git ls-files -z --cached --others --exclude-standard | while IFS= read -r -d '' f; do
  [[ -e "$f" ]] && printf '%s\0' "$f"
done | tar -c --null -T - | tar -x -C "$dest"
if ! grep -Eq '^repository:' galaxy.yml; then
  echo "repository: file://$PWD" >> "$dest/galaxy.yml"
  echo "copy-collection: galaxy.yml has no public repository yet; the checked copy says repository: file://$PWD" >&2
fi
