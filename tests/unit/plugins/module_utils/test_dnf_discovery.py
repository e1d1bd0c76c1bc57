"""asset_facts' dnf side, with a recorder: what it runs, and how it reads dnf's answers (the real dnf: tests/unit/controller)."""

from __future__ import annotations

import pytest
from ansible_collections.patchwise.patching.plugins.module_utils import dnf_discovery
from ansible_collections.patchwise.patching.plugins.module_utils.dnf_discovery import DnfDiscovery, DnfDiscoveryError

UPDATEINFO = """\
RHSA-2024:4241 Moderate/Sec.  curl-7.76.1-29.el9_4.1.x86_64
RHSA-2024:4300 Important/Sec. curl-7.76.1-29.el9_4.1.x86_64
RHBA-2024:4000 bugfix         curl-7.76.1-29.el9_4.1.x86_64
RHSA-2024:4500 Unknown/Sec.   tzdata-2024a-1.el9.noarch
"""
CHECK_UPDATE = '\ncurl.x86_64  7.76.1-29.el9_4.1  baseos\ntzdata.noarch  2024a-1.el9  baseos\nbash.x86_64  5.1.8-10.el9  baseos\n'
RPM_QA = ('curl\t0\t7.76.1\t26.el9_3.3\tx86_64\tcurl-7.76.1-26.el9_3.3.src.rpm\n'
          'tzdata\t0\t2023c\t1.el9\tnoarch\ttzdata-2023c-1.el9.src.rpm\n'
          'bash\t0\t5.1.8\t9.el9\tx86_64\tbash-5.1.8-9.el9.src.rpm\n')
NEEDS_RESTARTING = '1 : /usr/lib/systemd/systemd --switched-root --system\n812 : /usr/sbin/sshd -D\n812 : /usr/sbin/sshd -D\n'


class Recorder:
    """Answers commands by a distinguishing word sequence found in them, and records them."""

    def __init__(self, answers):
        self.answers, self.calls = answers, []

    def __call__(self, args, env=None):
        self.calls.append(list(args))
        for words, answer in self.answers.items():
            if ' %s ' % words in ' %s ' % ' '.join(args):
                return answer
        raise AssertionError('unexpected command %s' % args)


def test_severities_and_the_highest():
    expected = {('curl', 'x86_64'): {'RHSA-2024:4241': 'Moderate', 'RHSA-2024:4300': 'Important'},
                ('tzdata', 'noarch'): {'RHSA-2024:4500': None}}
    assert dnf_discovery.severities(UPDATEINFO) == expected
    assert dnf_discovery.highest(['Moderate', None, 'Important', 'Low']) == 'Important'
    assert dnf_discovery.highest([None]) is None


def test_updates_carry_the_highest_severity_of_their_security_advisories():
    run = Recorder({'check-update': (100, CHECK_UPDATE, ''), 'updateinfo list': (0, UPDATEINFO, ''), '-qa': (0, RPM_QA, '')})
    updates = {update['name']: update for update in DnfDiscovery(run).updates()}
    assert {name: (u['advisories'], u['severity'], u['security']) for name, u in updates.items()} == {
        'curl': (['RHSA-2024:4241', 'RHSA-2024:4300'], 'Important', True),
        'tzdata': (['RHSA-2024:4500'], None, True),
        'bash': ([], None, False)}
    assert [call[:4] for call in run.calls] == [['dnf', '-q', '-C', 'check-update'], ['dnf', '-q', '-C', 'updateinfo'],
                                                ['rpm', '-qa', '--queryformat', dnf_discovery.asset_system.RPM_QUERY_FORMAT]]


def test_commands_carry_the_installroot(tmp_path):
    run = Recorder({'-qa': (0, '', ''), 'makecache': (0, '', '')})
    discovery = DnfDiscovery(run, root=str(tmp_path))
    discovery.packages()
    discovery.refresh()
    assert run.calls == [['rpm', '--root', str(tmp_path), '-qa', '--queryformat', dnf_discovery.asset_system.RPM_QUERY_FORMAT],
                         ['dnf', '--installroot=%s' % tmp_path, '-q', 'makecache']]


def test_a_missing_cache_is_explained():
    run = Recorder({'check-update': (1, '', "Error: Cache-only enabled but no cache for 'baseos'")})
    with pytest.raises(DnfDiscoveryError, match=r"check-update failed \(rc=1\): .*no cache for 'baseos' \(with no dnf cache yet, use update_cache=true\)"):
        DnfDiscovery(run).updates([])


@pytest.mark.parametrize(('answer', 'expected'), [
    ((0, 'No core libraries or services have been updated since boot-up.\nReboot should not be necessary.\n', ''), (False, [])),
    ((1, 'Core libraries or services have been updated since boot-up:\n  * glibc\n\nReboot is required to fully utilize these updates.\n', ''),
     (True, ['dnf needs-restarting -r: core libraries or services updated since boot-up (glibc)'])),
    ((1, '', 'No such command: needs-restarting. Please use /usr/bin/dnf --help\n'),
     ('unknown', ['dnf needs-restarting -r could not tell (rc 1): No such command: needs-restarting. Please use /usr/bin/dnf --help'])),
    ((1, '', 'Error: rpmdb open failed\n'), ('unknown', ['dnf needs-restarting -r could not tell (rc 1): Error: rpmdb open failed'])),
])
def test_the_reboot_need_fails_closed(answer, expected):
    assert DnfDiscovery(Recorder({'needs-restarting -r': answer})).reboot() == expected


def _proc(tmp_path, pid, comm, cgroup):
    (tmp_path / str(pid)).mkdir()
    (tmp_path / str(pid) / 'comm').write_text(comm + '\n')
    (tmp_path / str(pid) / 'cgroup').write_text(cgroup)


def test_processes_from_needs_restarting_with_their_units(tmp_path):
    _proc(tmp_path, 1, 'systemd', '0::/init.scope\n')
    _proc(tmp_path, 812, 'sshd', '1:name=systemd:/system.slice/sshd.service\n0::/system.slice/sshd.service\n')
    assert dnf_discovery.parse_needs_restarting(NEEDS_RESTARTING) == [1, 812]
    processes, problem = DnfDiscovery(Recorder({'needs-restarting': (0, NEEDS_RESTARTING + '999 : gone\n', '')})).processes(str(tmp_path))
    assert problem is None
    assert processes == [{'pid': 1, 'process': 'systemd', 'unit': None, 'libraries': []},
                         {'pid': 812, 'process': 'sshd', 'unit': 'sshd.service', 'libraries': []}], 'process 999 ended meanwhile'


def test_processes_that_cannot_be_listed_say_why():
    processes, problem = DnfDiscovery(Recorder({'needs-restarting': (1, '', 'No such command: needs-restarting.\n')})).processes()
    assert processes == [] and problem == 'dnf needs-restarting failed (rc 1): No such command: needs-restarting.'
