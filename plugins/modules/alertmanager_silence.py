#!/usr/bin/python
# Copyright: patchwise developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: alertmanager_silence
short_description: Create, extend or expire a Prometheus Alertmanager silence for a host being patched
version_added: 0.1.0
author: patchwise developers !UNKNOWN
description:
  - Silences a host's alerts in Prometheus Alertmanager for a patch window through Alertmanager's v2 HTTP API, and
    expires the silence when the host is verified.
  - The silence's comment carries the run id and the change reference, so the alerts it suppressed can be
    correlated with the audit trail of the run.
  - Idempotent. A live (active or pending) silence with the same matchers and the same comment, or whose comment
    contains O(marker), is reused instead of creating another; when its end differs it is moved (Alertmanager
    updates a silence that is POSTed again with its id).
  - O(state=absent) expires the live silences found the same way; nothing is changed when there is none.
  - Usually run on the controller, with C(delegate_to=localhost).
extends_documentation_fragment:
  - patchwise.patching.attributes
  - patchwise.patching.alertmanager
attributes:
  check_mode:
    support: full
    details: Reads the silences and reports what would be created, updated or expired; sends no POST or DELETE.
  diff_mode:
    support: none
options:
  state:
    description: V(present) creates or updates the silence, V(absent) expires it.
    type: str
    choices: [present, absent]
    default: present
  starts_at:
    description:
      - Start of a new silence (ISO 8601, such as V(2026-11-29T02:00:00Z); no zone means UTC). Default now.
      - A silence that is reused keeps its start.
    type: str
  ends_at:
    description:
      - End of the silence, usually the end of the maintenance window (ISO 8601; no zone means UTC).
      - With O(state=present) one of O(ends_at) and O(duration) is required.
    type: str
  duration:
    description:
      - Length of the silence from now instead of O(ends_at), as seconds or text such as V(90m), V(2h), V(1h30m).
      - Since now moves, a reused silence is only moved when its end differs from now + duration by more than
        60 seconds, so a task repeated within a minute reports no change.
    type: str
  comment:
    description: Text of the silence's comment; O(run_id) and O(change_ref) are appended as C([run_id=... change=...]).
    type: str
    default: patchwise patch run
  run_id:
    description: The run id (C(patchwise_run_id)) recorded in the comment.
    type: str
  change_ref:
    description: The change or approval reference recorded in the comment.
    type: str
  marker:
    description:
      - Text that identifies this collection's silence in a comment, instead of the whole comment being equal.
      - Default C(run_id=<run_id>) when O(run_id) is given (a silence of the same run is reused even if the change
        reference was corrected; its comment is then updated), else the whole comment must be equal.
    type: str
  created_by:
    description: The silence's author as Alertmanager shows it.
    type: str
    default: patchwise.patching
seealso:
  - module: patchwise.patching.alertmanager_alerts
  - name: Alertmanager API v2
    description: The OpenAPI specification of the API.
    link: https://github.com/prometheus/alertmanager/blob/main/api/v2/openapi.yaml
"""

EXAMPLES = r"""
- name: Silence the host's alerts until the end of its window
  patchwise.patching.alertmanager_silence:
    url: http://alertmanager.example.com:9093
    host: "{{ inventory_hostname }}"
    ends_at: "{{ window_end }}"
    run_id: "{{ patchwise_run_id }}"
    change_ref: "{{ patchwise_change_ref }}"
  delegate_to: localhost
  register: patch_silence

- name: Silence by job and host label for two hours, with a token
  patchwise.patching.alertmanager_silence:
    url: https://alertmanager.example.com
    bearer_token: "{{ vault_alertmanager_token }}"
    matchers:
      - 'job="node"'
      - name: hostname
        value: "{{ inventory_hostname_short }}"
    duration: 2h
    run_id: "{{ patchwise_run_id }}"
  delegate_to: localhost

- name: Expire the silence once the host is verified
  patchwise.patching.alertmanager_silence:
    url: http://alertmanager.example.com:9093
    host: "{{ inventory_hostname }}"
    run_id: "{{ patchwise_run_id }}"
    state: absent
  delegate_to: localhost
