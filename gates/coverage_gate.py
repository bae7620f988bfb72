"""Coverage gate: total line coverage does not drop (beyond a tolerance); changed lines are covered."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from evolve.changed_lines import ChangedLines, share_text
from evolve.changed_lines import executed_sentence as changed_lines_sentence
from evolve.gate_api import Gate, GateContext, Measurement, MeasurementError, fetch_test_run, measurement_errored
from evolve.proof.behaviour import changed_lines_of_edits
from evolve.results import Errored, Failed, GateResult, Metric, Passed, Skipped
from evolve.suites.coverage_scope import with_base_coverage
from evolve.suites.runs import TestRun
from evolve.wording import plural
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


def changed_files_texts(context: GateContext) -> list[tuple[str, str, str]]:
    """(path, base text, head text) of each changed Python file (a side that is absent or not a regular file is
    empty): the edits whose changed lines the figure counts."""
    edits = []
    for path in context.changed_files:
        if path.endswith((".py", ".pyw")):
            edits.append((path, _text(context.base, path), _text(context.head, path)))
    return edits


def _text(root: Path, path: str) -> str:
    located = root / path
    if located.is_symlink() or not located.is_file():
        return ""
    return located.read_text(encoding="utf-8", errors="replace")


def file_coverage(run: TestRun, path: str) -> float | None:
    """The line coverage of one file in `run`, when it was measured."""
    return percent(len(run.covered_lines.get(path, ())), len(run.executable_lines.get(path, ())))


def judge_coverage(
    base: TestRun | None,
    head: TestRun,
    changed: ChangedLines,
    settings: CoverageSettings,
    changed_paths: Sequence[str] = (),
) -> GateResult:
    """Fail when total coverage drops by more than the tolerance, or changed lines fall under the floor.

    `changed` is the changed lines the tests execute (evolve/proof/executed_lines.py): the PR's figure."""
    if not settings.enabled:
        return Skipped(gate="coverage", summary="The coverage gate is disabled in the configuration.")
    if head.timed_out:
        return Errored(gate="coverage", summary="Coverage could not be measured: the test suite timed out.")
    if head.no_tests or head.coverage_percent is None:
        return Skipped(
            gate="coverage", summary="No coverage was measured (no tests, or a test command that cannot be measured)."
        )
    base_total = base.coverage_percent if base is not None and not base.timed_out else None
    metrics = (
        Metric("line coverage", base_total, head.coverage_percent, "higher", "%"),
        Metric("changed lines the tests execute", None, changed.percent, "higher", "%"),
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
        blame |= {path for path in changed_paths if _file_dropped(base, head, path)}
    floor = settings.changed_lines_floor
    if floor is not None and changed.percent is not None and changed.percent < floor - EPSILON:
        problems.append(
            f"the tests execute {share_text(changed)} of the changed lines that need executing "
            f"({changed.executed} of {changed.executable}; floor {number(floor)}%)"
        )
        blame |= {path for path, _, _ in changed.unexecuted}
    details = "\n".join(
        f"{path}: no test runs the changed {'line' if first == last else 'lines'} "
        f"{first if first == last else f'{first}-{last}'} (base)"
        for path, first, last in changed.unexecuted
    )
    if problems:
        return Failed(
            gate="coverage", summary=_sentence(problems), metrics=metrics, blame=tuple(sorted(blame)), details=details
        )
    return Passed(
        gate="coverage",
        summary=_passed_summary(base_total, head.coverage_percent, changed, settings),
        metrics=metrics,
        details=details,
    )


def _passed_summary(
    base_total: float | None, head_total: float, changed: ChangedLines, settings: CoverageSettings
) -> str:
    """Totals, why a drop is allowed when there is one, and the changed-lines figure in the report's words."""
    text = f"Line coverage {number(base_total)}% -> {number(head_total)}%"
    if base_total is not None and head_total < base_total - EPSILON:
        drop = base_total - head_total
        if drop <= settings.tolerance + EPSILON:
            text += (
                f" (down {number(drop, 2)} points, within the tolerance of {number(settings.tolerance, 2)} points "
                "set by gates.coverage.tolerance)"
            )
        else:
            text += " (lower only because covered lines were removed: no line is left less tested)"
    return f"{text}. {changed_lines_sentence(changed).replace('**', '')}"


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
            return judge_coverage(None, _NOT_RUN, _NOTHING, self.settings)
        if not context.code_changed:
            return self._unchanged_code(context)
        try:
            head = fetch_test_run(context, "head")
            base = fetch_test_run(context, "base") if head.coverage_percent is not None else None
        except MeasurementError as error:
            return measurement_errored(self.name, error)
        completed = with_base_coverage(head, base) or head
        changed = changed_lines_of_edits(changed_files_texts(context), base, completed)
        result = judge_coverage(base, completed, changed, self.settings, context.changed_files)
        if completed.coverage_from_base and result.status in ("passed", "failed"):
            note = (
                f" Head measured in the {plural(len(head.coverage_scope or ()), 'changed file')}; the other files' lines "
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
_NOTHING = ChangedLines(0, 0, False)
