"""Tests gate: head's test suite passes, or fails only where base already failed."""

from __future__ import annotations

import os
import re
from collections.abc import Sequence

from evolve.configuration.model import TestsGateConfig
from evolve.gate_api import Gate, GateContext, MeasurementError, fetch_test_run, measurement_errored
from evolve.results import Errored, Failed, GateResult, Metric, Passed, Skipped
from evolve.suites.runner_counts import describe_counts, run_counts
from evolve.suites.runs import TestRun
from evolve.wording import plural
from gates.changed_code import listing

_SECTION = re.compile(r"^____ (?P<id>.+?) ____$", re.M)
_FRAME = re.compile(r'^(?P<p>[^\s:<>][^:\n<>]*?\.py):\d+:|File "(?P<q>[^"\n]+\.py)", line \d+', re.M)


def failure_sections(run: TestRun) -> dict[str, str]:
    """Split `run.failure_details` into the evidence of each failing test, by test id."""
    marks = list(_SECTION.finditer(run.failure_details))
    sections = {}
    for index, mark in enumerate(marks):
        end = marks[index + 1].start() if index + 1 < len(marks) else len(run.failure_details)
        sections[mark.group("id")] = run.failure_details[mark.end() : end].strip()
    return sections


def files_named(test_id: str, text: str, root: str | None = None) -> set[str]:
    """The test's own file and the files its traceback passes through, relative to `root` when absolute."""
    names = {test_id.split("::", 1)[0]} if "::" in test_id else set()
    for match in _FRAME.finditer(text):
        path = match.group("p") or match.group("q")
        if os.path.isabs(path):
            if root is None or not path.startswith(root.rstrip("/") + "/"):
                continue
            path = path[len(root.rstrip("/")) + 1 :]
        names.add(path)
    return names


def judge_tests(
    head: TestRun, base: TestRun | None, changed_files: Sequence[str], root: str | None = None
) -> GateResult:
    """Decide from head's run (and base's, when head fails) whether the change breaks tests."""
    metrics = (
        Metric("tests passed", float(base.passed) if base else None, float(head.passed), "higher"),
        Metric(
            "tests failed", float(len(base.failing_tests)) if base else None, float(len(head.failing_tests)), "lower"
        ),
    )
    if head.timed_out:
        return Errored(
            gate="tests",
            summary=f"The test suite timed out after {head.duration:.0f}s.",
            metrics=metrics,
            details=head.output_tail,
        )
    if head.no_tests:
        return Skipped(gate="tests", summary="The repository has no tests to run.", metrics=metrics)
    if head.ok:
        return Passed(gate="tests", summary=f"The suite passes: {describe_counts(run_counts(head))}.", metrics=metrics)
    known = set(base.failing_tests) if base is not None and not base.timed_out else set()
    new = [test for test in head.failing_tests if test not in known]
    hidden = hidden_on_base(new, head, base, changed_files, root)
    new = [test for test in new if test not in hidden]
    if not new and head.passed == 0:
        # Nothing ran on either side (a collection error, a missing dependency): the change is unproven.
        return Errored(
            gate="tests",
            metrics=metrics,
            details=head.failure_details or head.output_tail,
            summary="The test suite does not run, on base either, so the change cannot be proven.",
        )
    if not new:
        failing = f"{plural(len(head.failing_tests), 'test')} fail{'s' if len(head.failing_tests) == 1 else ''}"
        summary = f"{failing}, but all of them fail on base too."
        if hidden:
            summary = (
                f"{failing}: {len(head.failing_tests) - len(hidden):,} fail on base too, and "
                f"{plural(len(hidden), 'test')} that never ran on base (its suite or module did not load there) "
                f"fail{'s' if len(hidden) == 1 else ''} on a name this Python removed, in code the change does not "
                f"touch: {'; '.join(f'{test}: {why}' for test, why in sorted(hidden.items())[:5])}."
            )
        return Passed(gate="tests", metrics=metrics, summary=summary)
    sections = failure_sections(head)
    changed = set(changed_files)
    blame = set()
    for test in new:
        blame |= files_named(test, sections.get(test, ""), root) & changed
    if sections:
        details = "\n\n".join(f"____ {test} ____\n{sections.get(test, '')}".rstrip() for test in new)
    else:
        details = head.failure_details
    return Failed(
        gate="tests",
        summary=f"{plural(len(new), 'new test failure')}: {listing(new)}.",
        metrics=metrics,
        blame=tuple(sorted(blame)),
        details=details or head.output_tail,
    )


def hidden_on_base(
    new: Sequence[str], head: TestRun, base: TestRun | None, changed_files: Sequence[str], root: str | None
) -> dict[str, str]:
    """The new failures that were there on base, hidden because the test never ran there: base's suite could not
    start, or the test's module failed to import (a removed name broke it). A head failure in such a test whose
    traceback ends at another name this Python removed, used in a file the change does not touch (or inside an
    installed package), is not the change's: the fix that let the module load revealed it. Test id -> the
    diagnosis, for the summary."""
    from pathlib import Path

    from evolve.research.base_suites import module_that_failed_to_load
    from evolve.research.diagnosis import diagnose
    from evolve.suites.startup import cannot_start_reason

    if base is None or not new:
        return {}
    base_started = not (base.passed == 0 and cannot_start_reason(base) is not None)
    unloaded = {module_that_failed_to_load(test) for test in base.failing_tests} - {None}  # did not import on base
    sections = failure_sections(head)
    changed = set(changed_files)
    hidden = {}
    for test in new:
        if base_started and not any(test == m or test.startswith((f"{m}::", f"{m}.")) for m in unloaded):
            continue  # its module loaded on base: the test ran there
        diagnosis = diagnose(sections.get(test, ""), Path(root or "."))
        if diagnosis is None or (diagnosis.path is None and diagnosis.dependency is None):
            continue
        if diagnosis.path is not None and diagnosis.path in changed:
            continue
        hidden[test] = diagnosis.describe()
    return hidden


class TestsGate(Gate[TestsGateConfig]):
    """Head's suite passes; failures that base shares are not blamed on the change."""

    __test__ = False

    name = "tests"
    description = "The repository's test suite passes, with no new failures versus base."
    # The core's model: the core runs the suite (for research's coverage too) with these settings.
    Settings = TestsGateConfig

    def evaluate(self, context: GateContext) -> GateResult:
        """Run head's tests; run base's only when head has failures to compare."""
        try:
            head = fetch_test_run(context, "head")
            base = fetch_test_run(context, "base") if not head.ok and not head.timed_out else None
        except MeasurementError as error:
            return measurement_errored(self.name, error)
        return judge_tests(head, base, context.changed_files, os.path.realpath(context.head))
