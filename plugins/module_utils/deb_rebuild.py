# Copyright: patchwise developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Rebuild the .deb of an installed package from its files on disk (dpkg-repack's method).

Security archives drop superseded versions, so the package a host runs before a patch often
cannot be downloaded again. dpkg keeps everything needed to rebuild it: the file list, the
conffiles, the md5sums, the maintainer scripts and the control fields of the status entry.
Configuration files are taken as they are on disk: a restore should bring back the host's
configuration, not the packager's. Runs on managed hosts: standard library, Python 3.9.
"""

from __future__ import annotations

import os
import shutil
import stat

DPKG_ADMIN_DIR = '/var/lib/dpkg'
# Control members dpkg keeps in its info directory, and the mode dpkg-deb wants for each.
SCRIPT_MEMBERS = ('preinst', 'postinst', 'prerm', 'postrm', 'config')
DATA_MEMBERS = ('templates', 'triggers', 'shlibs', 'symbols')
# Fields of the status database that describe the installation, not the package.
_STATUS_ONLY_FIELDS = ('status', 'conffiles', 'config-version', 'triggers-awaited', 'triggers-pending')


class RebuildError(RuntimeError):
    """The package cannot be rebuilt; the message names the package and what is missing."""


def parse_control(text):
    """[(field, value)] of one deb822 stanza, continuation lines kept verbatim (multi-line Description)."""
    fields = []
    for line in text.splitlines():
        if not line.strip():
            if fields:
                break
            continue
        if line[0] in ' \t' and fields:
            name, value = fields[-1]
            fields[-1] = (name, value + '\n' + line)
        elif ':' in line:
            name, value = line.split(':', 1)
            fields.append((name, value.strip()))
        else:
            raise RebuildError('unexpected line in a control stanza: %r' % line)
    return fields


def package_control(status_text):
    """The DEBIAN/control text of a package from its ``dpkg-query -s`` stanza."""
    fields = [(name, value) for name, value in parse_control(status_text) if name.lower() not in _STATUS_ONLY_FIELDS]
    return ''.join('%s: %s\n' % (name, value) if value else '%s:\n' % name for name, value in fields)


def info_base(package, arch, admin_dir=DPKG_ADMIN_DIR):
    """Path prefix of the package's files in dpkg's info directory (``<pkg>:<arch>`` for Multi-Arch: same)."""
    info = os.path.join(admin_dir, 'info')
    name = package.split(':', 1)[0]
    for candidate in ('%s:%s' % (name, arch), name):
        if os.path.exists(os.path.join(info, candidate + '.list')):
            return os.path.join(info, candidate)
    raise RebuildError('%s: no file list %s.list in %s (is it installed?)' % (package, name, info))


def _read_lines(path):
    try:
        with open(path, encoding='utf-8', errors='surrogateescape') as handle:
            return [line.rstrip('\n') for line in handle if line.strip()]
    except FileNotFoundError:
        return []


def diversions(admin_dir=DPKG_ADMIN_DIR):
    """{diverted path: (divert-to path, diverting package or ':' for local)} from dpkg's diversions file."""
    lines = _read_lines(os.path.join(admin_dir, 'diversions'))
    return {lines[i]: (lines[i + 1], lines[i + 2]) for i in range(0, len(lines) - 2, 3)}


def _real_path(path, package, diverted):
    """Where the package's file really is: a file diverted by another package lives at the divert-to path."""
    if path in diverted:
        divert_to, diverter = diverted[path]
        if diverter != package.split(':', 1)[0]:
            return divert_to
    return path


def _copy_file(source, target, as_root):
    """A regular file into the tree with its owner and mode (mode after chown, which clears setuid bits).

    A copy, not a hard link: linking changes the inode's ctime, and tar inside dpkg-deb fails with
    "file changed as we read it" when another rebuild of the same package links it meanwhile.
    """
    shutil.copy2(source, target)
    info = os.lstat(source)
    if as_root:
        os.lchown(target, info.st_uid, info.st_gid)
    os.chmod(target, stat.S_IMODE(info.st_mode))


