"""One attempt: write edits into the head worktree, measure, and run every gate against base."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Literal

from evolve.config import EvolveConfig
from evolve.edits import FileEdit
from evolve.findings import ScanResult
from evolve.gitrepo import diff_against, reset_worktree, write_files
from gates.base import GateContext, GateResult

Tree = Literal["base", "head"]
Progress = Callable[[str, int, int], None]


@dataclass
class BaseMeasurements:
    """Measurements of the base tree, kept across attempts so the base is measured once."""

    test_runs: dict[bool, object] = field(default_factory=dict)  # with_coverage -> TestRun
    scans: dict[tuple[str, ...], ScanResult] = field(default_factory=dict)


@dataclass(frozen=True)
class AttemptOutcome:
    """What one attempt measured."""

    gate_results: tuple[GateResult, ...]
    diff: str
    changed_lines: dict[str, tuple[int, ...]]
    head_tests: object | None  # TestRun when tests ran


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
    from evolve.research import scan_repository
    from gates.registry import build_gates, evaluate_gates
    from gates.test_runs import run_test_suite

    reset_worktree(head, base_sha)
    write_files(head, {edit.path: edit.after for edit in edits})
    summary = diff_against(head, base_sha)
    changed = tuple(sorted(summary.changed_lines)) or tuple(sorted(edit.path for edit in edits))
    python_changed = tuple(path for path in changed if path.endswith(".py"))
    enabled = set(config.gates.enabled)
    with_coverage = "coverage" in enabled
    with_semgrep = "security" in enabled
    head_runs: dict[bool, object] = {}
    head_scans: dict[tuple[str, ...], ScanResult] = {}

    def scan(which: Tree) -> ScanResult:
        cache = measured.scans if which == "base" else head_scans
        if python_changed not in cache:
            if progress:
                progress(f"measuring {which}", 0, 1)
            cache[python_changed] = scan_repository(
                base if which == "base" else head, config, paths=python_changed, with_semgrep=with_semgrep
            )
        return cache[python_changed]

    def run_tests(which: Tree):
        cache = measured.test_runs if which == "base" else head_runs
        if with_coverage not in cache:
            if progress:
                progress(f"running the tests on {which}", 0, 1)
            cache[with_coverage] = run_test_suite(base if which == "base" else head, config, with_coverage=with_coverage)
        return cache[with_coverage]

    context = GateContext(
        base=base,
        head=head,
        changed_files=changed,
        config=config,
        changed_lines=summary.changed_lines,
        scan=scan,
        run_tests=run_tests,
    )
    gates = build_gates(config)
    results = evaluate_gates(gates, context)
    return AttemptOutcome(
        gate_results=results,
        diff=summary.text,
        changed_lines=summary.changed_lines,
        head_tests=head_runs.get(with_coverage),
    )
