#!/usr/bin/env bash
# Serve a "snapshot mirror" of the testbed's fixture repository that a scenario
# can publish into while its hosts run, as a real mirror changes between a
# staging window and a production window.
#
# Usage: snapshot-apt-repo.sh SOURCE_REPO MIRROR_DIR [--hold PACKAGE_VERSION]...
#
# MIRROR_DIR/repo gets every .deb of SOURCE_REPO's pool except the held ones
# (named NAME_VERSION, e.g. pw-demo-stepped_1.0-3), with Packages and Release
# files in the same suites, signed by a key of the mirror's own (kept in
# MIRROR_DIR/gnupg, outside what the hosts see).  Run it again without a hold to
# publish the held package: the older versions stay, as on a snapshot mirror.
#
# MIRROR_DIR/repo is bind-mounted into running containers, so it is updated in
# place (a replaced directory would vanish under the mount); each index file is
# written beside its final name and moved over it.  Prints "published" when the
# served content changed and "unchanged" otherwise.
set -euo pipefail
# shellcheck source=tests/testbed/apt-release.sh
source "$(dirname "$0")/apt-release.sh"
source_repo=${1:?usage: snapshot-apt-repo.sh SOURCE_REPO MIRROR_DIR [--hold NAME_VERSION]...}
mirror=${2:?usage: snapshot-apt-repo.sh SOURCE_REPO MIRROR_DIR [--hold NAME_VERSION]...}
shift 2
holds=()
while [[ $# -gt 0 ]]; do
  case $1 in
    --hold) holds+=("${2:?--hold needs NAME_VERSION}"); shift 2 ;;
    *) echo "snapshot-apt-repo: unknown argument '$1'" >&2; exit 2 ;;
  esac
done
if [[ ! -d $source_repo/pool || ! -d $source_repo/dists ]]; then
  echo "snapshot-apt-repo: $source_repo is not the fixture repository (no pool/ or dists/); run tests/testbed/setup-host.sh" >&2
  exit 1
fi
for hold in "${holds[@]}"; do
  if ! compgen -G "$source_repo/pool/*/${hold}_*.deb" >/dev/null; then
    echo "snapshot-apt-repo: --hold $hold names no package file in $source_repo/pool" >&2
    exit 2
  fi
done

repo="$mirror/repo"
mkdir -p "$repo/pool" "$repo/dists"
export GNUPGHOME="$mirror/gnupg"
new_key=""
if [[ ! -d $GNUPGHOME ]]; then
  # A new key (first run, or the key was removed): every suite is signed again with it.
  new_key=1
  rm -rf "$GNUPGHOME.new"
  mkdir -m 0700 "$GNUPGHOME.new"
  GNUPGHOME="$GNUPGHOME.new" gpg --batch --quiet --passphrase '' \
    --quick-gen-key "patchwise testbed snapshot mirror <root@localhost>" ed25519 sign never 2>/dev/null
  GNUPGHOME="$GNUPGHOME.new" gpgconf --kill gpg-agent
  mv "$GNUPGHOME.new" "$GNUPGHOME"
fi
# gpg starts an agent for the key: stop it when done, so no process outlives the publication.
trap 'gpgconf --kill gpg-agent 2>/dev/null || true' EXIT
arch=$(dpkg --print-architecture)
changed=""

held() {
  local file=$1 hold
  for hold in "${holds[@]}"; do
    [[ $file == "${hold}_"* ]] && return 0
  done
  return 1
}

# The pool: the source's files, minus the held ones.
for suite_dir in "$source_repo"/pool/*/; do
  suite=$(basename "$suite_dir")
  mkdir -p "$repo/pool/$suite"
  for deb in "$suite_dir"*.deb; do
    name=$(basename "$deb")
    if held "$name"; then
      rm -f "$repo/pool/$suite/$name"
    elif ! cmp -s "$deb" "$repo/pool/$suite/$name"; then
      cp "$deb" "$repo/pool/$suite/$name.new"
      mv "$repo/pool/$suite/$name.new" "$repo/pool/$suite/$name"
    fi
  done
done

# The indexes, with the source's Origin and Label per suite (the security suite stays a security suite).  A suite
# whose package list did not change keeps its Release file and signature.
for dist_dir in "$source_repo"/dists/*/; do
  suite=$(basename "$dist_dir")
  dist="$repo/dists/$suite"
  packages="$dist/main/binary-$arch/Packages"
  mkdir -p "$dist/main/binary-$arch"
  (cd "$repo" && apt-ftparchive packages "pool/$suite") > "$packages.new"
  if [[ -z $new_key ]] && cmp -s "$packages.new" "$packages" && [[ -f $dist/InRelease ]]; then
    rm -f "$packages.new"
    continue
  fi
  mv "$packages.new" "$packages"
  gzip -9nc "$packages" > "$packages.gz.new"
  mv "$packages.gz.new" "$packages.gz"
  # Released from a copy of the indexes alone: in place, the suite's current Release would list itself.
  rm -rf "$mirror/index" && mkdir -p "$mirror/index" && cp -r "$dist/main" "$mirror/index/"
  origin=$(sed -n 's/^Origin: //p' "$dist_dir/Release")
  label=$(sed -n 's/^Label: //p' "$dist_dir/Release")
  suite_release "$origin" "$label" "$suite" "$arch" "$mirror/index" > "$mirror/Release.new"
  gpg --batch --yes --clearsign -o "$dist/InRelease.new" "$mirror/Release.new"
  gpg --batch --yes -abs -o "$dist/Release.gpg.new" "$mirror/Release.new"
  mv "$mirror/Release.new" "$dist/Release"
  mv "$dist/Release.gpg.new" "$dist/Release.gpg"
  mv "$dist/InRelease.new" "$dist/InRelease"
  changed=1
done
rm -rf "$mirror/index"
gpg --batch --export > "$repo/patchwise-testbed.gpg.new"
mv "$repo/patchwise-testbed.gpg.new" "$repo/patchwise-testbed.gpg"

if [[ -n $changed ]]; then echo published; else echo unchanged; fi
