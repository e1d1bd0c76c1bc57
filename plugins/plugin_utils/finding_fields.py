# Copyright: patchwise developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Which fields of a finding belong to its host, for the risk engine and the asset store alike.

Part of the code that decides findings (``risk.deciding_code``): the engine keeps these fields out of the details
hosts share, and the store keeps them in each host's finding row (``finding_rows``).  Standard library only, so that
the store does not load the engine to know them.
"""

from __future__ import annotations

# A finding's fields that belong to its host (see ``risk.RiskEngine.classify``'s ``extra``).
HOST_OWN_FIELDS = frozenset(('distribution_security_update', 'held_binaries', 'candidate', 'unfinished_binaries'))
