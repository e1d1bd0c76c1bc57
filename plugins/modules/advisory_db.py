#!/usr/bin/python
# Copyright: patchwise developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: advisory_db
short_description: Build the advisory database from OSV, Debian Security Tracker, RPM updateinfo, CISA KEV and EPSS feeds
version_added: 0.1.0
author: patchwise developers !UNKNOWN
description:
  - Builds or updates an SQLite advisory database on the controller from any mix of feeds, given as local
    paths or URLs.
  - C(osv) feeds are OSV schema 1.x records as JSON or YAML files, a directory tree of them, or a zip of
    them (as osv.dev publishes per ecosystem). C(ECOSYSTEM) and C(SEMVER) ranges are kept; C(GIT) ranges are
    skipped and counted.
  - C(debian) is the Debian Security Tracker's JSON; each release codename becomes its OSV ecosystem
    (V(bookworm) is C(Debian:12)), and the tracker's status and urgency are kept.
  - C(kev) is the CISA Known Exploited Vulnerabilities catalog JSON; C(epss) is FIRST's EPSS CSV, plain or gzipped.
  - C(cve5) is CVE JSON 5 records (a file, a directory tree such as C(cvelistV5), or a zip) - their CVSS v3.x vector
    fills in where an advisory has none, and CISA Vulnrichment's SSVC options (Exploitation, Automatable, Technical
    Impact) are used by the risk engine before values derived from other data. Rejected and reserved CVEs are skipped.
  - C(updateinfo) is the errata of an RPM repository, its C(repodata/*updateinfo.xml) or C(updateinfo.xml.gz) (Red Hat's
    RHSA, AlmaLinux's ALSA, Rocky Linux's RLSA). Each security update is an advisory with its severity (kept as the
    entries' urgency), the CVE ids of its references as aliases, and one entry per package of its package list,
    fixed at that package's C([epoch:]version-release). Entries name source RPMs (the package's C(src)) for Red Hat
    and Rocky Linux and binary RPMs for AlmaLinux, as the advisories of those ecosystems do. Bug fix and enhancement
    updates are not advisories, but date the feed.
  - The new database is written next to O(path) and renamed over it, so a failed or interrupted build leaves
    the previous database untouched. Unchanged inputs leave the database as it is and report no change.
  - Scratch files carry the building process's id (C(.advisory-db-<pid>-*)); a build removes its own on any error,
    and at its start the ones a killed build left behind (their process is gone), listed in RV(removed_leftovers).
  - The file at O(path) must be an advisory database, or not exist. Any other file - the asset database given by
    mistake, another program's SQLite file - is refused and left as it is, even with O(force); an unreadable file is
    replaced only with O(force).
  - Runs on the controller (it is an action plugin); it never touches managed hosts.
extends_documentation_fragment:
  - patchwise.patching.attributes
  - patchwise.patching.attributes.ACTION
attributes:
  check_mode:
    support: full
    details: Reports whether the database would be rebuilt, without writing it.
options:
  path:
    description: The database file on the controller. A missing directory is created, readable by its owner only.
    type: path
    required: true
  feeds:
    description: The feeds to build from, in order. Advisories with the same id from several feeds are merged.
    type: list
    elements: dict
    required: true
    suboptions:
      type:
        description: The feed format.
        type: str
        required: true
        choices: [osv, debian, kev, epss, cve5, updateinfo]
      src:
        description:
          - A local file or directory, or an C(https://) (or C(file://)) URL, downloaded to a temporary file next
            to O(path).
          - Plain C(http://) URLs are refused except on loopback (C(127.0.0.1), C(localhost), C(::1)), for a local
            mirror or a test server.
        type: str
        required: true
      sha256:
        description: The expected SHA-256 of the file; a download or file that does not match is refused.
        type: str
      ecosystem:
        description:
          - For O(feeds[].type=updateinfo) only, the OSV ecosystem of the repository, such as C(AlmaLinux:9), C(Rocky Linux:9)
            or C(Red Hat:enterprise_linux:9::appstream).
          - Without it, each advisory's ecosystem comes from its id (C(RH*), C(AL*), C(RL*)) and the C(.el<major>) of its
            package releases; an advisory where neither tells is an error (skipped with O(lenient)).
        type: str
  lenient:
    description:
      - Skip OSV records (and updateinfo updates) that cannot be used (broken JSON/YAML, missing fields, unparsable
        versions) and report them, instead of failing. A feed in which every record fails still fails.
    type: bool
    default: false
  force:
    description:
      - Rebuild even when the inputs are unchanged, and replace an unreadable file at O(path). Never replaces a
        database of another kind.
    type: bool
    default: false
seealso:
  - plugin: patchwise.patching.version_compare
    plugin_type: filter
"""

EXAMPLES = r"""
- name: Build the advisory database from the shipped CISA KEV snapshot and a Debian tracker export
  patchwise.patching.advisory_db:
    path: "{{ patchwise_advisory_db }}"
    feeds:
      - type: debian
        src: /srv/feeds/debian-tracker.json
      - type: osv
        src: /srv/feeds/osv/Debian.zip
      - type: kev
        src: https://www.cisa.gov/sites/default/files/feeds/known_exploited_vulnerabilities.json
      - type: epss
        src: /srv/feeds/epss_scores-current.csv.gz
      - type: updateinfo
        src: /srv/mirror/almalinux/9/BaseOS/x86_64/os/repodata/updateinfo.xml.gz
        ecosystem: AlmaLinux:9
  run_once: true
  delegate_to: localhost
"""

RETURN = r"""
path:
  description: The database file.
  returned: always
  type: str
schema:
  description: The database's schema version; a database of another schema is rebuilt.
  returned: always
  type: int
  sample: 6
advisories:
  description: Number of advisories in the database (null in check mode when a rebuild is due).
  returned: always
  type: int
feeds:
  description:
    - Per feed, the records read, skipped (lenient mode) and GIT ranges skipped, with the first errors.
    - V(data_date) is the feed's own date, which the staleness gate of P(patchwise.patching.risk_assess#module) checks
      against the policy's C(max_feed_age_hours); V(date_source) says where it comes from - C(dateReleased) (CISA KEV),
      C(score_date) (EPSS), C(newest modified) (OSV), C(newest updated or issued) (updateinfo, over all its updates), or
      C(fetched) (the file's fetch time, for the Debian tracker, CVE records, and a KEV or EPSS file or an updateinfo
      without its date).
  returned: always
  type: list
  elements: dict
  sample: [{type: osv, src: /srv/feeds/osv, records: 120, skipped: 0, skipped_git_ranges: 4, errors: [],
            data_date: "2026-12-04T21:13:08Z", date_source: newest modified}]
ecosystems:
  description: Number of affected-package entries per ecosystem.
  returned: always
  type: dict
  sample: {"Debian:12": 3812, "PyPI": 210}
built_at:
  description: When the database was built (UTC).
  returned: when changed
  type: str
removed_leftovers:
  description: Scratch files of earlier builds that were killed, removed before this build.
  returned: always
  type: list
  elements: str
"""
