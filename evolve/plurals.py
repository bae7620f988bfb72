"""Counting things in user-facing text: `1 file`, `2 files`, never `1 file(s)` (pure)."""

from __future__ import annotations


def counted(number: int, noun: str, plural: str | None = None) -> str:
    """`number` and `noun`, in the plural unless it is exactly one (`plural` for irregular nouns)."""
    return f"{number} {noun if number == 1 else (plural or noun + 's')}"
