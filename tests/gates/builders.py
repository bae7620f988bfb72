"""Builders for gate tests: constructed scan results and test runs, and base/head trees made with real git."""

from __future__ import annotations

from collections.abc import Iterable

from evolve.findings import FileMetrics, Finding, FunctionMetrics, RepoMetrics, ScanResult
from evolve.suites.runs import TestRun
from evolve.testing.gates import GateTrees as Trees
from evolve.testing.gates import build_trees, changed_lines_of, git, write_files

# The trees and git helpers are the ones plugin authors get from evolve.testing.
__all__ = [
    "Trees",
    "build_trees",
    "changed_lines_of",
    "file_metrics",
    "git",
    "make_run",
    "scan_of",
    "security_finding",
    "write_files",
]


def file_metrics(
    path: str,
    *,
    mi: float = 80.0,
    functions: Iterable[tuple[str, int]] = (),
    docs: tuple[int, int] = (0, 0),
    sloc: int = 10,
) -> FileMetrics:
    """FileMetrics of `path` with (qualname, complexity) functions, MI, (covered, total) docstrings and SLOC."""
    funcs = tuple(
        FunctionMetrics(name, 10 * i + 1, 10 * i + 5, cc, False, True) for i, (name, cc) in enumerate(functions)
    )
    return FileMetrics(path, sloc, sloc, 0, mi, funcs, docs[0], docs[1])


def security_finding(
    path: str, rule: str = "python.lang.security.eval", symbol: str | None = "f", line: int = 1
) -> Finding:
    """A semgrep-like security finding."""
    return Finding(f"{rule}{path}{line}", "security", rule, path, line, line, symbol, "high", 0.9, "dangerous")


def scan_of(*files: FileMetrics, findings: Iterable[Finding] = ()) -> ScanResult:
    """A ScanResult holding `files` and `findings`; totals are placeholders (gates never read them)."""
    totals = RepoMetrics(len(files), 0, 0, 0, 0.0, 0, 0.0, 0.0, 0, 0)
    return ScanResult("/repo", tuple(files), tuple(findings), (), totals)


def make_run(**overrides) -> TestRun:
    """A TestRun of a passing suite, with fields overridden."""
    values = dict(command=("pytest",), returncode=0, timed_out=False, duration=1.0, passed=3)
    values.update(overrides)
    return TestRun(**values)
