#!/usr/bin/env bash
# `make demo`: the main job on the embedded defaults, against this machine,
# read-only.  SQLite files go to a user-writable directory.
set -euo pipefail
cd "$(dirname "$0")/../.."
demo_dir=${PATCHWISE_DEMO_DIR:-${XDG_DATA_HOME:-$HOME/.local/share}/patchwise/demo}
mkdir -p "$demo_dir"
exec ansible-playbook -i localhost, -c local playbooks/demo.yml -e "patchwise_demo_dir=$demo_dir" -e ansible_python_interpreter=/usr/bin/python3
