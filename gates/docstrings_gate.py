"""Docstrings gate: docstring coverage over the changed files does not drop, and files keep the floor."""

from __future__ import annotations

from collections.abc import Sequence

from pydantic import BaseModel, ConfigDict, Field

from evolve.findings import FileMetrics, ScanResult
from evolve.results import Failed, GateResult, Metric, Passed
from evolve.wording import plural
from gates.changed_code import EPSILON, files_in, listing, number, percent
from gates.scan_gate import ScanGate


def docstring_coverage(scan: ScanResult, paths: Sequence[str]) -> float | None:
    """Documented items as a percentage of documentable items, over the changed files."""
    files = files_in(scan, paths).values()
    return percent(sum(f.docstrings_covered for f in files), sum(f.docstrings_total for f in files))


def _file_percent(metrics: FileMetrics) -> float | None:
    return percent(metrics.docstrings_covered, metrics.docstrings_total)


def docstring_regressions(
    base: ScanResult, head: ScanResult, paths: Sequence[str], floor: float | None
) -> dict[str, str]:
    """path -> reason, for files whose coverage dropped or that fall below the floor (new files included)."""
    before, after = files_in(base, paths), files_in(head, paths)
    baseline = docstring_coverage(base, paths)
    problems: dict[str, str] = {}
    for path, metrics in sorted(after.items()):
        new = _file_percent(metrics)
        if new is None:
            continue
        old = _file_percent(before[path]) if path in before else None
        if floor is not None and new < floor - EPSILON and (old is None or old >= floor - EPSILON):
            problems[path] = f"docstring coverage {number(old)}% -> {number(new)}% is below the floor {number(floor)}%"
        elif old is not None and new < old - EPSILON:
            problems[path] = f"docstring coverage {number(old)}% -> {number(new)}%"
        elif old is None and baseline is not None and new < baseline - EPSILON:
            problems[path] = f"new file documents {number(new)}% of its items, below the {number(baseline)}% of base"
    return problems


def judge_docstrings(base: ScanResult, head: ScanResult, paths: Sequence[str], floor: float | None) -> GateResult:
    """Fail when docstring coverage of the changed files drops, or a file falls below the floor."""
    before, after = docstring_coverage(base, paths), docstring_coverage(head, paths)
    metrics = (Metric("docstring coverage", before, after, "higher", "%"),)
    problems = docstring_regressions(base, head, paths, floor)
    overall_dropped = before is not None and after is not None and after < before - EPSILON
    if problems or overall_dropped:
        summary = (
            f"Docstring coverage of the changed files drops from {number(before)}% to {number(after)}%."
            if overall_dropped
            else f"Docstring coverage falls in {plural(len(problems), 'file')}: {listing(sorted(problems))}."
        )
        return Failed(
            gate="docstrings",
            summary=summary,
            metrics=metrics,
            blame=tuple(sorted(problems)),
            details="\n".join(f"{path}: {reason}" for path, reason in problems.items()),
        )
    return Passed(
        gate="docstrings",
        metrics=metrics,
        summary=f"Docstring coverage of the changed files {number(before)}% -> {number(after)}%.",
    )


class DocstringsSettings(BaseModel):
    """Docstring coverage (interrogate) may not drop, and stays above an optional floor."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    floor: float | None = Field(None, ge=0, le=100)


class DocstringsGate(ScanGate[DocstringsSettings]):
    """Docstring coverage (interrogate's measure) of the changed files does not get worse."""

    name = "docstrings"
    description = "Docstring coverage of the changed files does not drop, and stays above the optional floor."

    Settings = DocstringsSettings

    def judge(self, base: ScanResult, head: ScanResult, paths: Sequence[str]) -> GateResult:
        """Compare docstring coverage of the changed files."""
        return judge_docstrings(base, head, paths, self.settings.floor)
