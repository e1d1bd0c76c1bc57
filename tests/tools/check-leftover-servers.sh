#!/usr/bin/env bash
# Fail, naming them, when servers started by the tests still run: Alertmanager, rsyslogd, PostgreSQL, a gpg-agent, a
# Python http.server or test receiver, or a playbook a test killed, whose command line points into a test's temporary tree
# (a test cluster's /tmp/patchwise-pg-*/, pytest's /tmp/pytest-of-<user>/, the private copy tests/tools/ansible-test.sh
# makes, a Molecule scenario's ephemeral directory ~/.ansible/tmp/molecule.*/, or tests/output/).
# The same programs run by the machine itself (the system rsyslogd, say) name no such path and are left out.
# A leftover is reported, not killed: it shows a fixture that does not stop its server.
set -uo pipefail
cd "$(dirname "$0")/../.." || exit 1
leftovers=$(ps -eo pid=,args= | awk -v output_dir="$PWD/tests/output/" '
  {
    program = $2; sub(/.*\//, "", program)
    server = program ~ /^(prometheus-alertmanager|alertmanager|rsyslogd|postgres|postmaster)$/ \
             || program == "gpg-agent" \
             || (program ~ /^python/ && $0 ~ /http\.server|webhook_receiver\.py|change_api\.py|ansible\.cli\.playbook/)
    in_test_tree = $0 ~ /\/pytest-of-[^\/ ]+\// || $0 ~ /\/patchwise-ansible-test\.[^\/ ]+\// \
                   || $0 ~ /\/patchwise-pg-[^\/ ]+\// || $0 ~ /\/\.ansible\/tmp\/molecule\.[^\/ ]+\// \
                   || index($0, output_dir) > 0
    if (server && in_test_tree) { sub(/^ +/, ""); print "  " $0 }
  }')
if [[ -n $leftovers ]]; then
  echo "test servers still running after the tests ended (pid, command line):"
  printf '%s\n' "$leftovers"
  exit 1
fi
echo "no test server left running"
