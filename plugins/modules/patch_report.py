#!/usr/bin/python
# Copyright: patchwise developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: patch_report
short_description: Write the fleet's patch compliance report as HTML, JSON and CSV
version_added: 0.1.0
author: patchwise developers !UNKNOWN
description:
  - Runs on the controller (use C(run_once) and C(delegate_to=localhost)). Reads the asset database - host records,
    history, findings with their lifecycle, risk results, plans and patch outcomes - the policy and the audit log, and
    writes a compliance report that a manager, an auditor and an on-call engineer can each read at a glance.
  - The report answers - are we compliant with our SLAs (overall and by host tier, environment, patch group and
    operating system); what is overdue and where (known exploited first, with how late); what did the last run change
    (package versions old and new, restarts, reboots, rollbacks, incidents); which risks are accepted or held, by whom
    and until when (expiring soonest first); how long remediation takes (median and 90th percentile per tier, from
    first seen to closed); how the open findings and compliant hosts moved over the last runs; which applications
    carry findings; which hosts are stale; and whether the audit trail verifies.
  - A host is compliant when none of its open findings is past its due date; accepted findings do not count, held
    ones do. A host never assessed is counted as not assessed.
  - Per host it shows the patch state counts of its last patch run - C(installed), C(installed_other),
    C(pending_reboot), C(pending_restart), C(held), C(rejected), C(missing), C(failed), C(not_applicable) - with the
    last operation, its run id and the policy fingerprint.
  - V(html) is one self-contained file (inline CSS, inline SVG charts, a few lines of inline JavaScript that sort and
    page the host table; nothing loaded from elsewhere), so it can be mailed or kept as a job artifact. V(json) holds
    the same figures with a C(schema) integer. V(csv) writes one file per table - hosts, findings, overdue,
    exceptions, changes - complete. The formats are described in C(docs/report.md).
  - Every file is written to a temporary file in O(dest) and renamed into place once all of them are written, so a
    failure leaves no partial report and the previous one as it was. Bad input fails with the reason and writes
    nothing - a missing or empty database, a database of another kind (an advisory database), a database without
    hosts, an output directory that does not exist or is not writable, an inventory group that does not exist, a
    filter that selects no host.
  - Reads SQLite asset databases.
extends_documentation_fragment:
  - patchwise.patching.attributes
  - patchwise.patching.attributes.ACTION
attributes:
  check_mode:
    support: full
    details:
      - Reads everything and returns the figures and whether the report would change, and writes no file.
      - When O(asset_db) does not exist yet (a check run of the whole cycle on a fresh environment, whose discovery
        stored nothing), it reports that it would write a report and reads nothing; outside check mode a missing
        database is an error.
