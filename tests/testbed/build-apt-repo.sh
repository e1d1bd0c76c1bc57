#!/usr/bin/env bash
# Build the testbed's signed APT repository: the source of "patches" for the
# Molecule scenarios.  For each Debian release of the testbed it publishes three
# suites, as Debian does:
#   <codename>           the release: every fixture package at its old version
#   <codename>-security  Origin Debian, Label Debian-Security: security fixes
#   <codename>-updates   Origin Debian, Label Debian: a normal (non-security) update
# The packages are listed in README.md.  The repository is signed with a
# throwaway key made here; hosts check it through Signed-By (no trusted=yes).
#
# Usage: build-apt-repo.sh OUTPUT_DIR   (rebuilt only when this recipe changed)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
out=${1:?usage: build-apt-repo.sh OUTPUT_DIR}
codenames=(bullseye bookworm trixie)

# shellcheck source=tests/testbed/apt-release.sh
source "$here/apt-release.sh"

recipe=$(cat "$0" "$here/apt-release.sh" "$here"/fixture-packages/* | sha256sum | cut -c1-16)
if [[ -f "$out/recipe" && "$(cat "$out/recipe")" == "$recipe" ]]; then
  exit 0
fi
echo "build-apt-repo: building the signed fixture repository in $out"
work=$(mktemp -d "${TMPDIR:-/tmp}/patchwise-apt-repo.XXXXXX")
trap 'rm -rf "$work"' EXIT
arch=$(dpkg --print-architecture)

# make_deb NAME VERSION ARCH SUITE_DIR [postinst-exit-code]
# Creates the package's tree under $work/tree and builds it into SUITE_DIR.
make_deb() {
  local name=$1 version=$2 pkg_arch=$3 dest=$4 postinst_exit=${5:-}
  local tree="$work/tree/$name-$version"
  rm -rf "$tree"
  mkdir -p "$tree/DEBIAN" "$tree/usr/share/doc/$name"
  printf '%s %s: patchwise testbed fixture package.\n' "$name" "$version" > "$tree/usr/share/doc/$name/README"
  local depends="" description="patchwise testbed fixture package"
  case $name in
    pw-libdemo)
      mkdir -p "$tree/usr/lib/pw-libdemo"
      gcc -shared -fPIC -nostdlib -O2 -DPW_DEMO_VERSION="${version//[^0-9]/}" \
        -Wl,-soname,libpwdemo.so.1 -o "$tree/usr/lib/pw-libdemo/libpwdemo.so.1" \
        "$here/fixture-packages/libpwdemo.c"
      description="patchwise testbed shared library mapped by pw-demod"
      ;;
    pw-demod)
      mkdir -p "$tree/usr/sbin" "$tree/lib/systemd/system"
      # The source has no shebang of its own (it is not a script of this repository).
      { echo '#!/usr/bin/python3'; cat "$here/fixture-packages/pw-demod.py"; } > "$tree/usr/sbin/pw-demod"
      chmod 0755 "$tree/usr/sbin/pw-demod"
      install -m 0644 "$here/fixture-packages/pw-demod.service" "$tree/lib/systemd/system/pw-demod.service"
      depends="Depends: python3, pw-libdemo"
      description="patchwise testbed daemon mapping libpwdemo.so.1"
      ;;
    pw-noisyd)
      mkdir -p "$tree/usr/sbin" "$tree/lib/systemd/system" "$tree/usr/lib/pw-noisyd"
      # The release version logs no errors; its update logs a burst of them every few seconds.
      local errors=0
      [[ $version != 1.0-1 ]] && errors=10
      echo "$version $errors" > "$tree/usr/lib/pw-noisyd/settings"
      { echo '#!/usr/bin/python3'; cat "$here/fixture-packages/pw-noisyd.py"; } > "$tree/usr/sbin/pw-noisyd"
      chmod 0755 "$tree/usr/sbin/pw-noisyd"
      install -m 0644 "$here/fixture-packages/pw-noisyd.service" "$tree/lib/systemd/system/pw-noisyd.service"
      # As a Debian package does: restart the running service on upgrade.
      printf '#!/bin/sh\nif [ -d /run/systemd/system ]; then systemctl daemon-reload; systemctl try-restart pw-noisyd.service || true; fi\nexit 0\n' \
        > "$tree/DEBIAN/postinst"
      chmod 0755 "$tree/DEBIAN/postinst"
      depends="Depends: python3"
      description="patchwise testbed daemon whose update logs errors"
      ;;
  esac
  if [[ -n $postinst_exit ]]; then
    printf '#!/bin/sh\necho "%s %s: postinst fails on purpose (testbed failure fixture)" >&2\nexit %s\n' \
      "$name" "$version" "$postinst_exit" > "$tree/DEBIAN/postinst"
    chmod 0755 "$tree/DEBIAN/postinst"
  fi
  {
    echo "Package: $name"
    echo "Version: $version"
    echo "Architecture: $pkg_arch"
    echo "Maintainer: patchwise developers <root@localhost>"
    echo "Section: misc"
    echo "Priority: optional"
    [[ -n $depends ]] && echo "$depends"
    echo "Description: $description"
  } > "$tree/DEBIAN/control"
  mkdir -p "$dest"
  dpkg-deb --root-owner-group -Zxz --build "$tree" "$dest/${name}_${version}_${pkg_arch}.deb" >/dev/null
}

repo="$work/repo"
for codename in "${codenames[@]}"; do
  release="$repo/pool/$codename"
  security="$repo/pool/$codename-security"
  updates="$repo/pool/$codename-updates"
  # Old versions in the release suite.
  make_deb pw-demo-security 1.0-1 all "$release"
  make_deb pw-demo-normal 1.0-1 all "$release"
  make_deb pw-demo-held 1.0-1 all "$release"
  make_deb pw-failing 1.0-1 all "$release"
  make_deb pw-libdemo 1.0-1 "$arch" "$release"
  make_deb pw-demod 1.0-1 all "$release"
  make_deb pw-demo-stepped 1.0-1 all "$release"
  make_deb pw-noisyd 1.0-1 all "$release"
  # Security fixes.
  make_deb pw-demo-security 1.0-2 all "$security"
  make_deb pw-demo-held 1.0-2 all "$security"
  make_deb pw-failing 1.0-2 all "$security" 1
  make_deb pw-libdemo 1.0-2 "$arch" "$security"
  make_deb pw-demo-stepped 1.0-2 all "$security"
  make_deb pw-noisyd 1.0-2 all "$security"
  # Normal updates; pw-demo-stepped's is newer than its security fix (a plan's exact target is not the newest).
  make_deb pw-demo-normal 1.1-1 all "$updates"
  make_deb pw-demo-stepped 1.0-3 all "$updates"
done

export GNUPGHOME="$work/gnupg"
mkdir -m 0700 "$GNUPGHOME"
gpg --batch --quiet --passphrase '' --quick-gen-key "patchwise testbed repository <root@localhost>" ed25519 sign never 2>/dev/null

for codename in "${codenames[@]}"; do
  for suite in "$codename" "$codename-security" "$codename-updates"; do
    dist="$repo/dists/$suite"
    mkdir -p "$dist/main/binary-$arch"
    (cd "$repo" && apt-ftparchive packages "pool/$suite") > "$dist/main/binary-$arch/Packages"
    gzip -9nk "$dist/main/binary-$arch/Packages"
    label=Debian
    [[ $suite == *-security ]] && label=Debian-Security
    suite_release Debian "$label" "$suite" "$arch" "$dist" > "$work/Release"
    mv "$work/Release" "$dist/Release"
    gpg --batch --yes --clearsign -o "$dist/InRelease" "$dist/Release"
    gpg --batch --yes -abs -o "$dist/Release.gpg" "$dist/Release"
  done
done
gpg --batch --export > "$repo/patchwise-testbed.gpg"
echo "$recipe" > "$repo/recipe"

# Swap the finished tree in whole, so a failed build never leaves half a repo.
mkdir -p "$(dirname "$out")"
rm -rf "$out.old"
[[ -d $out ]] && mv "$out" "$out.old"
mv "$repo" "$out"
rm -rf "$out.old"
