"""Counts in sentences: `1 file`, `2 files`; integers as integers. Pure."""

from __future__ import annotations


def plural(count: int, noun: str, nouns: str | None = None) -> str:
    """`1 line`, `2 lines`, `1,324 tests`: the count with its noun in the right number (`nouns` when irregular)."""
    return f"{count:,} {noun}" if count == 1 else f"{count:,} {nouns or noun + 's'}"


def number_text(value: float, digits: int = 1) -> str:
    """A measurement for a sentence: `7`, not `7.0`; `7.6` with one decimal otherwise."""
    if float(value).is_integer():
        return f"{int(value):,}"
    return f"{value:.{digits}f}"
