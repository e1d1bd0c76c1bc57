#!/usr/bin/env bash
# Prepare this machine as the Molecule container host: check Podman works with
# the project's containers.conf, build the Debian 11/12/13 base images and the
# signed fixture APT repository.  Everything is cached: a second run only checks.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
export CONTAINERS_CONF="$here/containers.conf"
cache="$root/.cache/testbed"
mkdir -p "$cache"

if ! podman info >/dev/null 2>"$cache/podman-info.err"; then
  cat "$cache/podman-info.err" >&2
  echo "setup-host: podman does not work with $CONTAINERS_CONF (see above)" >&2
  exit 1
fi

"$here/build-apt-repo.sh" "$cache/apt-repo"
# The promotion scenario's snapshot mirror (snapshot-apt-repo.sh): bind-mounted when its hosts are created, so
# the directory must exist then; the scenario's prepare fills it.
mkdir -p "$cache/promotion-mirror/repo"

# Two debootstraps at a time keep both cores busy without thrashing the mirror.
pids=()
for codename in bullseye bookworm trixie; do
  "$here/build-image.sh" "$codename" "$cache" &
  pids+=($!)
  if [[ ${#pids[@]} -ge 2 ]]; then wait "${pids[0]}" || status=1; pids=("${pids[@]:1}"); fi
done
for pid in "${pids[@]}"; do wait "$pid" || status=1; done
exit "${status:-0}"
