# Copyright: patchwise developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The dnf installroot test host's fixtures, for every test of this folder that asks for them (built only then)."""

from __future__ import annotations

from ansible_collections.patchwise.patching.tests.unit.controller.dnf_installroot import root, signed_repository, template_root

__all__ = ['root', 'signed_repository', 'template_root']
