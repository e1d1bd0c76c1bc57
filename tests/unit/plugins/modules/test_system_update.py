from __future__ import annotations

from ansible_collections.patchwise.patching.plugins.modules import system_update
from ansible_collections.patchwise.patching.tests.unit.plugins.modules.module_runner import run_module


class FakeBackend:
    """A package manager with pw-demo-security (security) and pw-demo-normal pending, pw-demo-held held."""

    name, scheme = 'fake', 'deb'

    def __init__(self, fail=False):
        self.versions = {'pw-demo-security': '1.0-1', 'pw-demo-normal': '1.0-1', 'pw-demo-held': '1.0-1', 'pw-failing': '1.0-1'}
        self.fail, self.applied, self.refreshed, self.repaired = fail, [], False, False

    def installed(self):
        return dict(self.versions)

    def holds(self):
        return ['pw-demo-held']

    def refresh(self):
        self.refreshed = True

    def pending(self):
        pending = [('pw-demo-security', '1.0-2', True), ('pw-demo-normal', '1.1-1', False), ('pw-demo-held', '1.0-2', True),
                   ('pw-failing', '1.0-2', True)]
        return [{'name': n, 'current': self.versions[n], 'available': v, 'security': s, 'origin': 'o'}
                for n, v, s in pending if self.versions[n] != v]

    def simulate(self, targets):
        return [{'name': t['name'], 'from': self.versions[t['name']], 'to': t['target']} for t in targets]

    def apply(self, targets):
        self.applied = targets
        for target in targets:
            self.versions[target['name']] = target['target']
        return (100, 'dpkg: error processing package pw-failing (--configure):\n exit status 1\n') if self.fail else (0, 'ok')

    def explain(self, output):
        return 'pw-failing (--configure): exit status 1'

    def repair(self):
        self.repaired = True
        return {'command': 'dpkg --configure -a', 'rc': 1, 'output': '', 'consistent': False, 'audit': 'pw-failing'}

    def reboot_required(self):
        return True, ['/var/run/reboot-required exists'], []


def _run(monkeypatch, args, backend, check_mode=False):
    monkeypatch.setattr(system_update, '_backend', lambda module, run: backend)
    return run_module(system_update.main, args, check_mode=check_mode)


def test_check_mode_reports_the_simulation_and_changes_nothing(monkeypatch):
    backend = FakeBackend()
    outcome = _run(monkeypatch, {'mode': 'security', 'exclude': ['pw-failing'], 'refresh': True}, backend, check_mode=True)
    assert not outcome.failed and outcome.result['changed']
    assert outcome.result['changes'] == [{'name': 'pw-demo-security', 'from': '1.0-1', 'to': '1.0-2'}]
    assert not backend.applied and not backend.refreshed
    assert [h['name'] for h in outcome.result['held']] == ['pw-demo-held']
    assert [e['name'] for e in outcome.result['excluded']] == ['pw-failing']
    assert [r['name'] for r in outcome.result['remaining']] == ['pw-demo-normal']


def test_apply_reports_old_and_new_versions_then_nothing_on_the_second_run(monkeypatch):
    backend = FakeBackend()
    outcome = _run(monkeypatch, {'mode': 'packages', 'packages': ['pw-demo-normal']}, backend)
    assert outcome.result['changed'] and outcome.result['changes'] == [{'name': 'pw-demo-normal', 'from': '1.0-1', 'to': '1.1-1'}]
    assert outcome.result['previous_versions'] == {'pw-demo-normal': '1.0-1'}
    assert outcome.result['reboot_required'] and outcome.result['reboot_reasons'] == ['/var/run/reboot-required exists']
    again = _run(monkeypatch, {'mode': 'packages', 'packages': ['pw-demo-normal']}, backend)
    assert not again.result['changed'] and again.result['changes'] == []
    assert again.result['unavailable'][0]['name'] == 'pw-demo-normal'


def test_a_failed_installation_is_repaired_and_reported_with_the_previous_versions(monkeypatch):
    backend = FakeBackend(fail=True)
    outcome = _run(monkeypatch, {'mode': 'security'}, backend)
    assert outcome.failed and backend.repaired
    assert outcome.result['msg'] == ('fake failed (rc 100) applying pw-demo-security=1.0-2, pw-failing=1.0-2: '
                                     'pw-failing (--configure): exit status 1; still inconsistent after dpkg --configure -a')
    assert outcome.result['previous_versions'] == {'pw-demo-security': '1.0-1', 'pw-failing': '1.0-1'}
    assert not outcome.result['repair']['consistent']


def test_named_modes_without_packages_fail_clearly(monkeypatch):
    outcome = _run(monkeypatch, {'mode': 'planned'}, FakeBackend())
    assert outcome.failed and outcome.result['msg'] == 'mode planned needs the packages to update'
