# Copyright: patchwise developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The identity of the code that decides: a digest of the source of the modules that do.

The risk pass keeps what it decided (each shared finding detail, each host's assessment) and does
not decide it again while nothing it depends on changed.  The collection's own code is one of those
things: after an upgrade that changes how a finding is matched, decided or planned, the first pass
decides every detail and assesses every host again, without being told to.
"""

from __future__ import annotations

import hashlib


def source_digest(modules):
    """A digest of the names and source files of ``modules`` (imported module objects), in the order given."""
    digest = hashlib.sha256()
    for module in modules:
        digest.update(module.__name__.encode('utf-8') + b'\0')
        path = getattr(module, '__file__', None)
        try:
            with open(path, 'rb') as handle:
                digest.update(handle.read())
        except (OSError, TypeError):
            # No readable source file (a built-in, frozen or zipped module): its name stands for it.
            pass
        digest.update(b'\0')
    return digest.hexdigest()
