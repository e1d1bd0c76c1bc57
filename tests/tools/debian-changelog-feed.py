"""Write a Debian Security Tracker-format feed from the changelogs of this machine's pending security updates.

Used to make the demo's real-format sample (playbooks/files/feeds/README.md).  For
every source package with a pending security update (the candidate comes from a
Debian-Security origin), the smallest binary package of the candidate is downloaded
with `apt-get download`, and the entries of its changelog.Debian newer than the
installed version are read: every CVE an entry names is fixed in that entry's version
(the lowest such version when several entries name it), with the entry's urgency.
The result lists only what those changelogs say - the tracker itself knows more.

Usage: /usr/bin/python3 tests/tools/debian-changelog-feed.py OUTPUT.json   (on a Debian host with python3-apt)
"""

from __future__ import annotations

import datetime
import gzip
import io
import json
import os
import re
import subprocess
import sys
import tarfile
import tempfile

import apt_pkg

HEADER = re.compile(r'^(?P<source>\S+) \((?P<version>[^)]+)\) (?P<dists>[^;]+); .*urgency=(?P<urgency>\w+)', re.MULTILINE)
CVE = re.compile(r'\bCVE-\d{4}-\d{4,}\b')


def pending_security_sources(cache, depcache):
    """{source: {'installed': source version, 'candidate': version, 'binaries': [(size, name)]}} of security updates."""
    records = apt_pkg.PackageRecords(cache)
    sources = {}
    depcache.upgrade(True)
    for package in cache.packages:
        if not (depcache.marked_upgrade(package) or depcache.marked_install(package)) or package.current_ver is None:
            continue
        candidate = depcache.get_candidate_ver(package)
        if not any(f.label == 'Debian-Security' for f, _i in candidate.file_list):
            continue
        records.lookup(candidate.file_list[0])
        source = records.source_pkg or package.name
        installed = package.current_ver.ver_str
        entry = sources.setdefault(source, {'installed': installed, 'candidate': candidate.ver_str, 'binaries': []})
        entry['binaries'].append((candidate.size, package.name))
    return sources


def changelog_entries(deb_path, binary):
    """[(version, urgency, text)] of the changelog.Debian inside a .deb."""
    data = subprocess.run(['dpkg-deb', '--fsys-tarfile', deb_path], capture_output=True, check=True).stdout
    with tarfile.open(fileobj=io.BytesIO(data)) as archive:
        try:
            member = archive.extractfile('./usr/share/doc/%s/changelog.Debian.gz' % binary)
        except KeyError:
            return []
        if member is None:
            return []
        text = gzip.decompress(member.read()).decode('utf-8', 'replace')
    headers = list(HEADER.finditer(text))
    return [(h.group('version'), h.group('urgency'), text[h.end():headers[i + 1].start() if i + 1 < len(headers) else len(text)])
            for i, h in enumerate(headers)]


def main(output):
    apt_pkg.init()
    cache = apt_pkg.Cache(None)
    depcache = apt_pkg.DepCache(cache)
    codename = apt_pkg.config.find('APT::Default-Release') or subprocess.run(
        ['sh', '-c', '. /etc/os-release; echo $VERSION_CODENAME'], capture_output=True, text=True, check=True).stdout.strip()
    feed = {}
    with tempfile.TemporaryDirectory() as work:
        for source, info in sorted(pending_security_sources(cache, depcache).items()):
            _size, binary = min(info['binaries'])
            subprocess.run(['apt-get', 'download', '-q', '%s=%s' % (binary, info['candidate'])], cwd=work, check=True,
                           capture_output=True)
            deb = next(os.path.join(work, name) for name in os.listdir(work) if name.startswith(binary + '_'))
            fixes = {}
            for version, urgency, text in changelog_entries(deb, binary):
                if apt_pkg.version_compare(version, info['installed']) <= 0:
                    break
                for cve in set(CVE.findall(text)):
                    # Entries run newest first: the last one seen is the lowest version naming the CVE.
                    fixes[cve] = (version, urgency)
            os.unlink(deb)
            for cve, (version, urgency) in sorted(fixes.items()):
                feed.setdefault(source, {})[cve] = {
                    'description': 'named in the Debian changelog of %s %s (%s)' % (source, version, codename),
                    'scope': 'unknown',
                    'releases': {codename: {'status': 'resolved', 'fixed_version': version, 'urgency': urgency,
                                            'repositories': {codename + '-security': info['candidate']}}},
                }
    with open(output, 'w', encoding='utf-8') as handle:
        json.dump(feed, handle, indent=1, sort_keys=True)
        handle.write('\n')
    print('%s: %d source packages, %d CVEs, from the changelogs of pending security updates on %s' % (
        output, len(feed), sum(len(v) for v in feed.values()), datetime.date.today()))


if __name__ == '__main__':
    main(sys.argv[1])
