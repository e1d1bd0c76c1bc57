"""DnfBackend against a real RPM-managed test host: a ``dnf --installroot`` on this Debian machine.

The test host (signed repository, template root, a copy per test: fixture ``root``) is built by
``dnf_installroot``; this folder's conftest provides its fixtures.
"""

from __future__ import annotations

import os
import shutil

import pytest
from ansible_collections.patchwise.patching.plugins.module_utils import update_selection
from ansible_collections.patchwise.patching.plugins.module_utils.dnf_update import DnfBackend, DnfError
from ansible_collections.patchwise.patching.plugins.modules import system_update
from ansible_collections.patchwise.patching.tests.unit.controller.dnf_installroot import checked, run
from ansible_collections.patchwise.patching.tests.unit.plugins.modules.module_runner import run_module


@pytest.fixture()
def backend(root):
    return DnfBackend(run, root=str(root))


def _file(root, path):
    return (root / path.lstrip('/')).read_text()


def test_the_test_host_is_rpm_managed_signed_and_locked(root, backend):
    installed = backend.installed()
    assert {name: installed[name] for name in ('pw-demo-security', 'pw-demo-normal', 'pw-demo-held', 'pw-failing')} == {
        'pw-demo-security': '1.0-1', 'pw-demo-normal': '1.0-1', 'pw-demo-held': '1.0-1', 'pw-failing': '1.0-1'}
    assert 'gpg-pubkey' not in installed
    signature = checked(['rpm', '--root', str(root), '-q', '--qf', '%{RSAHEADER:pgpsig}', 'pw-demo-security'])
    assert signature.startswith('RSA/SHA512'), signature
    assert os.path.getsize(str(root / 'etc' / 'dnf' / 'plugins' / 'versionlock.list')) > 0
    assert not open('/etc/dnf/plugins/versionlock.list').read().count('pw-demo-held'), 'the lock stays in the root'


def test_pending_lists_every_update_with_security_from_updateinfo(backend):
    pending = {update['name']: update for update in backend.pending()}
    assert sorted(pending) == ['pw-demo-held', 'pw-demo-normal', 'pw-demo-security', 'pw-failing']
    assert {name: (u['current'], u['available'], u['security']) for name, u in pending.items()} == {
        'pw-demo-held': ('1.0-1', '1.0-2', True),
        'pw-demo-normal': ('1.0-1', '1.1-1', False),
        'pw-demo-security': ('1.0-1', '1.0-2', True),
        'pw-failing': ('1.0-1', '1.0-2', False),
    }
    assert pending['pw-demo-security']['advisories'] == ['PWSA-2026:0001']
    assert pending['pw-demo-normal']['origin'] == 'pw'


def test_holds_are_the_versionlock_and_the_config_excludes(root, backend):
    assert backend.holds() == ['pw-demo-held']
    conf = root / 'etc' / 'dnf' / 'dnf.conf'
    conf.write_text(conf.read_text() + 'excludepkgs=pw-fail*\n')
    assert backend.holds() == ['pw-demo-held', 'pw-failing']
    assert 'pw-failing' in {update['name'] for update in backend.pending()}, 'an excluded update is still listed'


def test_security_mode_applies_only_the_security_update_and_leaves_the_held_one(backend):
    before = backend.installed()
    selection = update_selection.select_updates(backend.pending(), 'security', holds=backend.holds(), scheme=backend.scheme)
    assert [update['name'] for update in selection['selected']] == ['pw-demo-security']
    assert [update['name'] for update in selection['held']] == ['pw-demo-held']
    assert sorted(update['name'] for update in selection['remaining']) == ['pw-demo-normal', 'pw-failing']
    rc, output = backend.apply(selection['selected'])
    assert rc == 0, output
    after = backend.installed()
    assert update_selection.package_changes(before, after) == [{'name': 'pw-demo-security', 'from': '1.0-1', 'to': '1.0-2'}]
    assert after['pw-demo-normal'] == '1.0-1' and after['pw-demo-held'] == '1.0-1'
    assert sorted(update['name'] for update in backend.pending()) == ['pw-demo-held', 'pw-demo-normal', 'pw-failing']
    assert backend.audit() == ''


