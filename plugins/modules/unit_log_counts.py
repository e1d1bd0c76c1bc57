#!/usr/bin/python
# Copyright: patchwise developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: unit_log_counts
short_description: Count the error and warning lines of systemd units before and after a change
version_added: 0.1.0
description:
  - Joins logs to a patch run. For each unit the change touched - given in O(units), or shipped by a package of
    O(packages) - counts the error and warning lines logged over two equal windows, the one before O(start) and the
    one after it, so a service that got worse after its update shows.
  - "The window length is the change's (O(end) - O(start)), but at least O(min_window) seconds: before is
    C([start - length, start)), after is C([start, start + length))."
  - From the journal (C(journalctl -o json)) - priority 0 to 3 counts as an error, 4 as a warning - a line counts for a
    unit when the unit wrote it, or when systemd wrote it about the unit (C(UNIT=), such as "Main process exited,
    status=1/FAILURE").
  - Where no journal runs, from syslog files (O(syslog_files)); their lines carry no priority, so the severity is
    guessed from words (error, fail, fatal, critical, emergency, alert, panic; warning). The unit maps to its name
    without the suffix and to the unit file's C(SyslogIdentifier=). Classic lines without a year take the year of the
    file's last change.
  - With O(max_error_increase), the units whose error count rose by more than that are listed in RV(degraded).
  - Without any readable log it does not fail; RV(source) is V(none) and a warning says why.
  - Part of the role P(patchwise.patching.system_patch#role), which takes the threshold from the policy's
    C(log_check).
author: patchwise developers !UNKNOWN
extends_documentation_fragment:
  - patchwise.patching.attributes
attributes:
  check_mode:
    support: full
    details: Read-only; counts the same in check mode.
  diff_mode:
    support: none
options:
  units:
    description: Unit names; a name without a suffix means C(.service).
    type: list
    elements: str
    default: []
  packages:
    description:
      - Packages whose unit files (under C(/lib/systemd/system), C(/usr/lib/systemd/system), C(/etc/systemd/system);
        C(.service), C(.socket), C(.timer); templates such as C(getty@.service) left out) are added to O(units),
        read with C(dpkg -L) or C(rpm -ql).
    type: list
    elements: str
    default: []
  start:
    description: When the change started, C(YYYY-MM-DDTHH:MM:SSZ) (UTC).
    type: str
    required: true
  end:
    description: When the change ended, C(YYYY-MM-DDTHH:MM:SSZ); default now.
    type: str
  min_window:
    description: The shortest window, in seconds.
    type: int
    default: 60
  source:
    description: V(journal), V(syslog), or V(auto) - the journal when journalctl exists and has entries, else syslog files.
    type: str
    choices: [auto, journal, syslog]
    default: auto
  journal_directory:
    description: Read the journal files in this directory (C(journalctl --directory)), such as a mounted host's C(/var/log/journal).
    type: path
  syslog_files:
    description: The syslog files to read when the journal is not used.
    type: list
    elements: path
    default: [/var/log/syslog, /var/log/daemon.log, /var/log/messages]
  max_error_increase:
    description: List in RV(degraded) the units whose error lines rose by more than this many.
    type: int
seealso:
  - module: patchwise.patching.system_update
"""

EXAMPLES = r"""
- name: Count the log lines of the services the change touched
  patchwise.patching.unit_log_counts:
    units: [nginx.service]
    packages: [openssl, libssl3]
    start: "{{ change_started }}"
    max_error_increase: 10
  register: log_counts

- name: Say which services got worse
  ansible.builtin.debug:
    msg: "degraded after the change: {{ log_counts.degraded | join(', ') }}"
  when: log_counts.degraded | length > 0
"""

RETURN = r"""
source:
  description: Where the lines were read - V(journal), V(syslog) or V(none).
  returned: always
  type: str
window:
  description: The two windows (C(before), C(after), each with C(since) and C(until) in UTC) and their length in C(seconds).
  returned: always
  type: dict
  sample: {"before": {"since": "2026-12-05T11:59:00Z", "until": "2026-12-05T12:00:00Z"},
           "after": {"since": "2026-12-05T12:00:00Z", "until": "2026-12-05T12:01:00Z"}, "seconds": 60}
units:
  description: Per unit, the C(errors) and C(warnings) counted C(before) and C(after), and the C(error_increase).
  returned: always
  type: dict
  sample: {"pw-noisyd.service": {"before": {"errors": 0, "warnings": 0}, "after": {"errors": 30, "warnings": 0}, "error_increase": 30}}
degraded:
  description: The units whose errors rose by more than O(max_error_increase), sorted.
  returned: always
  type: list
  elements: str
heuristic:
  description: True when the severity of the lines was guessed from their words (syslog files).
  returned: always
  type: bool
"""

import datetime
import os
import shutil

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.patchwise.patching.plugins.module_utils import log_counts


def _package_units(module, packages):
    if not packages:
        return []
    if shutil.which('dpkg-query'):
        command = ['dpkg-query', '-L', *packages]
    elif shutil.which('rpm'):
        command = ['rpm', '-ql', *packages]
    else:
        module.fail_json(msg='packages: neither dpkg-query nor rpm is there to list the packages\' files')
    # A package that is not installed is reported on stderr; the others' files are still listed.
    _rc, out, _err = module.run_command(command, environ_update={'LC_ALL': 'C'})
    return log_counts.units_of_package_files(out.splitlines())


def _journal_has_entries(module, directory):
    command = ['journalctl', '-q', '--no-pager', '-n', '1', '-o', 'short'] + (['--directory', directory] if directory else [])
    rc, out, _err = module.run_command(command, environ_update={'LC_ALL': 'C'})
    return rc == 0 and bool(out.strip())


def _unit_file_texts(units):
    texts = {}
    for unit in units:
        for directory in log_counts.UNIT_DIRECTORIES:
            path = os.path.join(directory, unit)
            if os.path.isfile(path):
                with open(path, encoding='utf-8', errors='replace') as handle:
                    texts[unit] = handle.read()
                break
    return texts


def main():
    module = AnsibleModule(
        argument_spec={
            'units': {'type': 'list', 'elements': 'str', 'default': []},
            'packages': {'type': 'list', 'elements': 'str', 'default': []},
            'start': {'type': 'str', 'required': True},
            'end': {'type': 'str'},
            'min_window': {'type': 'int', 'default': 60},
            'source': {'type': 'str', 'choices': ['auto', 'journal', 'syslog'], 'default': 'auto'},
            'journal_directory': {'type': 'path'},
            'syslog_files': {'type': 'list', 'elements': 'path', 'default': list(log_counts.DEFAULT_SYSLOG_FILES)},
            'max_error_increase': {'type': 'int'},
        },
        supports_check_mode=True,
    )
    params = module.params
    try:
        start = log_counts.parse_utc(params['start'], 'start')
        end = log_counts.parse_utc(params['end'], 'end') if params['end'] else datetime.datetime.now(log_counts.UTC)
        before, after, seconds = log_counts.windows(start, end, params['min_window'])
    except log_counts.LogCountError as exc:
        module.fail_json(msg=str(exc))
    units = sorted({log_counts.unit_name(unit) for unit in params['units']} | set(_package_units(module, params['packages'])))
    result = {'changed': False, 'source': 'none', 'heuristic': False, 'units': log_counts.empty_counts(units), 'degraded': [],
              'window': {'before': {'since': log_counts.utc_text(before[0]), 'until': log_counts.utc_text(before[1])},
                         'after': {'since': log_counts.utc_text(after[0]), 'until': log_counts.utc_text(after[1])},
                         'seconds': seconds}}
    if not units:
        module.exit_json(**result)
    journal = params['source'] == 'journal' or (
        params['source'] == 'auto' and shutil.which('journalctl') and _journal_has_entries(module, params['journal_directory']))
    if journal:
        rc, out, err = module.run_command(log_counts.journal_command(units, before[0], after[1], params['journal_directory']),
                                          environ_update={'LC_ALL': 'C'})
        if rc != 0:
            module.fail_json(msg='journalctl failed (rc %s): %s' % (rc, (err or out).strip()[-500:]), **result)
        result.update(source='journal', units=log_counts.count_journal_lines(out.splitlines(), units, before, after))
    else:
        readable = [path for path in params['syslog_files'] if os.path.isfile(path) and os.access(path, os.R_OK)]
        if not readable:
            module.warn('no journal and none of the syslog files %s is readable: no log lines were counted'
                        % ', '.join(params['syslog_files']))
            module.exit_json(**result)
        identifiers = log_counts.syslog_identifiers(units, _unit_file_texts(units))
        counts = log_counts.empty_counts(units)
        for path in readable:
            year = datetime.datetime.fromtimestamp(os.path.getmtime(path), log_counts.UTC).year
            with open(path, encoding='utf-8', errors='replace') as handle:
                found = log_counts.count_syslog_lines(handle, identifiers, before, after, year)
            for unit, count in found.items():
                for window in ('before', 'after'):
                    for severity in ('errors', 'warnings'):
                        counts[unit][window][severity] += count[window][severity]
        result.update(source='syslog', heuristic=True, units=counts)
    result['degraded'] = log_counts.summarise(result['units'], params['max_error_increase'])
    module.exit_json(**result)


if __name__ == '__main__':
    main()
