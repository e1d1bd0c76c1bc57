#!/usr/bin/env bash
# Install the Debian packages listed in tests/requirements/debian-packages.txt
# that are not installed yet.  Needs root (or sudo); does nothing when all are
# present, so a second `make test` does not touch the package manager.
set -euo pipefail
cd "$(dirname "$0")/../.."
mapfile -t wanted < <(sed -e 's/#.*//' -e '/^[[:space:]]*$/d' tests/requirements/debian-packages.txt)
missing=()
for pkg in "${wanted[@]}"; do
  dpkg-query -W -f='${db:Status-Status}' "$pkg" 2>/dev/null | grep -qx installed || missing+=("$pkg")
done
[[ ${#missing[@]} -eq 0 ]] && exit 0
if ! command -v apt-get >/dev/null 2>&1; then
  echo "system-packages: these Debian packages are needed but apt-get is not available: ${missing[*]}" >&2
  exit 1
fi
sudo=()
[[ $(id -u) -eq 0 ]] || sudo=(sudo)
echo "system-packages: installing ${missing[*]}"
"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -q >/dev/null
"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null
