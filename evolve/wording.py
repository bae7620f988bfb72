"""Counts in sentences: `1 file`, `2 files`; integers as integers. Pure."""

from __future__ import annotations

from collections.abc import Collection


def plural(count: int, noun: str, nouns: str | None = None) -> str:
    """`1 line`, `2 lines`, `1,324 tests`: the count with its noun in the right number (`nouns` when irregular)."""
    return f"{count:,} {noun}" if count == 1 else f"{count:,} {nouns or noun + 's'}"


def number_text(value: float, digits: int = 1) -> str:
    """A measurement for a sentence: `7`, not `7.0`; `7.6` with one decimal otherwise."""
    if float(value).is_integer():
        return f"{int(value):,}"
    return f"{value:.{digits}f}"


def tests_text(test_ids: Collection[str]) -> str:
    """`3 tests`, or `7 tests and 5 test modules`: an id that is a file path (`test/test_api.py`) is a module that
    failed to load (pytest goes on past it and reports it once), not one test, so it is not counted as one."""
    modules = sum(test_id.endswith(".py") for test_id in test_ids)
    tests = len(test_ids) - modules
    parts = ([plural(tests, "test")] if tests or not modules else []) + (
        [plural(modules, "test module")] if modules else []
    )
    return " and ".join(parts)
