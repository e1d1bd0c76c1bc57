#!/usr/bin/env bash
# Build the testbed's base image for one Debian release with debootstrap and
# import it into Podman as localhost/patchwise-testbed:<codename>.
# The image carries a label with a hash of this recipe: an image built from the
# same recipe is reused, a changed recipe rebuilds it.  When the Debian mirror
# no longer carries a release (bullseye left long-term support in 2026), the
# build says so and a cached image keeps being used.
#
# Usage: build-image.sh CODENAME WORKDIR
set -euo pipefail
codename=${1:?usage: build-image.sh CODENAME WORKDIR}
workdir=${2:?usage: build-image.sh CODENAME WORKDIR}
mirror=${PATCHWISE_DEBIAN_MIRROR:-http://deb.debian.org/debian}
image="localhost/patchwise-testbed:$codename"
# systemd runs as PID 1 in the test hosts (see README.md); python3-apt for
# Ansible's apt module, python3-venv for app_patch's virtualenv strategy,
# procps/iproute2 for process and socket probes, gnupg for signature checks.
packages=python3,python3-apt,python3-venv,systemd,systemd-sysv,dbus,procps,iproute2,gnupg,ca-certificates,curl
recipe=$( (cat "$0"; echo "$packages $mirror") | sha256sum | cut -c1-16)

current=$(podman image inspect --format '{{ index .Labels "org.patchwise.recipe" }}' "$image" 2>/dev/null || true)
if [[ $current == "$recipe" ]]; then
  exit 0
fi

if ! curl -fsS --max-time 30 -o /dev/null "$mirror/dists/$codename/Release"; then
  if [[ -n $current ]]; then
    echo "build-image: $mirror no longer serves $codename; keeping the cached $image (built from an older recipe)" >&2
    exit 0
  fi
  echo "build-image: $mirror does not serve $codename (has its archive moved to archive.debian.org?);" \
       "set PATCHWISE_DEBIAN_MIRROR to a mirror that has it" >&2
  exit 1
fi

rootfs="$workdir/rootfs-$codename"
rm -rf "$rootfs"
mkdir -p "$workdir"
echo "build-image: debootstrap $codename (log: $workdir/debootstrap-$codename.log)"
if ! debootstrap --variant=minbase --include="$packages" "$codename" "$rootfs" "$mirror" \
      > "$workdir/debootstrap-$codename.log" 2>&1; then
  tail -20 "$workdir/debootstrap-$codename.log" >&2
  echo "build-image: debootstrap of $codename failed" >&2
  exit 1
fi

# Test hosts get packages from the fixture repository only: no mirror, so apt
# runs fast and nothing outside the testbed changes what they see.
rm -f "$rootfs/etc/apt/sources.list"
rm -rf "$rootfs"/var/lib/apt/lists/* "$rootfs"/var/cache/apt/*.bin "$rootfs"/var/cache/apt/archives/*.deb
# A container has no consoles or hardware to set up; these units only fail or wait there.
for unit in getty.target console-getty.service systemd-udevd.service systemd-udev-trigger.service \
            systemd-modules-load.service systemd-remount-fs.service sys-kernel-config.mount \
            sys-kernel-debug.mount sys-kernel-tracing.mount systemd-firstboot.service; do
  ln -sf /dev/null "$rootfs/etc/systemd/system/$unit"
done
: > "$rootfs/etc/machine-id"

tar -C "$rootfs" -c . | podman import \
  --change 'CMD ["/sbin/init"]' \
  --change 'STOPSIGNAL SIGRTMIN+3' \
  --change "LABEL org.patchwise.recipe=$recipe" \
  - "$image" >/dev/null 2>>"$workdir/debootstrap-$codename.log"
rm -rf "$rootfs"
echo "build-image: $image ready"