options:
  asset_db:
    description:
      - The asset database written by M(patchwise.patching.asset_store) and M(patchwise.patching.risk_assess).
      - An SQLite file, or a PostgreSQL database as a C(postgresql://user@host:port/database) URL (needs psycopg 3 on the controller);
        the password goes in E(PGPASSWORD), a E(PGPASSFILE) or C(~/.pgpass), never in the URL. Both give the same report.
    type: path
    required: true
  dest:
    description: The directory the report is written to. It must exist and be writable.
    type: path
    required: true
  formats:
    description: The formats to write.
    type: list
    elements: str
    choices: [html, json, csv]
    default: [html, json, csv]
  basename:
    description:
      - The file name the report's files start with - C(<basename>.html), C(<basename>.json) and
        C(<basename>-<table>.csv).
    type: str
    default: patch-report
  policy:
    description:
      - The policy (C(docs/policy.md)) as a mapping, or the path of a YAML file holding it. Its acceptances and holds
        are listed with their owners, reasons and expiry, and its fingerprint is shown in the header.
    type: raw
    default: {}
  audit_log:
    description:
      - The audit log of the P(patchwise.patching.audit#callback) callback. Its verification (valid or not, the first
        bad record, whether its head is anchored by O(expected_head)) is shown in the report's header; a log that fails
        verification is a warning, not a failure. Without it the header says the trail was not checked.
    type: path
  hmac_key:
    description: The HMAC key the audit log was written with, if any.
    type: str
  expected_head:
    description:
      - The chain head sent off-host (as M(patchwise.patching.audit_verify) takes it), so the report can say the log's
        head is anchored. Without it the head is reported as not anchored.
    type: raw
  groups:
    description:
      - Report only on the hosts of these inventory groups. A group the inventory does not have fails the task.
    type: list
    elements: str
    default: []
  hosts:
    description:
      - Report only on the hosts whose names match one of these shell-style patterns (C(web*), C(db0[1-3])), in
        addition to those of O(groups). A filter that selects no stored host fails the task.
    type: list
    elements: str
    default: []
  since:
    description:
      - Start of the time range of the changes section, a date (C(YYYY-MM-DD)) or an ISO 8601 time. Without O(since)
        and O(until) the section shows the last run that patched.
    type: str
  until:
    description: End of the time range of the changes section (a date includes that whole day).
    type: str
  as_of:
    description:
      - The report's time, an ISO 8601 UTC time or a date - what is overdue and what is stale is judged against it.
        Default - now. Use it to reproduce an earlier report.
    type: str
  stale_after_days:
    description: A host not seen for more than this many days is listed as stale; V(0) lists none.
    type: int
    default: 14
  trend_runs:
    description: How many of the last assess runs the trend covers.
    type: int
    default: 10
  top:
    description: How many overdue findings the HTML page and the JSON list; the overdue CSV has them all.
    type: int
    default: 100
notes:
  - The report task is changed when what the report says changed - the files are rewritten on every run, but the
    time of the report, the hosts' last-seen times and the audit log's length and head (which every run moves) do not
    count, as M(patchwise.patching.asset_store) does not count a host seen again unchanged. With O(formats) V(csv)
    alone it is always changed.
  - For a fleet of 10,000 hosts with about 1,000 open findings each, see C(bench/bench_report.py) for the time and
    memory it takes.
seealso:
  - module: patchwise.patching.risk_assess
  - module: patchwise.patching.audit_verify
  - module: patchwise.patching.asset_store
"""

EXAMPLES = r"""
- name: Write the compliance report
  patchwise.patching.patch_report:
    asset_db: "{{ patchwise_asset_db }}"
    dest: /var/lib/patchwise/reports
    policy: "{{ patchwise_policy | default({}) }}"
    audit_log: "{{ lookup('ansible.builtin.env', 'PATCHWISE_AUDIT_LOG') | default(omit, true) }}"
  run_once: true
  delegate_to: localhost
  register: report

- name: Report on the web servers only, with the changes of November, as JSON
  patchwise.patching.patch_report:
    asset_db: /var/lib/patchwise/assets.db
    dest: /tmp/reports
    formats: [json]
    basename: web-november
    groups: [webservers]
    hosts: ["edge-*"]
    since: "2026-11-01"
    until: "2026-11-30"
  run_once: true
  delegate_to: localhost

- name: Fail the job when any host is out of compliance
  ansible.builtin.assert:
    that: report.summary.non_compliant == 0
    fail_msg: "{{ report.msg }}"
"""

RETURN = r"""
files:
  description: The files written (none in check mode).
  returned: always
  type: list
  elements: str
  sample: [/var/lib/patchwise/reports/patch-report.html, /var/lib/patchwise/reports/patch-report.json]
summary:
  description:
    - The headline figures - hosts, compliant, non_compliant, stale, open findings, overdue, kev_overdue (overdue
      findings in the CISA KEV catalog) and accepted.
  returned: always
  type: dict
  sample: {hosts: 120, compliant: 97, non_compliant: 21, stale: 2, open: 5321, overdue: 311, kev_overdue: 4, accepted: 12}
audit:
  description:
    - The audit log's verification - checked, path, valid, anchored, records, head, first_bad_line, reason.
  returned: always
  type: dict
content_changed:
  description:
    - Whether what the report says changed (as C(changed); kept for roles that record a report without counting it as
      a change).
  returned: always
  type: bool
schema:
  description: The schema of the JSON report (C(docs/report.md)).
  returned: always
  type: int
  sample: 1
content_digest:
  description: SHA-256 of what the report says (see the notes); the same digest means the same report.
  returned: always
  type: str
run_id:
  description: The latest run id in the asset database.
  returned: always
  type: str
generated_at:
  description: The report's time (UTC).
  returned: always
  type: str
  sample: "2026-11-28T12:00:00Z"
"""
