"""Coverage gate: total line coverage does not drop (beyond a tolerance); changed lines are covered."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from evolve.gate_api import Gate, GateContext, Measurement, MeasurementError, fetch_test_run, measurement_errored
from evolve.results import Errored, Failed, GateResult, Metric, Passed, Skipped
from evolve.suites.coverage_scope import with_base_coverage
from evolve.suites.runs import TestRun
from gates.changed_code import EPSILON, number, percent


class CoverageSettings(BaseModel):
    """Total coverage may not drop; changed lines should be covered."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    enabled: bool = True
    tolerance: float = Field(0.1, ge=0, le=100)  # percentage points of noise allowed
    changed_lines_floor: float | None = Field(None, ge=0, le=100)
    # "changed-files": when the change touches only library modules, head's coverage is measured in those files
    # and the others are taken from base's run (a faster head run); "all": every file measured on head.
    scope: Literal["changed-files", "all"] = "changed-files"


@dataclass(frozen=True)
class ChangedLineCoverage:
    """How many of the changed executable lines the tests run, and which are missed, by file."""

    covered: int
    executable: int
    uncovered: dict[str, tuple[int, ...]]

    @property
    def percent(self) -> float | None:
        """Covered changed lines as a percentage; None when no changed line is executable."""
        return percent(self.covered, self.executable)


def changed_line_coverage(run: TestRun, changed_lines: Mapping[str, Sequence[int]]) -> ChangedLineCoverage:
    """Intersect the changed lines with the run's executable and covered lines."""
    covered = executable = 0
    uncovered: dict[str, tuple[int, ...]] = {}
    for path, lines in sorted(changed_lines.items()):
        runnable = set(run.executable_lines.get(path, ())) & set(lines)
        hit = runnable & set(run.covered_lines.get(path, ()))
        covered += len(hit)
        executable += len(runnable)
        if runnable - hit:
            uncovered[path] = tuple(sorted(runnable - hit))
    return ChangedLineCoverage(covered, executable, uncovered)


def file_coverage(run: TestRun, path: str) -> float | None:
    """The line coverage of one file in `run`, when it was measured."""
    return percent(len(run.covered_lines.get(path, ())), len(run.executable_lines.get(path, ())))


def judge_coverage(
    base: TestRun | None, head: TestRun, changed_lines: Mapping[str, Sequence[int]], settings: CoverageSettings
) -> GateResult:
    """Fail when total coverage drops by more than the tolerance, or changed lines fall under the floor."""
    if not settings.enabled:
        return Skipped(gate="coverage", summary="The coverage gate is disabled in the configuration.")
    if head.timed_out:
        return Errored(gate="coverage", summary="Coverage could not be measured: the test suite timed out.")
    if head.no_tests or head.coverage_percent is None:
        return Skipped(
            gate="coverage", summary="No coverage was measured (no tests, or a test command that cannot be measured)."
        )
    base_total = base.coverage_percent if base is not None and not base.timed_out else None
    changed = changed_line_coverage(head, changed_lines)
    metrics = (
        Metric("line coverage", base_total, head.coverage_percent, "higher", "%"),
        Metric("changed-line coverage", None, changed.percent, "higher", "%"),
    )
    problems: list[str] = []
    blame: set[str] = set()
    # Removing covered lines lowers the percentage without leaving any code less tested: a drop counts only
    # when head also has more lines the tests miss.
    if (
        base_total is not None
        and base is not None
        and head.coverage_percent < base_total - settings.tolerance - EPSILON
        and _missed_lines(head) > _missed_lines(base)
    ):
        problems.append(f"total line coverage drops from {number(base_total)}% to {number(head.coverage_percent)}%")
        blame |= {path for path in changed_lines if _file_dropped(base, head, path)}
    floor = settings.changed_lines_floor
    if floor is not None and changed.percent is not None and changed.percent < floor - EPSILON:
        problems.append(f"only {number(changed.percent)}% of the changed lines are covered (floor {number(floor)}%)")
        blame |= set(changed.uncovered)
    details = "\n".join(
        f"{path}: uncovered changed lines {', '.join(map(str, lines))}" for path, lines in changed.uncovered.items()
    )
    if problems:
        return Failed(
            gate="coverage", summary=_sentence(problems), metrics=metrics, blame=tuple(sorted(blame)), details=details
        )
    return Passed(
        gate="coverage",
        summary=f"Line coverage {number(base_total)}% -> {number(head.coverage_percent)}%; "
        + (
            f"changed lines covered: {number(changed.percent)}%."
            if changed.percent is not None
            else "no changed line is executable code."
        ),
        metrics=metrics,
        details=details,
    )


def _missed_lines(run: TestRun) -> int:
    return sum(len(lines) for lines in run.executable_lines.values()) - sum(
        len(lines) for lines in run.covered_lines.values()
    )


def _file_dropped(base: TestRun | None, head: TestRun, path: str) -> bool:
    after = file_coverage(head, path)
    before = file_coverage(base, path) if base is not None else None
    return after is not None and after < (100.0 if before is None else before) - EPSILON


def _sentence(problems: list[str]) -> str:
    text = "; ".join(problems)
    return text[0].upper() + text[1:] + "."


class CoverageGate(Gate[CoverageSettings]):
    """Total line coverage of head is not below base minus the tolerance; changed lines meet the floor."""

    name = "coverage"
    description = "Line coverage does not drop, and the changed lines are covered by tests."

    Settings = CoverageSettings

    def measures(self) -> frozenset[Measurement]:
        """Coverage in the shared test runs, unless this gate is turned off."""
        if not self.settings.enabled:
            return frozenset()
        return frozenset({"coverage", "full-coverage"}) if self.settings.scope == "all" else frozenset({"coverage"})

    def evaluate(self, context: GateContext) -> GateResult:
        """Compare the coverage of head's and base's test runs."""
        if not self.settings.enabled:
            return judge_coverage(None, _NOT_RUN, {}, self.settings)
        if not context.code_changed:
            return self._unchanged_code(context)
        try:
            head = fetch_test_run(context, "head")
            base = fetch_test_run(context, "base") if head.coverage_percent is not None else None
        except MeasurementError as error:
            return measurement_errored(self.name, error)
        completed = with_base_coverage(head, base)
        result = judge_coverage(base, completed or head, context.changed_lines, self.settings)
        if completed is not None and completed.coverage_from_base and result.status in ("passed", "failed"):
            note = (
                f" Head measured in the {len(head.coverage_scope or ())} changed file(s); the other files' lines "
                "are base's (gates.coverage.scope: all measures every file)."
            )
            result = replace(result, summary=result.summary + note)
        return result

    def _unchanged_code(self, context: GateContext) -> GateResult:
        """No edit changes executable code: head runs base's statements, so its coverage is base's."""
        try:
            base = fetch_test_run(context, "base")
        except MeasurementError as error:
            return measurement_errored(self.name, error)
        total = base.coverage_percent if not base.timed_out else None
        if total is None:
            return Skipped(
                gate=self.name, summary="No executable statement changed, and base's coverage was not measured."
            )
        return Passed(
            gate=self.name,
            summary="No executable statement changed (only docstrings, comments, layout or annotations): "
            f"line coverage stays {number(total)}%; head's suite ran without the coverage tracer.",
            metrics=(Metric("line coverage", total, total, "higher", "%"),),
        )


_NOT_RUN = TestRun(command=(), returncode=0, timed_out=False, duration=0.0, no_tests=True)
