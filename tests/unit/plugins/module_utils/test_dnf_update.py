"""The dnf backend's parsers, on output captured from dnf 4.14 / rpm 4.18, and its commands, with a recorder."""

from __future__ import annotations

import pytest
from ansible_collections.patchwise.patching.plugins.module_utils import dnf_update
from ansible_collections.patchwise.patching.plugins.module_utils.dnf_update import DnfBackend, DnfError

TRANSACTION = """\
Last metadata expiration check: 0:01:18 ago on Sun Nov 29 01:31:22 2026.
Dependencies resolved.
================================================================================
 Package                    Architecture     Version         Repository    Size
================================================================================
Upgrading:
 pw-demo-normal             noarch           1.1-1           pw           6.0 k
 pw-demo-security           noarch           1.0-2           pw           6.0 k
Installing dependencies:
 a-dependency-with-a-name-too-long-for-the-column
                            x86_64           1:2.0-3.el9     baseos        10 k
Removing:
 pw-old                     noarch           0.9-1           @pw           23
     replacing  pw-older.noarch 0.8-1

Transaction Summary
================================================================================
Upgrade  2 Packages
Install  1 Package
Remove   1 Package

Total size: 12 k
"""

SCRIPTLET_OUTPUT = """\
  Upgrading        : pw-failing-1.0-2.noarch                                1/2
  Running scriptlet: pw-failing-1.0-2.noarch                                1/2
error: lua script failed: [string "%post(pw-failing-1.0-2.noarch)"]:1: pw-failing: the post-install step fails on purpose

  Cleanup          : pw-failing-1.0-1.noarch                                2/2
Complete!
Error in POSTIN scriptlet in rpm package pw-failing
"""

REBOOT_NEEDED = """\
Core libraries or services have been updated since boot-up:
  * glibc
  * kernel

Reboot is required to fully utilize these updates.
More information: https://access.redhat.com/solutions/27943
"""


def test_parse_rpm_query_leaves_keys_out():
    text = 'pw-demo\t1.0-1\tnoarch\ngpg-pubkey\t7b55ca86-6b0b811c\t(none)\nopenssl-libs\t1:3.0.7-25.el9\tx86_64\nbroken line\n'
    assert dnf_update.parse_rpm_query(text) == [
        {'name': 'pw-demo', 'version': '1.0-1', 'arch': 'noarch'},
        {'name': 'openssl-libs', 'version': '1:3.0.7-25.el9', 'arch': 'x86_64'}]


def test_newest_by_name_takes_the_newest_of_several_kernels_and_arches():
    packages = [{'name': 'kernel', 'version': '5.14.0-427.el9', 'arch': 'x86_64'},
                {'name': 'kernel', 'version': '5.14.0-503.el9', 'arch': 'x86_64'},
                {'name': 'kernel', 'version': '5.14.0-70.el9', 'arch': 'x86_64'},
                {'name': 'glibc', 'version': '2.34-100.el9', 'arch': 'i686'},
                {'name': 'glibc', 'version': '2.34-105.el9', 'arch': 'x86_64'}]
    assert dnf_update.newest_by_name(packages) == {'kernel': '5.14.0-503.el9', 'glibc': '2.34-105.el9'}


def test_parse_versionlock_list():
    text = ('\n# Added lock on Sun Nov 29 01:32:37 2026\npw-demo-held-0:1.0-1.*\nkernel-5.14.0-427.el9.*\n'
            'openssl-libs-1:3.0.7-25.el9.x86_64\n!pw-bad-0:2.0-1.*\nhttpd\nmy-web-app*\n')
    assert dnf_update.parse_versionlock_list(text) == ['pw-demo-held', 'kernel', 'openssl-libs', 'httpd', 'my-web-app*']


def test_config_excludes_reads_both_options_of_main_only():
    text = '[main]\ngpgcheck=1\nexclude=kernel* php\nexcludepkgs = httpd,nginx\n\n[other]\nexclude=nope\n'
    assert dnf_update.config_excludes(text) == ['kernel*', 'php', 'httpd', 'nginx']
    assert dnf_update.config_excludes('[other]\nexclude=x\n') == []