def test_all_mode_upgrades_the_normal_update_too_and_keeps_the_modified_config(root, backend):
    (root / 'etc' / 'pw-demo-normal.conf').write_text('setting=edited on the host\n')
    selection = update_selection.select_updates(backend.pending(), 'all', holds=backend.holds(), exclude=['pw-fail*'],
                                                scheme=backend.scheme)
    assert [update['name'] for update in selection['selected']] == ['pw-demo-normal', 'pw-demo-security']
    assert [update['name'] for update in selection['held']] == ['pw-demo-held']
    assert [update['name'] for update in selection['excluded']] == ['pw-failing']
    rc, output = backend.apply(selection['selected'])
    assert rc == 0, output
    installed = backend.installed()
    assert (installed['pw-demo-normal'], installed['pw-demo-security'], installed['pw-demo-held']) == ('1.1-1', '1.0-2', '1.0-1')
    assert _file(root, '/etc/pw-demo-normal.conf') == 'setting=edited on the host\n'
    assert _file(root, '/etc/pw-demo-normal.conf.rpmnew') == 'setting=1.1\n'
    assert [update['name'] for update in backend.pending()] == ['pw-demo-held', 'pw-failing']


def test_keep_config_false_installs_the_packages_config_and_saves_the_hosts(root):
    (root / 'etc' / 'pw-demo-normal.conf').write_text('setting=edited on the host\n')
    backend = DnfBackend(run, keep_config=False, root=str(root))
    rc, output = backend.apply([{'name': 'pw-demo-normal', 'target': '1.1-1'}])
    assert rc == 0, output
    assert _file(root, '/etc/pw-demo-normal.conf') == 'setting=1.1\n'
    assert _file(root, '/etc/pw-demo-normal.conf.rpmsave') == 'setting=edited on the host\n'
    assert not (root / 'etc' / 'pw-demo-normal.conf.rpmnew').exists()
    assert '/etc/pw-demo-normal.conf' in output


def test_a_held_package_is_never_installed_even_when_asked_for(backend):
    rc, output = backend.apply([{'name': 'pw-demo-held', 'target': '1.0-2'}])
    assert rc != 0, output
    assert backend.installed()['pw-demo-held'] == '1.0-1'


def test_simulate_reports_the_changes_and_changes_nothing(root, backend):
    rpmdb = checked(['rpm', '--root', str(root), '-qa'])
    before = backend.installed()
    changes = backend.simulate([{'name': 'pw-demo-security', 'target': '1.0-2'}, {'name': 'pw-demo-normal', 'target': '1.1-1'}])
    assert changes == [{'name': 'pw-demo-normal', 'from': '1.0-1', 'to': '1.1-1'},
                       {'name': 'pw-demo-security', 'from': '1.0-1', 'to': '1.0-2'}]
    assert backend.installed() == before
    assert checked(['rpm', '--root', str(root), '-qa']) == rpmdb


def test_a_failing_post_scriptlet_is_reported_as_a_failure_and_the_rpmdb_stays_consistent(backend):
    before = backend.installed()
    rc, output = backend.apply([{'name': 'pw-failing', 'target': '1.0-2'}])
    # rpm installs the package and only warns; dnf exits 0.  The backend reports the run as failed.
    assert rc == 1
    assert output.startswith('dnf exited 0, but rpm reported failed scriptlets: POSTIN of pw-failing')
    assert 'fails on purpose' in output
    assert backend.explain(output) == 'POSTIN scriptlet of pw-failing failed'
    assert update_selection.package_changes(before, backend.installed()) == [{'name': 'pw-failing', 'from': '1.0-1', 'to': '1.0-2'}]
    repair = backend.repair()
    assert repair['rc'] == 0 and repair['consistent'] is True and repair['audit'] == ''
    assert repair['command'] == 'dnf check --duplicates'


def test_repair_completes_an_interrupted_upgrade_that_left_duplicates(root, signed_repository, backend):
    repo, _key = signed_repository
    # What an upgrade interrupted between installing the new and erasing the old version leaves: both in the rpmdb.
    checked(['rpm', '--root', str(root), '-i', '--justdb', '--nodeps', '--replacefiles', str(repo / 'pw-demo-normal-1.1-1.noarch.rpm')])
    assert 'duplicate' in backend.audit()
    repair = backend.repair()
    assert repair['rc'] == 0, repair
    assert repair['command'] == 'dnf -y remove --duplicates'
    assert repair['consistent'] is True and backend.audit() == ''
    assert checked(['rpm', '--root', str(root), '-q', 'pw-demo-normal']).split() == ['pw-demo-normal-1.1-1.noarch']


