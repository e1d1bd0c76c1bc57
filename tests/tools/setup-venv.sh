#!/usr/bin/env bash
# Create or refresh the development virtualenvs under .venv/ and the collection
# search path the tools use.  Idempotent: a venv is rebuilt only when its pinned
# requirements file changed since it was built.
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$PWD
python=${PYTHON:-python3}

quiet_pip() {
  # Some machines carry a pip.conf that lists local find-links folders which do
  # not exist; pip warns about each once per package.  Keep real errors only.
  local dir=$1; shift
  "$dir/bin/python" -m pip install --quiet --disable-pip-version-check "$@" \
    2> >(grep -v "is ignored: it is neither a file nor a directory" >&2)
}

build_venv() {
  # $1 venv dir, $2 requirements file
  local dir=$1 req=$2 stamp want
  stamp="$dir/.requirements.sha256"
  want=$(sha256sum "$req" | cut -d' ' -f1)
  if [[ -x "$dir/bin/python" && -f "$stamp" && "$(cat "$stamp")" == "$want" ]]; then
    return 0
  fi
  echo "setup-venv: building $dir from $req"
  rm -rf "$dir"
  "$python" -m venv "$dir"
  quiet_pip "$dir" --upgrade pip
  quiet_pip "$dir" -r "$req"
  echo "$want" > "$stamp"
}

"$python" - <<'PY'
import sys
if sys.version_info < (3, 11):
    sys.exit("setup-venv: Python 3.11 or newer is needed for ansible-core 2.19 (found %s)" % sys.version.split()[0])
PY

# The secondary venv lives inside .venv so that one directory holds everything;
# build the main one first because rebuilding it removes the directory.
build_venv .venv tests/requirements/dev.txt
build_venv .venv/core-2.18 tests/requirements/core-2.18.txt

# Ansible finds this collection through a symlink named like its FQCN.
link=.venv/collections/ansible_collections/patchwise/patching
mkdir -p "$(dirname "$link")"
if [[ "$(readlink "$link" 2>/dev/null)" != "$root" ]]; then
  ln -sfn "$root" "$link"
fi

# ansible-test bootstraps pip in its venvs from a script it downloads once into
# its cache.  Where that host is unreachable, seed the cache with our offline
# equivalent; where it is reachable, let ansible-test use the real script.
for venv in .venv .venv/core-2.18; do
  pip_version=$("$venv/bin/python" - <<'PY'
import re, pathlib, ansible_test
src = pathlib.Path(ansible_test.__file__).parent / "_internal" / "python_requirements.py"
print(re.search(r"pip='([0-9.]+)'", src.read_text()).group(1))
PY
)
  cache="$HOME/.ansible/test/cache/get_pip_${pip_version//./_}.py"
  [[ -f "$cache" ]] && continue
  mkdir -p "$(dirname "$cache")"
  url="https://ci-files.testing.ansible.com/ansible-test/get-pip-${pip_version}.py"
  if curl -fsSL --max-time 20 -o "$cache.download" "$url" 2>/dev/null; then
    mv "$cache.download" "$cache"
  else
    rm -f "$cache.download"
    echo "setup-venv: $url unreachable; using the offline pip bootstrap for ansible-test"
    cp tests/tools/ansible_test_get_pip.py "$cache"
  fi
done
