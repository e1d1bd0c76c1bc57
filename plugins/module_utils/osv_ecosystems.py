# Copyright: patchwise developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Which OSV ecosystems a host's operating system is, from its /etc/os-release.

The names are the OSV schema's own (ossf/osv-schema ``ecosystems.json``):

===============  =================================================  ======================================
os-release ID    OSV ecosystem                                      what the advisories name
===============  =================================================  ======================================
debian           ``Debian:<major>`` (``Debian:12``)                  source packages
ubuntu           ``Ubuntu:<YY.MM>`` + ``:LTS`` for an LTS release;   source packages
                 with Ubuntu Pro (ESM) also ``Ubuntu:Pro:<YY.MM>:LTS``
rhel             ``Red Hat:enterprise_linux:<major>`` - every        binary or source RPMs
                 repository stream of the release
                 (``...::appstream``, ``...::baseos``) applies
almalinux        ``AlmaLinux:<major>``                               binary RPMs: every RPM of the erratum
rocky            ``Rocky Linux:<major>``                             source RPMs
alpine           ``Alpine:v<major>.<minor>`` (``Alpine:v3.20``)      origin (source) packages
sles, sled       ``SUSE:<PRETTY_NAME less "SUSE ">``                 source RPMs
                 (``SUSE:Linux Enterprise Server 15 SP5``)
opensuse-*       ``openSUSE:<PRETTY_NAME less "openSUSE ">``         source RPMs
                 (``openSUSE:Leap 15.5``, ``openSUSE:Tumbleweed``)
===============  =================================================  ======================================

The schema says AlmaLinux names source packages; AlmaLinux's records name the
binary RPMs of the erratum (ALSA-2023:2570 names krb5-libs, never krb5), so
AlmaLinux hosts are matched by binary package and version.  The schema says a
SUSE ecosystem is PRETTY_NAME; the records drop the vendor word PRETTY_NAME
starts with (``SUSE:Package Hub 12`` for "SUSE Package Hub 12").

CentOS Stream, Oracle Linux, Fedora and Amazon Linux have no ecosystem in
OSV's list: their hosts get no ecosystem and a reason that says so, so a
report never shows "no risk" for a system nothing was matched against.
"""

from __future__ import annotations

# os-release ID -> (family, package manager, ecosystem kind or None)
DISTRIBUTIONS = {
    'debian': ('Debian', 'apt', 'debian'),
    'ubuntu': ('Debian', 'apt', 'ubuntu'),
    'rhel': ('RedHat', 'dnf', 'redhat'),
    'almalinux': ('RedHat', 'dnf', 'almalinux'),
    'rocky': ('RedHat', 'dnf', 'rocky'),
    'centos': ('RedHat', 'dnf', None),
    'ol': ('RedHat', 'dnf', None),
    'fedora': ('RedHat', 'dnf', None),
    'amzn': ('RedHat', 'dnf', None),
    'alpine': ('Alpine', 'apk', 'alpine'),
    'sles': ('Suse', 'zypper', 'suse'),
    'sled': ('Suse', 'zypper', 'suse'),
    'sles_sap': ('Suse', 'zypper', 'suse'),
    'opensuse-leap': ('Suse', 'zypper', 'opensuse'),
    'opensuse-tumbleweed': ('Suse', 'zypper', 'opensuse'),
    'opensuse-microos': ('Suse', 'zypper', 'opensuse'),
}
# Ecosystems whose advisories name source packages, so hosts are matched by source package and version;
# the others (AlmaLinux) by binary package and version.
SOURCE_NAMED = ('Debian', 'Ubuntu', 'Rocky Linux', 'Alpine', 'SUSE', 'openSUSE', 'Red Hat')
_NAMES = {'centos': 'CentOS Stream', 'ol': 'Oracle Linux', 'fedora': 'Fedora', 'amzn': 'Amazon Linux'}


def _major(version):
    return version.split('.')[0] if version else ''


def ecosystems_for(os_release, pro=False):
    """``(ecosystems, reason)``: the OSV ecosystems of the host (the first is its own), or [] and why not.

    ``pro``: the host is attached to Ubuntu Pro (ESM sources configured).
    """
    distribution = os_release.get('ID', '')
    kind = DISTRIBUTIONS.get(distribution, (None, None, None))[2]
    version = os_release.get('VERSION_ID', '')
    if distribution in _NAMES:
        return [], 'OSV publishes no advisories for %s (%s): its packages are not matched' % (_NAMES[distribution], distribution)
    if kind is None:
        return [], 'no OSV ecosystem is known for os-release ID %r' % distribution
    if not version and kind not in ('suse', 'opensuse'):
        return [], 'os-release gives no VERSION_ID for %s: the release cannot be told' % distribution
    if kind == 'debian':
        return ['Debian:%s' % _major(version)], None
    if kind == 'ubuntu':
        lts = 'LTS' in os_release.get('VERSION', '')
        own = 'Ubuntu:%s%s' % (version, ':LTS' if lts else '')
        # Ubuntu Pro (ESM) fixes are published under their own ecosystem, for LTS releases.
        return ([own, 'Ubuntu:Pro:%s:LTS' % version] if pro and lts else [own]), None
    if kind == 'redhat':
        return ['Red Hat:enterprise_linux:%s' % _major(version)], None
    if kind == 'almalinux':
        return ['AlmaLinux:%s' % _major(version)], None
    if kind == 'rocky':
        return ['Rocky Linux:%s' % _major(version)], None
    if kind == 'alpine':
        parts = version.split('.')
        if len(parts) < 2:
            return [], 'Alpine VERSION_ID %r has no minor release' % version
        return ['Alpine:v%s.%s' % (parts[0], parts[1])], None
    pretty = os_release.get('PRETTY_NAME', '')
    if not pretty:
        return [], 'os-release gives no PRETTY_NAME for %s: SUSE ecosystems are named after it' % distribution
    vendor = 'SUSE' if kind == 'suse' else 'openSUSE'
    product = pretty[len(vendor) + 1:] if pretty.startswith(vendor + ' ') else pretty
    return ['%s:%s' % (vendor, product)], None


def ecosystem_applies(record_ecosystem, host_ecosystem):
    """Whether an advisory filed under ``record_ecosystem`` applies to a host of ``host_ecosystem``.

    The same release (``Debian:12``); an advisory for the whole distribution
    (``Debian``, ``AlmaLinux``); and for Red Hat, any repository stream of the
    host's release (``Red Hat:enterprise_linux:9::appstream`` for a host of
    ``Red Hat:enterprise_linux:9``).
    """
    if record_ecosystem == host_ecosystem or record_ecosystem == host_ecosystem.split(':', 1)[0]:
        return True
    return host_ecosystem.startswith('Red Hat:') and record_ecosystem.startswith(host_ecosystem + '::')
