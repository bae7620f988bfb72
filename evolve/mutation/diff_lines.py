"""The lines of base that a change replaces or deletes: the base side of the lines it touches. Pure."""

from __future__ import annotations

import difflib


def touched_base_lines(before: str, after: str) -> tuple[int, ...]:
    """1-based line numbers of `before` that the change from `before` to `after` replaces or deletes."""
    matcher = difflib.SequenceMatcher(a=before.splitlines(), b=after.splitlines(), autojunk=False)
    touched: list[int] = []
    for tag, first, last, _, _ in matcher.get_opcodes():
        if tag in ("replace", "delete"):
            touched.extend(range(first + 1, last + 1))
    return tuple(touched)
