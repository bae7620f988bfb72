"""Line coverage, opt-in: run the repository's tests once (through the gates' sandboxed runner) and flag
public functions that the suite barely exercises. Never cached: it depends on the tests, not on one file."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from evolve.configuration.model import EvolveConfig
from evolve.environments.model import Environment
from evolve.findings import FileMetrics, Finding
from evolve.research.priorities import disambiguate, make_finding

LOW_COVERAGE_PERCENT = 50.0  # a public function under this share of covered lines is a finding
MIN_EXECUTABLE_LINES = 2  # one-line bodies are noise


@dataclass(frozen=True)
class CoverageOutcome:
    """Per-file covered and executable lines, the total percentage, and notes for the user."""

    lines: dict[str, dict[str, list[int]]] | None
    percent: float | None
    notes: tuple[str, ...] = ()


def measure_coverage(
    root: Path, config: EvolveConfig, scanned: Sequence[str], environment: Environment | None = None
) -> CoverageOutcome:
    """Run the test suite with coverage; failures become notes, never exceptions."""
    try:
        from evolve.suites.runs import run_test_suite
    except ImportError as error:  # pragma: no cover - gates ship with the package
        return CoverageOutcome(None, None, (f"coverage not measured: the test runner is unavailable ({error})",))
    try:
        run = run_test_suite(root, config, with_coverage=True, environment=environment)
    except Exception as error:
        return CoverageOutcome(None, None, (f"coverage not measured: running the tests failed: {error}",))
    notes = []
    if run.no_tests:
        return CoverageOutcome(None, None, ("coverage not measured: no tests found",))
    if run.timed_out:
        notes.append("the test suite timed out: coverage is partial")
    elif not run.ok:
        notes.append(f"the test suite failed ({run.failed} failed, {run.errors} errors): coverage may be low")
    if run.coverage_percent is None:
        return CoverageOutcome(None, None, (*notes, "coverage not measured: the test run produced no coverage data"))
    wanted = set(scanned)
    lines = {
        path: {"covered": list(run.covered_lines.get(path, [])), "executable": list(executable)}
        for path, executable in sorted(run.executable_lines.items())
        if path in wanted
    }
    return CoverageOutcome(lines, float(run.coverage_percent), tuple(notes))


def coverage_findings(files: Sequence[FileMetrics], lines: dict[str, dict[str, list[int]]]) -> list[Finding]:
    """One finding per public function whose body the tests cover less than half of."""
    findings: list[Finding] = []
    for metrics in files:
        per_file = lines.get(metrics.path)
        if per_file is None:
            continue
        covered = set(per_file["covered"])
        executable = set(per_file["executable"])
        public = [f for f in metrics.functions if f.is_public]
        for func, disc in zip(public, disambiguate((f.qualname,) for f in public)):
            body = {line for line in executable if func.line < line <= func.end_line}
            if len(body) < MIN_EXECUTABLE_LINES:
                continue
            hit = len(body & covered)
            percent = 100.0 * hit / len(body)
            if percent >= LOW_COVERAGE_PERCENT:
                continue
            findings.append(
                make_finding(
                    "coverage",
                    "low-function-coverage",
                    metrics.path,
                    func.line,
                    func.end_line,
                    func.qualname,
                    "medium" if hit == 0 else "low",
                    1.0 - percent / 100.0,
                    0.7,
                    f"{func.qualname}: {hit} of {len(body)} lines covered by the tests ({percent:.0f}%)",
                    disc,
                    covered=hit,
                    executable=len(body),
                    percent=round(percent, 2),
                )
            )
    return findings