"""

RETURN = r"""
action:
  description: What was done (or would be in check mode) - V(created), V(updated), V(unchanged), V(expired) or V(none).
  returned: always
  type: str
  sample: created
silence_id:
  description:
    - Id of the silence created, updated or reused; with O(state=absent) the first one expired.
    - Null when none (in check mode, a silence that would be created has no id yet).
  returned: always
  type: str
  sample: 3f1c6e2a-8a3b-4f0e-9b1d-2c7a5d6e8f90
silence_ids:
  description: Ids of all live silences found for these matchers and comment (present), or of those expired (absent).
  returned: always
  type: list
  elements: str
  sample: [3f1c6e2a-8a3b-4f0e-9b1d-2c7a5d6e8f90]
matchers:
  description: The matchers used, in the API's spelling.
  returned: always
  type: list
  elements: dict
  sample: [{name: instance, value: "web1(:.*)?", isRegex: true, isEqual: true}]
comment:
  description: The silence's comment, with run id and change reference.
  returned: always
  type: str
  sample: "patchwise patch run [run_id=4711 change=CHG-1234]"
starts_at:
  description: Start of the silence (a reused silence keeps its start).
  returned: when O(state=present)
  type: str
  sample: "2026-11-29T02:00:00.000Z"
ends_at:
  description: End of the silence.
  returned: when O(state=present)
  type: str
  sample: "2026-11-29T04:00:00.000Z"
"""

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.patchwise.patching.plugins.module_utils import alertmanager

# A silence given as a duration from now is reused while its end is this close to now + duration.
DURATION_TOLERANCE = 60


def main():
    argument_spec = alertmanager.connection_argument_spec()
    argument_spec.update(
        state=dict(type='str', choices=['present', 'absent'], default='present'),
        starts_at=dict(type='str'),
        ends_at=dict(type='str'),
        duration=dict(type='str'),
        comment=dict(type='str', default='patchwise patch run'),
        run_id=dict(type='str'),
        change_ref=dict(type='str'),
        marker=dict(type='str'),
        created_by=dict(type='str', default='patchwise.patching'),
    )
    module = AnsibleModule(
        argument_spec=argument_spec,
        mutually_exclusive=[('ends_at', 'duration')],
        required_one_of=[('host', 'matchers')],
        supports_check_mode=True,
    )
    p = module.params
    if p['state'] == 'present' and not (p['ends_at'] or p['duration']):
        module.fail_json(msg='alertmanager_silence: state=present needs ends_at or duration')
    comment = alertmanager.silence_comment(p['comment'], p['run_id'], p['change_ref'])
    marker = p['marker'] or ('run_id=%s' % p['run_id'] if p['run_id'] else None)
    try:
        client = alertmanager.client_from_params(p)
        matchers = alertmanager.matchers_from_params(p)
        result = dict(matchers=matchers, comment=comment)
        if p['state'] == 'absent':
            expired = alertmanager.expire_silences(client, matchers, comment=comment, marker=marker,
                                                   check_mode=module.check_mode)
            result.update(action='expired' if expired else 'none', silence_ids=expired,
                          silence_id=expired[0] if expired else None, changed=bool(expired))
        else:
            start = alertmanager.parse_time(p['starts_at']) if p['starts_at'] else alertmanager.now()
            if p['duration']:
                end, tolerance = alertmanager.now() + alertmanager.parse_duration(p['duration']), DURATION_TOLERANCE
            else:
                end, tolerance = alertmanager.parse_time(p['ends_at']), 0
            action, ids, silence = alertmanager.ensure_silence(
                client, matchers, start, end, created_by=p['created_by'], comment=comment, marker=marker,
                tolerance=tolerance, check_mode=module.check_mode)
            result.update(action=action, silence_ids=ids, silence_id=silence['id'], changed=action != 'unchanged',
                          starts_at=silence['startsAt'], ends_at=silence['endsAt'])
    except alertmanager.AlertmanagerError as exc:
        module.fail_json(msg='alertmanager_silence: %s' % exc)
    module.exit_json(**result)


if __name__ == '__main__':
    main()