def test_names_matching_expands_patterns_over_installed_names():
    assert dnf_update.names_matching(['kernel*', 'php'], ['kernel', 'kernel-core', 'bash']) == {'kernel', 'kernel-core', 'php'}


def test_parse_transaction_joins_wrapped_names_and_skips_replacing_lines():
    assert dnf_update.parse_transaction(TRANSACTION) == [
        ('Upgrading', 'pw-demo-normal', '1.1-1'),
        ('Upgrading', 'pw-demo-security', '1.0-2'),
        ('Installing', 'a-dependency-with-a-name-too-long-for-the-column', '1:2.0-3.el9'),
        ('Removing', 'pw-old', '0.9-1')]


def test_transaction_changes_take_the_current_versions_from_installed():
    installed = {'pw-demo-normal': '1.0-1', 'pw-demo-security': '1.0-1', 'pw-old': '0.9-1'}
    assert dnf_update.transaction_changes(TRANSACTION, installed) == [
        {'name': 'a-dependency-with-a-name-too-long-for-the-column', 'from': None, 'to': '1:2.0-3.el9'},
        {'name': 'pw-demo-normal', 'from': '1.0-1', 'to': '1.1-1'},
        {'name': 'pw-demo-security', 'from': '1.0-1', 'to': '1.0-2'},
        {'name': 'pw-old', 'from': '0.9-1', 'to': None}]


def test_scriptlet_errors_and_the_explanation():
    assert dnf_update.scriptlet_errors(SCRIPTLET_OUTPUT) == [('POSTIN', 'pw-failing')]
    assert dnf_update.explain_failure(SCRIPTLET_OUTPUT) == 'POSTIN scriptlet of pw-failing failed'
    resolve = 'Last metadata expiration check\nError: \n Problem: conflicting requests\n  - nothing provides /bin/sh needed by x\n'
    assert dnf_update.explain_failure(resolve) == 'Problem: conflicting requests - nothing provides /bin/sh needed by x'
    assert dnf_update.explain_failure('one\nlast words\n') == 'last words'


def test_parse_needs_restarting_reboot():
    assert dnf_update.parse_needs_restarting_reboot(1, REBOOT_NEEDED) == (
        True, ['dnf needs-restarting -r: core libraries or services updated since boot-up (glibc, kernel)'], ['glibc', 'kernel'])
    none = 'No core libraries or services have been updated since boot-up.\nReboot should not be necessary.\n'
    assert dnf_update.parse_needs_restarting_reboot(0, none) == (False, [], [])
    required, reasons, _packages = dnf_update.parse_needs_restarting_reboot(1, 'No such command: needs-restarting.\n')
    assert required is None and 'could not tell' in reasons[0]


class Recorder:
    """Answers commands from a table {first distinguishing word: (rc, out, err)} and records them."""

    def __init__(self, answers):
        self.answers, self.calls = answers, []

    def __call__(self, args, env=None):
        self.calls.append(list(args))
        for word, answer in self.answers.items():
            if word in args:
                return answer
        return 0, '', ''


def test_commands_carry_the_installroot_and_never_see_held_packages_only_when_listing(tmp_path):
    (tmp_path / 'etc' / 'dnf' / 'plugins').mkdir(parents=True)
    recorder = Recorder({'check-update': (100, '', ''), '-qa': (0, '', '')})
    backend = DnfBackend(recorder, root=str(tmp_path))
    backend.pending()
    backend.apply([{'name': 'pw-demo', 'target': '1:1.0-2'}])
    root_options = ['--installroot=%s' % tmp_path, '--setopt=pluginconfpath=%s' % (tmp_path / 'etc' / 'dnf' / 'plugins')]
    assert recorder.calls[0] == ['dnf', *root_options, '-q', 'check-update', '--disableexcludes=all', '--disableplugin=versionlock']
    assert ['rpm', '--root', str(tmp_path), '-qa'] == recorder.calls[2][:4]
    install = recorder.calls[-1]
    assert install == ['dnf', '-y', *root_options, '--setopt=install_weak_deps=False', 'install', 'pw-demo-1:1.0-2']
    assert not any(option.startswith('--disable') for option in install)


