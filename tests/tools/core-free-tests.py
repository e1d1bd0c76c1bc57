"""Print the unit test files (of those named) that never reach ansible-core, one per line.

A test reaches ansible-core when its file, a conftest.py above it, or anything of this
collection they import (followed to the end) imports ``ansible`` or ``ansible.*`` or another
collection, or names
an ansible command (ansible-playbook, ansible-doc, ...) or an FQCN in a string it could run.
Such tests check the same code under every ansible-core, so the suite runs them under one
(``make units-2.18`` leaves them out).  The analysis reads the sources (ast), imports nothing,
and errs towards "reaches": a test it cannot place is run under every core.

Usage: python3 tests/tools/core-free-tests.py TEST_FILE_OR_DIR...   (paths relative to the collection root)
"""

from __future__ import annotations

import ast
import functools
import os
import re
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PACKAGE = 'ansible_collections.patchwise.patching'
# A command line or a playbook in a string: ansible's commands (ansible, ansible-playbook, ...) and FQCNs (ansible.builtin.ping).
COMMAND = re.compile(r'\bansible(-[a-z]+)?\b(?![_/])')


def _path_of(module):
    """The file of one of this collection's modules, or None (not ours, or not a file)."""
    if module != PACKAGE and not module.startswith(PACKAGE + '.'):
        return None
    relative = module[len(PACKAGE):].lstrip('.').replace('.', os.sep)
    for candidate in (os.path.join(ROOT, relative + '.py'), os.path.join(ROOT, relative, '__init__.py')):
        if os.path.isfile(candidate):
            return candidate
    return None


def _module_of(path):
    relative = os.path.relpath(path, ROOT)[:-len('.py')]
    if relative.endswith('__init__'):
        relative = os.path.dirname(relative)
    return '.'.join([PACKAGE, *relative.split(os.sep)]) if relative else PACKAGE


@functools.lru_cache(maxsize=None)
def _direct(path):
    """(whether the file itself reaches ansible-core, the files of this collection it imports)."""
    with open(path, encoding='utf-8') as handle:
        tree = ast.parse(handle.read(), path)
    reaches, imported = False, set()
    # Docstrings describe; they run nothing.
    docstrings = {id(node.body[0].value) for node in ast.walk(tree)
                  if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)) and node.body
                  and isinstance(node.body[0], ast.Expr) and isinstance(node.body[0].value, ast.Constant)}
    package = _module_of(path) if path.endswith('__init__.py') else _module_of(path).rpartition('.')[0]
    for node in ast.walk(tree):
        names = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ''
            if node.level:
                base = '.'.join(package.split('.')[:len(package.split('.')) - node.level + 1] + ([base] if base else []))
            names = [base] + ['%s.%s' % (base, alias.name) for alias in node.names]
        elif isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings and COMMAND.search(node.value):
            reaches = True
        for name in names:
            # ansible-core itself, or another collection (which this analysis does not follow).
            other_collection = name.startswith('ansible_collections.') and not name.startswith(PACKAGE + '.')
            if name == 'ansible' or name.startswith('ansible.') or other_collection:
                reaches = True
            found = _path_of(name)
            if found:
                imported.add(found)
    return reaches, frozenset(imported)


def reaches_core(path):
    """Whether ``path`` or what it imports, followed to the end, reaches ansible-core."""
    seen = set()
    pending = [path]
    while pending:
        current = pending.pop()
        if current in seen:
            continue
        seen.add(current)
        reaches, imported = _direct(current)
        if reaches:
            return True
        pending.extend(imported - seen)
    return False


def _conftests(path):
    """The conftest.py files pytest loads for a test file: in its directory and each one above it, up to tests/."""
    found, directory = [], os.path.dirname(path)
    while directory.startswith(os.path.join(ROOT, 'tests')):
        candidate = os.path.join(directory, 'conftest.py')
        if os.path.isfile(candidate):
            found.append(candidate)
        directory = os.path.dirname(directory)
    return found


def _test_files(arguments):
    for argument in arguments:
        path = os.path.join(ROOT, argument)
        if os.path.isdir(path):
            for directory, _subdirs, files in sorted(os.walk(path)):
                yield from (os.path.join(directory, name) for name in sorted(files) if name.startswith('test_') and name.endswith('.py'))
        else:
            yield path


def main(arguments):
    if not arguments:
        sys.exit(__doc__)
    for path in _test_files(arguments):
        if not os.path.isfile(path):
            sys.exit('core-free-tests.py: no such test file: %s' % os.path.relpath(path, ROOT))
        if not any(reaches_core(file) for file in (path, *_conftests(path))):
            print(os.path.relpath(path, ROOT))


if __name__ == '__main__':
    main(sys.argv[1:])
