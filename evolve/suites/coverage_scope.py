"""Head's coverage measured on the changed files only, completed from base's run for the others. Pure.

Measuring every file on head costs a traced run of the whole suite; what the coverage gate needs from head is the
changed files' lines (which changed lines run) and a total to compare with base's. When the change touches only
library modules (no test, conftest, setup or configuration file), the other files run as on base unless the change
alters what the tests reach, which the tests gate watches: their lines are taken from base's run, and the coverage
gate says so. `gates.coverage.scope: all` measures every file instead.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Iterable, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING

from evolve.configuration.path_kinds import COVERAGE_OMIT

if TYPE_CHECKING:
    from evolve.suites.runs import TestRun

SANDBOX_ROOT = "/work/repo"


def measured_by_coverage(path: str) -> bool:
    """Whether coverage measures `path` (a Python file not omitted as a test, conftest, setup or vendored file)."""
    if not path.endswith(".py"):
        return False
    located = f"{SANDBOX_ROOT}/{path}"
    return not any(fnmatch.fnmatch(located, pattern) for pattern in COVERAGE_OMIT)


def coverage_scope(changed_files: Sequence[str], present: Iterable[str]) -> tuple[str, ...] | None:
    """The files head's coverage may be limited to, or None when every file must be measured: some changed file
    is not a measured module (a test, conftest, configuration, data), whose change can move coverage anywhere."""
    if not changed_files or not all(measured_by_coverage(path) for path in changed_files):
        return None
    existing = set(present)
    return tuple(sorted(path for path in changed_files if path in existing))


def percent_of(covered: dict[str, list[int]], executable: dict[str, list[int]]) -> float:
    """Line coverage over the files in `executable`, as coverage.py computes it (100% when nothing is executable)."""
    total = sum(len(lines) for lines in executable.values())
    return 100.0 * sum(len(lines) for lines in covered.values()) / total if total else 100.0


def with_base_coverage(head: TestRun | None, base: TestRun | None) -> TestRun | None:
    """Head's run with the files outside its coverage scope taken from base's run (unchanged when head measured
    every file, or when there is no base coverage to complete it from)."""
    if head is None or head.coverage_scope is None or head.coverage_from_base:
        return head
    if base is None or base.coverage_percent is None:
        return head
    scope = set(head.coverage_scope)
    covered = {path: lines for path, lines in base.covered_lines.items() if path not in scope}
    executable = {path: lines for path, lines in base.executable_lines.items() if path not in scope}
    covered.update(head.covered_lines)
    executable.update(head.executable_lines)
    return replace(
        head,
        covered_lines=covered,
        executable_lines=executable,
        coverage_percent=percent_of(covered, executable) if head.coverage_percent is not None else None,
        coverage_from_base=True,
    )
