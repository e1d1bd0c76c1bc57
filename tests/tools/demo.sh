#!/usr/bin/env bash
# `make demo`: the main job on the embedded defaults, against this machine,
# read-only.  SQLite files go to a user-writable directory.
set -euo pipefail
cd "$(dirname "$0")/../.."
demo_dir=${PATCHWISE_DEMO_DIR:-${XDG_DATA_HOME:-$HOME/.local/share}/patchwise/demo}
mkdir -p "$demo_dir"
if [[ ! -f playbooks/demo.yml ]]; then
  cat <<TXT
patchwise demo: the environment is ready (.venv/, data directory $demo_dir).
The discovery and risk stages have not landed yet, so there is nothing to run:
once they do, this command runs discover -> assess against localhost
(local connection, read-only), writes assets.db and advisories.db to
$demo_dir, and prints the hosts' ranked findings.
TXT
  exit 0
fi
exec ansible-playbook -i localhost, -c local playbooks/demo.yml -e "patchwise_demo_dir=$demo_dir" -e ansible_python_interpreter=/usr/bin/python3