def test_reboot_required_follows_needs_restarting(root, backend):
    assert backend.reboot_required() == (False, [], [])
    # Packages listed in the root's needs-restarting.d count as core packages, like kernel and glibc;
    # pw-demo-security was installed after this machine booted.
    folder = root / 'etc' / 'dnf' / 'plugins' / 'needs-restarting.d'
    folder.mkdir()
    (folder / 'pw.conf').write_text('pw-demo-security\n')
    required, reasons, packages = backend.reboot_required()
    assert required is True and packages == ['pw-demo-security']
    assert 'pw-demo-security' in reasons[0]


def test_no_service_of_the_test_host_needs_a_restart(backend):
    # No process of this machine runs files of the installroot's packages.
    assert backend.services_needing_restart() == []


def test_an_unsigned_package_is_refused_by_the_gpgcheck_of_the_test_host(root, signed_repository, backend, tmp_path):
    repo, _key = signed_repository
    # A copy of the repository whose pw-demo-normal 1.1-1 lost its signature; the metadata is signed again.
    unsigned = tmp_path / 'unsigned-repo'
    shutil.copytree(str(repo), str(unsigned))
    checked(['rpmsign', '--delsign', str(unsigned / 'pw-demo-normal-1.1-1.noarch.rpm')])
    checked(['createrepo_c', '-q', '--update', '--keep-all-metadata', str(unsigned)])
    repo_file = root / 'etc' / 'yum.repos.d' / 'pw.repo'
    repo_file.write_text(repo_file.read_text().replace('file://%s\n' % repo, 'file://%s\n' % unsigned).replace(
        'repo_gpgcheck=1', 'repo_gpgcheck=0'))
    checked(['dnf', '--installroot=%s' % root, '-q', 'clean', 'all'])
    rc, output = backend.apply([{'name': 'pw-demo-normal', 'target': '1.1-1'}])
    assert rc != 0
    assert 'not signed' in output, output
    assert backend.installed()['pw-demo-normal'] == '1.0-1'


def test_a_repository_whose_metadata_signature_does_not_verify_is_refused(root, signed_repository, backend, tmp_path):
    repo, _key = signed_repository
    forged = tmp_path / 'forged-repo'
    shutil.copytree(str(repo), str(forged))
    repomd = forged / 'repodata' / 'repomd.xml'
    repomd.write_text(repomd.read_text().replace('<revision>', '<revision>1'))
    repo_file = root / 'etc' / 'yum.repos.d' / 'pw.repo'
    repo_file.write_text(repo_file.read_text().replace('file://%s\n' % repo, 'file://%s\n' % forged))
    checked(['dnf', '--installroot=%s' % root, '-q', 'clean', 'all'])
    with pytest.raises(DnfError, match=r'repomd\.xml GPG signature verification error: Bad GPG signature'):
        backend.refresh()


def test_the_module_applies_the_security_update_on_the_dnf_root(root, backend):
    outcome = run_module(system_update.main, {'mode': 'security', 'manager': 'dnf', 'root': str(root)})
    result = outcome.result
    assert not outcome.failed, result
    assert result['manager'] == 'dnf' and result['changed'] is True
    assert result['changes'] == [{'name': 'pw-demo-security', 'from': '1.0-1', 'to': '1.0-2'}]
    assert result['previous_versions'] == {'pw-demo-security': '1.0-1'}
    assert [update['name'] for update in result['held']] == ['pw-demo-held']
    assert sorted(update['name'] for update in result['remaining']) == ['pw-demo-normal', 'pw-failing']
    assert result['reboot_required'] is False
    assert backend.installed()['pw-demo-held'] == '1.0-1'
    again = run_module(system_update.main, {'mode': 'security', 'manager': 'dnf', 'root': str(root)})
    assert again.result['changed'] is False and again.result['changes'] == [], 'a second run changes nothing'


def test_the_module_in_check_mode_reports_the_plan_and_changes_nothing(root, backend):
    before = backend.installed()
    outcome = run_module(system_update.main, {'mode': 'all', 'manager': 'dnf', 'root': str(root), 'exclude': ['pw-failing']},
                         check_mode=True)
    assert not outcome.failed, outcome.result
    assert outcome.result['changes'] == [{'name': 'pw-demo-normal', 'from': '1.0-1', 'to': '1.1-1'},
                                         {'name': 'pw-demo-security', 'from': '1.0-1', 'to': '1.0-2'}]
    assert [update['name'] for update in outcome.result['excluded']] == ['pw-failing']
    assert backend.installed() == before


