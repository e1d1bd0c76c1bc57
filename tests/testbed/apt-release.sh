# shellcheck shell=bash
# Sourced by build-apt-repo.sh and snapshot-apt-repo.sh: the Release file of one
# suite of the fixture repositories, the same fields in both.
# suite_release ORIGIN LABEL SUITE ARCH INDEX_DIR: print the Release of INDEX_DIR.
suite_release() {
  apt-ftparchive \
    -o APT::FTPArchive::Release::Origin="$1" \
    -o APT::FTPArchive::Release::Label="$2" \
    -o APT::FTPArchive::Release::Suite="$3" \
    -o APT::FTPArchive::Release::Codename="$3" \
    -o APT::FTPArchive::Release::Architectures="$4" \
    -o APT::FTPArchive::Release::Components=main \
    release "$5"
}