def populate_tree(tree, paths, package, diverted, as_root):
    """Recreate the package's paths under ``tree``; returns the paths absent from disk (skipped)."""
    parents = {os.path.dirname(path) for path in paths}
    skipped = []
    for path in sorted(paths):
        source = _real_path(path, package, diverted)
        target = tree + path
        try:
            info = os.lstat(source)
            if path in parents and stat.S_ISLNK(info.st_mode):
                # usrmerge: /bin is a link on disk but a directory in the package.
                info = os.stat(source)
        except FileNotFoundError:
            skipped.append(path)
            continue
        if not os.path.isdir(os.path.dirname(target)):
            # A parent dpkg does not list (the package was built that way); make it like a packaged one.
            os.makedirs(os.path.dirname(target), mode=0o755)
        if stat.S_ISDIR(info.st_mode):
            os.mkdir(target)
            if as_root:
                os.lchown(target, info.st_uid, info.st_gid)
            os.chmod(target, stat.S_IMODE(info.st_mode))
        elif stat.S_ISLNK(info.st_mode):
            os.symlink(os.readlink(source), target)
            if as_root:
                os.lchown(target, info.st_uid, info.st_gid)
        elif stat.S_ISREG(info.st_mode):
            try:
                _copy_file(source, target, as_root)
            except FileNotFoundError:
                skipped.append(path)
        else:
            # Device nodes and fifos are not shipped in packages any more; nothing sensible to rebuild.
            skipped.append(path)
    return skipped


def _write(path, text, mode):
    with open(path, 'w', encoding='utf-8', errors='surrogateescape') as handle:
        handle.write(text)
    os.chmod(path, mode)


def write_control_members(debian_dir, base, control, present):
    """DEBIAN/: control, conffiles and md5sums limited to the files present, maintainer scripts as installed."""
    os.mkdir(debian_dir)
    os.chmod(debian_dir, 0o755)  # noqa: S103 (dpkg-deb requires 0755 for DEBIAN/)
    _write(os.path.join(debian_dir, 'control'), control, 0o644)
    conffiles = [line for line in _read_lines(base + '.conffiles') if line.split()[-1] in present]
    if conffiles:
        _write(os.path.join(debian_dir, 'conffiles'), '\n'.join(conffiles) + '\n', 0o644)
    md5sums = [line for line in _read_lines(base + '.md5sums') if '/' + line.split(None, 1)[-1].lstrip('/') in present]
    if md5sums:
        _write(os.path.join(debian_dir, 'md5sums'), '\n'.join(md5sums) + '\n', 0o644)
    for member in SCRIPT_MEMBERS + DATA_MEMBERS:
        source = '%s.%s' % (base, member)
        if os.path.exists(source):
            target = os.path.join(debian_dir, member)
            shutil.copyfile(source, target)
            os.chmod(target, 0o755 if member in SCRIPT_MEMBERS else 0o644)


def rebuild(package, run, work_dir, output, admin_dir=DPKG_ADMIN_DIR):
    """Rebuild installed ``package`` (``name`` or ``name:arch``) as the .deb ``output``.

    ``run(args)`` runs a command and returns (rc, stdout, stderr). ``work_dir`` must be on a file
    system the caller owns; the build tree is made and removed inside it. Returns
    {control: [(field, value)], skipped: [paths listed by dpkg but absent on disk]}.
    """
    rc, status_text, err = run(['dpkg-query', '--admindir', admin_dir, '-s', package])
    if rc != 0:
        raise RebuildError('%s: dpkg-query -s failed (rc %s): %s' % (package, rc, err.strip() or status_text.strip()))
    fields = dict((name.lower(), value) for name, value in parse_control(status_text))
    if not fields.get('status', '').endswith(' installed'):
        raise RebuildError('%s is not fully installed (status: %s)' % (package, fields.get('status', 'unknown')))
    base = info_base(package, fields.get('architecture', ''), admin_dir)
    paths = [line for line in _read_lines(base + '.list') if line not in ('/.', '/')]
    tree = os.path.join(work_dir, 'tree')
    os.mkdir(tree)
    try:
        os.chmod(tree, 0o755)  # noqa: S103 (the package's root directory, as dpkg-deb builds it)
        as_root = os.geteuid() == 0
        skipped = populate_tree(tree, paths, package, diversions(admin_dir), as_root)
        present = set(paths) - set(skipped)
        control = package_control(status_text)
        write_control_members(os.path.join(tree, 'DEBIAN'), base, control, present)
        # As root the tree carries the installed owners (root:shadow setgid helpers, ...); otherwise
        # everything becomes root's, as in a package built without fakeroot.
        build = ['dpkg-deb', '-Zgzip', '--build', *([] if as_root else ['--root-owner-group']), tree, output]
        rc, out, err = run(build)
        if rc != 0:
            raise RebuildError('%s: dpkg-deb --build failed (rc %s): %s' % (package, rc, (err or out).strip()[-2000:]))
    finally:
        shutil.rmtree(tree, ignore_errors=True)
    return {'control': parse_control(control), 'skipped': skipped}