def test_the_module_fails_on_a_failing_scriptlet_with_the_reason_and_the_repair(root):
    outcome = run_module(system_update.main, {'mode': 'packages', 'packages': ['pw-failing'], 'manager': 'dnf', 'root': str(root)})
    assert outcome.failed
    result = outcome.result
    assert result['msg'] == 'dnf failed (rc 1) applying pw-failing=1.0-2: POSTIN scriptlet of pw-failing failed'
    assert result['changes'] == [{'name': 'pw-failing', 'from': '1.0-1', 'to': '1.0-2'}]
    assert result['previous_versions'] == {'pw-failing': '1.0-1'}
    assert result['repair']['consistent'] is True and result['repair']['command'] == 'dnf check --duplicates'


def test_the_repository_offers_every_version_of_a_package(backend):
    offered = backend.available_versions(['pw-demo-normal', 'pw-demo-held', 'pw-absent'])
    assert sorted(offered['pw-demo-normal']) == ['1.0-1', '1.0-5', '1.1-1']
    assert sorted(offered['pw-demo-held']) == ['1.0-1', '1.0-2'], 'a versionlocked package is still listed (and reported held)'
    assert 'pw-absent' not in offered


def test_the_module_installs_the_plans_exact_target_not_the_newest(root, backend):
    plan = [{'name': 'pw-demo-normal', 'target': '1.0-5'}, {'name': 'pw-demo-security', 'target': '1.0-2'}]
    outcome = run_module(system_update.main, {'mode': 'planned', 'packages': plan, 'manager': 'dnf', 'root': str(root)})
    result = outcome.result
    assert not outcome.failed, result
    assert result['changes'] == [{'name': 'pw-demo-normal', 'from': '1.0-1', 'to': '1.0-5'},
                                 {'name': 'pw-demo-security', 'from': '1.0-1', 'to': '1.0-2'}]
    assert [(s['name'], s['match']) for s in result['selected']] == [('pw-demo-normal', 'exact'), ('pw-demo-security', 'exact')]
    assert backend.installed()['pw-demo-normal'] == '1.0-5'
    again = run_module(system_update.main, {'mode': 'planned', 'packages': plan, 'manager': 'dnf', 'root': str(root)})
    assert again.result['changed'] is False, 'the plan reached: a second run changes nothing'


def test_the_module_applies_policy_holds_in_check_mode_and_for_real(root, backend):
    holds = [{'name': 'pw-demo-sec*', 'reason': 'regression in 1.0-2', 'until': '2999-01-01', 'finding': 'PWSA-2026:0001'}]
    args = {'mode': 'security', 'manager': 'dnf', 'root': str(root), 'holds': holds}
    for check_mode in (True, False):
        outcome = run_module(system_update.main, args, check_mode=check_mode)
        result = outcome.result
        assert not outcome.failed, result
        assert result['changed'] is False and result['changes'] == []
        assert {h['name']: h['reason'] for h in result['held']} == {
            'pw-demo-held': 'held by the package manager (dnf versionlock or exclude)',
            'pw-demo-security': 'policy hold: regression in 1.0-2 (until 2999-01-01)'}
    assert backend.installed()['pw-demo-security'] == '1.0-1'


def test_the_module_reports_an_unknown_reboot_need_without_needs_restarting(root):
    # What a host without dnf-plugins-core's needs-restarting looks like to dnf: never "no reboot needed".
    (root / 'etc' / 'dnf' / 'plugins' / 'needs-restarting.conf').write_text('[main]\nenabled = 0\n')
    outcome = run_module(system_update.main, {'mode': 'security', 'manager': 'dnf', 'root': str(root)})
    assert not outcome.failed, outcome.result
    assert outcome.result['changes'] == [{'name': 'pw-demo-security', 'from': '1.0-1', 'to': '1.0-2'}]
    assert outcome.result['reboot_required'] == 'unknown'
    assert len(outcome.result['reboot_reasons']) == 1
    assert outcome.result['reboot_reasons'][0].startswith('dnf needs-restarting -r could not tell (rc 1): No such command: needs-restarting')
    assert outcome.result['reboot_reasons'][0].endswith('try: "dnf install \'dnf-command(needs-restarting)\'"')
