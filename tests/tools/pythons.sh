#!/usr/bin/env bash
# Print, colon-separated, the bin folders that hold the Python versions
# ansible-test can use for this collection (3.9 up to 3.13), so the Makefile can
# put them on PATH.  A Debian machine usually has one; a developer machine with
# pyenv may have them all.  Nothing found is not an error: sanity then runs on
# the interpreters that are there.
set -uo pipefail
pyenv_versions=""
command -v pyenv >/dev/null 2>&1 && pyenv_versions="$(pyenv root)/versions"
dirs=()
for v in 3.9 3.10 3.11 3.12 3.13; do
  exe=""
  # pyenv's shims only work for the selected version: look past them.
  if [[ -n "$pyenv_versions" ]]; then
    for d in "$pyenv_versions/$v".*/bin; do
      [[ -x "$d/python$v" ]] && exe="$d/python$v" && break
    done
  fi
  if [[ -z "$exe" ]]; then
    cand=$(command -v "python$v" 2>/dev/null || true)
    [[ -n "$cand" && "$cand" != */shims/* ]] && exe=$cand
  fi
  [[ -n "$exe" ]] && "$exe" -c '' 2>/dev/null && dirs+=("$(dirname "$exe")")
done
(IFS=:; echo "${dirs[*]}")
