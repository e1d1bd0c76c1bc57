"""The end of every benchmark: its lines of figures, kept under bench/output/ and printed."""

from __future__ import annotations

import os


def write_figures(path, lines):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, 'w', encoding='utf-8') as handle:
        handle.write('\n'.join(lines) + '\n')
    print('\n'.join(lines))