def test_check_update_error_is_raised():
    backend = DnfBackend(Recorder({'check-update': (1, '', 'Error: Failed to download metadata for repo')}))
    with pytest.raises(DnfError, match='Failed to download metadata'):
        backend.pending()


def test_holds_without_the_versionlock_plugin_are_the_config_excludes(tmp_path):
    (tmp_path / 'etc' / 'dnf').mkdir(parents=True)
    (tmp_path / 'etc' / 'dnf' / 'dnf.conf').write_text('[main]\nexclude=kernel*\n')
    recorder = Recorder({'versionlock': (2, '', 'No such command: versionlock.'),
                         '-qa': (0, 'kernel\t5.14.0-1\tx86_64\nkernel-core\t5.14.0-1\tx86_64\nbash\t5.1-1\tx86_64\n', '')})
    assert DnfBackend(recorder, root=str(tmp_path)).holds() == ['kernel', 'kernel-core']


def test_a_scriptlet_failure_turns_a_zero_exit_into_a_failure():
    backend = DnfBackend(Recorder({'install': (0, 'Complete!\n', 'Error in POSTIN scriptlet in rpm package pw-failing\n')}))
    rc, output = backend.apply([{'name': 'pw-failing', 'target': '1.0-2'}])
    assert rc == 1 and output.startswith('dnf exited 0, but rpm reported failed scriptlets: POSTIN of pw-failing')


def test_simulate_raises_when_dnf_cannot_resolve():
    backend = DnfBackend(Recorder({'--assumeno': (1, '', 'Error: \n Problem: nothing provides libfoo')}))
    with pytest.raises(DnfError, match='nothing provides libfoo'):
        backend.simulate([{'name': 'x', 'target': '1-1'}])


def test_audit_is_clean_on_a_zero_exit_even_with_warnings():
    warning = 'Unable to detect release version (use \'--releasever\' to specify release version)\n'
    assert DnfBackend(Recorder({'check': (0, '', warning)})).audit() == ''
    problem = 'pw-demo-1.0-1.noarch is a duplicate with pw-demo-1.1-1.noarch\n'
    assert DnfBackend(Recorder({'check': (1, problem, 'Error: Check discovered 1 problem(s)\n')})).audit() == (
        problem + 'Error: Check discovered 1 problem(s)')


def test_repair_removes_duplicates_only_when_the_check_finds_some():
    recorder = Recorder({'--duplicates': (0, '', '')})
    repair = DnfBackend(recorder).repair()
    assert repair['command'] == 'dnf check --duplicates' and repair['consistent'] is True
    assert not any('remove' in call for call in recorder.calls)


def test_parse_repoquery_versions_keeps_epochs_and_each_version_once():
    from ansible_collections.patchwise.patching.plugins.module_utils.dnf_update import parse_repoquery_versions

    text = 'openssl-libs 1:3.0.7-24.el9\nopenssl-libs 1:3.0.7-25.el9\nopenssl-libs 1:3.0.7-25.el9\nbash 5.1.8-9.el9\n\nnoise\n'
    assert parse_repoquery_versions(text) == {'openssl-libs': ['1:3.0.7-24.el9', '1:3.0.7-25.el9'], 'bash': ['5.1.8-9.el9']}


def test_reboot_required_is_unknown_when_needs_restarting_cannot_tell():
    backend = DnfBackend(Recorder({'needs-restarting': (1, '', 'No such command: needs-restarting.\n')}))
    required, reasons, packages = backend.reboot_required()
    assert (required, packages) == ('unknown', []) and reasons == ['dnf needs-restarting -r could not tell (rc 1): No such command: needs-restarting.']
