"""One attempt: write edits into the head worktree, then run every gate against base.

The base tree is measured once per run (its scans and test run are kept across attempts);
the head tree is measured afresh each attempt.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from evolve.config import EvolveConfig
from evolve.edits import FileEdit
from evolve.findings import ScanResult
from evolve.gate_running import build_context, build_gates, evaluate_gates
from evolve.gitrepo import diff_against, reset_worktree, write_files
from evolve.results import GateResult
from evolve.suites.runs import TestRun

Tree = Literal["base", "head"]
Progress = Callable[[str, int, int], None]


@dataclass
class BaseMeasurements:
    """Measurements of the base tree, kept across attempts so the base is measured once."""

    tests: TestRun | None = None
    scans: dict[tuple[str, ...], ScanResult] = field(default_factory=dict)


@dataclass(frozen=True)
class AttemptOutcome:
    """What one attempt measured."""

    gate_results: tuple[GateResult, ...]
    diff: str
    changed_lines: dict[str, tuple[int, ...]]
    head_tests: TestRun | None  # when a gate ran the tests


def run_attempt(
    base: Path,
    head: Path,
    base_sha: str,
    edits: tuple[FileEdit, ...],
    config: EvolveConfig,
    measured: BaseMeasurements,
    progress: Progress | None = None,
) -> AttemptOutcome:
    """Reset head to base, apply `edits`, and evaluate the configured gates."""
    reset_worktree(head, base_sha)
    write_files(head, {edit.path: edit.after for edit in edits})
    summary = diff_against(head, base_sha)
    changed = tuple(sorted(summary.changed_lines)) or tuple(sorted(edit.path for edit in edits))
    context = build_context(base, head, changed, config, changed_lines=summary.changed_lines)
    fresh_scan, fresh_tests = context.scan, context.run_tests
    head_tests: list[TestRun] = []
    announced: set[str] = set()

    def announce(step: str) -> None:
        if progress and step not in announced:
            announced.add(step)
            progress(step, 0, 1)

    def scan(which: Tree) -> ScanResult:
        announce(f"measuring {which}")
        if which == "head":
            return fresh_scan(which)
        if changed not in measured.scans:
            measured.scans[changed] = fresh_scan(which)
        return measured.scans[changed]

    def run_tests(which: Tree) -> TestRun:
        announce(f"running the tests on {which}")
        if which == "head":
            run = fresh_tests(which)
            head_tests[:] = [run]
            return run
        if measured.tests is None:
            measured.tests = fresh_tests(which)
        return measured.tests

    context.scan, context.run_tests = scan, run_tests
    results = evaluate_gates(build_gates(config), context)
    return AttemptOutcome(
        gate_results=results,
        diff=summary.text,
        changed_lines=summary.changed_lines,
        head_tests=head_tests[0] if head_tests else None,
    )
