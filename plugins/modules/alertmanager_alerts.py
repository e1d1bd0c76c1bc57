#!/usr/bin/python
# Copyright: patchwise developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: alertmanager_alerts
short_description: List the Prometheus Alertmanager alerts of a host that fired during a time range
version_added: 0.1.0
author: patchwise developers !UNKNOWN
description:
  - Reads a host's alerts from Alertmanager's v2 HTTP API (C(GET /api/v2/alerts)) and returns those that started
    firing between O(since) and O(until) as a compact list, to attach to the host's patch outcome in the audit trail.
  - Silenced and inhibited alerts are included by default, since the alarms that fired while the host was silenced
    for patching are the ones to correlate.
  - Alertmanager only keeps an alert until it has been resolved for its resolve timeout; query soon after the run.
  - Never changes anything. Usually run on the controller, with C(delegate_to=localhost).
extends_documentation_fragment:
  - patchwise.patching.attributes
  - patchwise.patching.alertmanager
attributes:
  check_mode:
    support: full
    details: Read-only; runs the same in check mode.
  diff_mode:
    support: none
options:
  since:
    description: Start of the time range (ISO 8601, such as V(2026-11-29T02:00:00Z); no zone means UTC).
    type: str
    required: true
  until:
    description: End of the time range (ISO 8601). Default now.
    type: str
  include_ongoing:
    description: Also return alerts that started before O(since) and were still firing at O(since).
    type: bool
    default: false
  silenced:
    description: Include silenced alerts.
    type: bool
    default: true
  inhibited:
    description: Include inhibited alerts.
    type: bool
    default: true
  active:
    description: Include active (neither silenced nor inhibited) alerts, and those not yet processed.
    type: bool
    default: true
seealso:
  - module: patchwise.patching.alertmanager_silence
"""

EXAMPLES = r"""
- name: Alarms that fired while the host was patched
  patchwise.patching.alertmanager_alerts:
    url: http://alertmanager.example.com:9093
    host: "{{ inventory_hostname }}"
    since: "{{ patch_started_at }}"
  delegate_to: localhost
  register: patch_alarms

- name: Only the alarms the patch silence suppressed
  patchwise.patching.alertmanager_alerts:
    url: http://alertmanager.example.com:9093
    host: "{{ inventory_hostname }}"
    since: "{{ patch_silence.starts_at }}"
    until: "{{ patch_silence.ends_at }}"
    active: false
    inhibited: false
  delegate_to: localhost
"""

RETURN = r"""
alerts:
  description: The alerts, oldest start first.
  returned: always
  type: list
  elements: dict
  contains:
    labels:
      description: The alert's labels.
      type: dict
      sample: {alertname: HighLoad, instance: "web1:9100"}
    summary:
      description: The alert's C(summary) annotation (else its C(description), else empty).
      type: str
      sample: load above 8 for 5 minutes
    starts_at:
      description: When the alert started firing.
      type: str
      sample: "2026-11-29T02:10:00.000Z"
    ends_at:
      description: When the alert ends or ended (Alertmanager's resolve time for alerts still firing).
      type: str
      sample: "2026-11-29T02:15:00.000Z"
    state:
      description: V(active), V(suppressed) (silenced or inhibited) or V(unprocessed).
      type: str
      sample: suppressed
    silenced_by:
      description: Ids of the silences suppressing the alert.
      type: list
      elements: str
      sample: [3f1c6e2a-8a3b-4f0e-9b1d-2c7a5d6e8f90]
    fingerprint:
      description: Alertmanager's fingerprint of the alert's labels.
      type: str
      sample: b792e791c7be8605
count:
  description: Number of alerts returned.
  returned: always
  type: int
  sample: 1
since:
  description: Start of the time range, normalised to UTC.
  returned: always
  type: str
  sample: "2026-11-29T02:00:00.000Z"
until:
  description: End of the time range, normalised to UTC.
  returned: always
  type: str
  sample: "2026-11-29T03:00:00.000Z"
matchers:
  description: The matchers used, in the API's spelling.
  returned: always
  type: list
  elements: dict
  sample: [{name: instance, value: "web1(:.*)?", isRegex: true, isEqual: true}]
"""

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.patchwise.patching.plugins.module_utils import alertmanager


def main():
    argument_spec = alertmanager.connection_argument_spec()
    argument_spec.update(
        since=dict(type='str', required=True),
        until=dict(type='str'),
        include_ongoing=dict(type='bool', default=False),
        silenced=dict(type='bool', default=True),
        inhibited=dict(type='bool', default=True),
        active=dict(type='bool', default=True),
    )
    module = AnsibleModule(argument_spec=argument_spec, required_one_of=[('host', 'matchers')],
                           supports_check_mode=True)
    p = module.params
    try:
        since = alertmanager.parse_time(p['since'])
        until = alertmanager.parse_time(p['until']) if p['until'] else alertmanager.now()
        client = alertmanager.client_from_params(p)
        matchers = alertmanager.matchers_from_params(p)
        # An alert Alertmanager has not yet matched against silences counts as active.
        listed = client.alerts(matchers, active=p['active'], silenced=p['silenced'], inhibited=p['inhibited'],
                               unprocessed=p['active'])
        alerts = [alertmanager.compact_alert(alert)
                  for alert in alertmanager.fired_between(listed, since, until, p['include_ongoing'])]
    except alertmanager.AlertmanagerError as exc:
        module.fail_json(msg='alertmanager_alerts: %s' % exc)
    module.exit_json(changed=False, alerts=alerts, count=len(alerts), matchers=matchers,
                     since=alertmanager.format_time(since), until=alertmanager.format_time(until))


if __name__ == '__main__':
    main()
