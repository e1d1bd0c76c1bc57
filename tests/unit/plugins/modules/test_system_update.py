from __future__ import annotations

from ansible_collections.patchwise.patching.plugins.modules import system_update
from ansible_collections.patchwise.patching.tests.unit.plugins.modules.module_runner import run_module


class FakeBackend:
    """A package manager with pw-demo-security (security) and pw-demo-normal pending, pw-demo-held held."""

    name, scheme, hold_reason = 'fake', 'deb', 'held by the package manager (fake hold)'

    def __init__(self, fail=False, security_needs_failing=False):
        self.security_needs_failing = security_needs_failing
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

    def available_versions(self, names):
        # The sources still carry an intermediate security fix of pw-demo-normal.
        offered = {'pw-demo-security': ['1.0-2'], 'pw-demo-normal': ['1.0-5', '1.1-1'], 'pw-demo-held': ['1.0-2'], 'pw-failing': ['1.0-2']}
        return {name: offered[name] for name in names if name in offered}

    def simulate(self, targets):
        changes = [{'name': t['name'], 'from': self.versions[t['name']], 'to': t['target']} for t in targets]
        if self.security_needs_failing and any(t['name'] == 'pw-demo-security' for t in targets):
            # pw-demo-security's fix needs pw-failing's (a dependency the package manager brings along).
            changes.append({'name': 'pw-failing', 'from': self.versions['pw-failing'], 'to': '1.0-2'})
        return sorted(changes, key=lambda change: change['name'])

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


def test_named_modes_without_packages_fail_clearly_and_an_empty_plan_changes_nothing(monkeypatch):
    outcome = _run(monkeypatch, {'mode': 'packages'}, FakeBackend())
    assert outcome.failed and outcome.result['msg'] == 'mode packages needs the packages to update'
    backend = FakeBackend()
    empty_plan = _run(monkeypatch, {'mode': 'planned'}, backend)
    assert not empty_plan.failed and not empty_plan.result['changed'] and not backend.applied
    assert [r['name'] for r in empty_plan.result['remaining']] == ['pw-demo-held', 'pw-demo-normal', 'pw-demo-security', 'pw-failing']


def test_a_planned_target_is_installed_exactly_when_the_sources_still_carry_it(monkeypatch):
    backend = FakeBackend()
    outcome = _run(monkeypatch, {'mode': 'planned', 'packages': [{'name': 'pw-demo-normal', 'target': '1.0-5'}]}, backend)
    assert outcome.result['changes'] == [{'name': 'pw-demo-normal', 'from': '1.0-1', 'to': '1.0-5'}]
    assert [(s['name'], s['target'], s['requested'], s['match']) for s in outcome.result['selected']] == [
        ('pw-demo-normal', '1.0-5', '1.0-5', 'exact')]
    nearest = _run(monkeypatch, {'mode': 'planned', 'packages': ['pw-demo-normal=1.0-6']}, FakeBackend())
    assert [(s['target'], s['match']) for s in nearest.result['selected']] == [('1.1-1', 'nearest')]


def test_policy_holds_are_applied_in_check_mode_and_for_real_whatever_the_mode(monkeypatch):
    holds = [{'name': 'pw-demo-n*', 'reason': 'upgrade freeze', 'until': '2999-12-31', 'source': 'policy'},
             {'name': 'pw-demo-security', 'reason': 'expired freeze', 'until': '2000-01-01'}]
    for check_mode in (True, False):
        backend = FakeBackend(security_needs_failing=True)
        outcome = _run(monkeypatch, {'mode': 'all', 'holds': holds, 'exclude': ['pw-failing']}, backend, check_mode=check_mode)
        held = {h['name']: h['reason'] for h in outcome.result['held']}
        assert held == {'pw-demo-held': 'held by the package manager (fake hold)',
                        'pw-demo-normal': 'policy hold: upgrade freeze (until 2999-12-31)'}
        # pw-demo-security's hold has expired, but its fix would drag pw-failing along, which the exclusion does not hold.
        assert [s['name'] for s in outcome.result['selected']] == ['pw-demo-security']
        assert backend.versions['pw-demo-normal'] == '1.0-1'
        assert (backend.versions['pw-demo-security'] == '1.0-2') is (not check_mode)


def test_an_update_that_would_drag_a_held_package_along_is_held_too(monkeypatch):
    backend = FakeBackend(security_needs_failing=True)
    holds = [{'name': 'pw-failing', 'reason': 'postinst broken upstream', 'finding': 'CVE-2026-0002', 'source': 'plan'}]
    outcome = _run(monkeypatch, {'mode': 'security', 'holds': holds}, backend)
    assert not outcome.failed and not outcome.result['changed'] and not backend.applied
    reasons = {h['name']: h['reason'] for h in outcome.result['held']}
    assert reasons['pw-failing'] == 'plan hold: postinst broken upstream'
    assert reasons['pw-demo-security'] == 'the selection would also change held pw-failing (plan hold: postinst broken upstream)'


def test_bad_holds_are_refused_naming_the_entry(monkeypatch):
    for holds, message in (([{'name': 'x'}], 'holds[0].reason: must be a non-empty string'),
                           ([{'name': 'x', 'reason': 'r', 'until': 'tomorrow'}], "holds[0].until: 'tomorrow' is not a YYYY-MM-DD date"),
                           ([{'name': 'x', 'reason': 'r', 'untill': '2026-01-01'}], 'holds[0].untill: unknown key')):
        backend = FakeBackend()
        outcome = _run(monkeypatch, {'mode': 'security', 'holds': holds}, backend)
        assert outcome.failed and message in outcome.result['msg'] and not backend.applied
