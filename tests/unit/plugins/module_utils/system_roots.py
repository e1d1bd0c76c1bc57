"""Temporary system roots (dpkg database, apt sources and lists) and a command runner for the pre-check tests."""
from __future__ import annotations

import os
import subprocess

HALF_CONFIGURED = ('Package: pw-failing\nStatus: install ok half-configured\nPriority: optional\nSection: misc\n'
                   'Maintainer: patchwise <patchwise@example.org>\nArchitecture: all\nVersion: 1.0-1\n'
                   'Description: patchwise testbed fixture package\n\n')


class Runner:
    """Runs commands for real and keeps what was run."""

    def __init__(self):
        self.calls = []

    def __call__(self, args, env=None):
        self.calls.append(args)
        done = subprocess.run(args, env=dict(os.environ, **(env or {})), stdin=subprocess.DEVNULL,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=120, check=False)
        return done.returncode, done.stdout, done.stderr


def dpkg_root(tmp_path, status=HALF_CONFIGURED, postinst=None):
    """A system root whose dpkg database holds ``status``; the package's postinst is ``postinst`` when given."""
    admin = tmp_path / 'var' / 'lib' / 'dpkg'
    for sub in ('info', 'updates', 'triggers'):
        (admin / sub).mkdir(parents=True)
    (admin / 'status').write_text(status)
    (admin / 'available').write_text('')
    for suffix in ('list', 'md5sums'):
        (admin / 'info' / ('pw-failing.%s' % suffix)).write_text('')
    if postinst:
        script = admin / 'info' / 'pw-failing.postinst'
        script.write_text(postinst)
        script.chmod(0o755)
    return str(tmp_path)


def apt_root(tmp_path, source_line):
    """A system root with one file: source (a real, unsigned repository made by apt-ftparchive) and empty lists."""
    repo = tmp_path / 'repo'
    repo.mkdir()
    for index, command in (('Packages', 'packages'), ('Release', 'release')):
        with open(str(repo / index), 'w') as handle:
            subprocess.run(['apt-ftparchive', command, '.'], cwd=str(repo), check=True, stdout=handle)
    root = tmp_path / 'root'
    for sub in ('etc/apt/sources.list.d', 'etc/apt/apt.conf.d', 'var/lib/apt/lists/partial', 'var/cache/apt/archives/partial',
                'var/lib/dpkg'):
        (root / sub).mkdir(parents=True)
    (root / 'var' / 'lib' / 'dpkg' / 'status').write_text('')
    (root / 'etc' / 'apt' / 'sources.list').write_text(source_line % repo + '\n')
    return str(root)


BROKEN_SPEC = """Name: pw-broken
Version: 1.0
Release: 1
Summary: patchwise fixture whose dependency is missing
License: GPL-3.0-or-later
BuildArch: noarch
Requires: pw-missing-library >= 2

%description
A package whose requirement is not installed, as an interrupted transaction leaves it.

%files
"""


def rpm_root(tmp_path, broken=True):
    """A system root with an rpm database; with ``broken`` it holds pw-broken, whose requirement is missing."""
    root = tmp_path / 'rpm-root'
    root.mkdir()
    subprocess.run(['rpm', '--root=%s' % root, '--initdb'], check=True)
    if broken:
        top = tmp_path / 'rpmbuild'
        (top / 'SPECS').mkdir(parents=True)
        (top / 'SPECS' / 'pw-broken.spec').write_text(BROKEN_SPEC)
        subprocess.run(['rpmbuild', '--quiet', '--define', '_topdir %s' % top, '--define', '_build_id_links none', '-bb',
                        str(top / 'SPECS' / 'pw-broken.spec')], check=True, stdout=subprocess.DEVNULL)
        subprocess.run(['rpm', '--root=%s' % root, '--nodeps', '-i', str(top / 'RPMS' / 'noarch' / 'pw-broken-1.0-1.noarch.rpm')],
                       check=True, stderr=subprocess.DEVNULL)
    return str(root)
