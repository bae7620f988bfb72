"""A run's ending after the attempt loop: publish the passing change (scan head, commit, branch) or report why not."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from evolve.engine.attempts import tests_summary
from evolve.findings import ScanResult
from evolve.git.publish import commit_and_branch
from evolve.mutation.kill_proof import TestVerdict
from evolve.proof.behaviour import EditProof
from evolve.proof.changed_metrics import metrics_of_changed_code
from evolve.reports.markdown import render_report_markdown
from evolve.reports.titles import change_title
from evolve.run_status import RunStatus
from evolve.runs import RunReport

from . import reports
from .values import Ending, LoopEnd, RunSetup

# Findings head's scan does not look for again (surviving mutants come from research's sample of base only): their
# absence on head says nothing, so they are neither resolved nor new; the `tests` section tells their story.
NOT_RESCANNED = frozenset({"mutant"})


def changed_findings(before: ScanResult, after: ScanResult) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The ids of the findings head resolved and of the ones it introduced, each sorted."""
    old = {f.id for f in before.findings if f.kind not in NOT_RESCANNED}
    new = {f.id for f in after.findings}
    return tuple(sorted(old - new)), tuple(sorted(new - old))


def finding_changes(before: ScanResult, after: ScanResult) -> tuple[dict[str, Any], ...]:
    """The findings the change resolved or introduced, with their rules: what a reviewer needs to read a delta."""
    old = {f.id: f for f in before.findings if f.kind not in NOT_RESCANNED}
    new = {f.id: f for f in after.findings}
    rows = [
        {"rule": f.rule, "kind": f.kind, "path": f.path, "change": "resolved"} for i, f in old.items() if i not in new
    ]
    rows += [{"rule": f.rule, "kind": f.kind, "path": f.path, "change": "new"} for i, f in new.items() if i not in old]
    return tuple(sorted(rows, key=lambda row: (row["change"], row["kind"], row["rule"], row["path"])))


def with_test_verdicts(
    llm: dict[str, Any], verdicts: Sequence[TestVerdict], committed: Sequence[str] | None = None
) -> dict[str, Any]:
    """The report's `llm` field with the verdicts on a `tests` plan's proposed test files, when there are any; with
    `committed` (the paths of a published change), a kept file the last attempt did not keep is left out."""
    if committed is not None:
        verdicts = [v for v in verdicts if not v.kept or v.path in committed]
    if not verdicts:
        return llm
    return {**llm, "mutant_tests": [verdict.to_dict() for verdict in verdicts]}


def listed_changes(proof: EditProof | None) -> int | None:
    """How many changes the report lists (the proof's kept logical hunks), when there is a proof."""
    return len([h for h in proof.hunks if h.verdict != "dropped"]) if proof is not None else None


def publish_success(setup: RunSetup, end: LoopEnd, ending: Ending) -> RunReport:
    """Scan head, commit the passing edits onto a branch and report the change with its metrics."""
    from evolve.research import scan_repository

    result, plan, edits = end.passed, end.basis.plan, end.state.edits
    assert result is not None and plan is not None  # only a passing attempt of a planned run is published
    llm = with_test_verdicts(ending.llm.info(), end.state.test_verdicts, [edit.path for edit in edits])
    after = scan_repository(setup.head, setup.config)
    resolved, new = changed_findings(ending.scan, after)
    metrics = reports.repo_metrics(ending.scan, after, ending.measured.tests, result.head_tests)
    codemods = reports.codemods_used(edits, ending.catalog)
    title = change_title(codemods, [e.to_dict() for e in edits], plan.title or plan.theme)
    published = commit_and_branch(
        setup.repository,
        setup.base_sha,
        {e.path: e.after for e in edits},
        result.diff,
        reports.commit_message(plan, edits, len(resolved), setup.run_id, title),
        reports.branch_name(setup.options, plan, setup.base_sha),
        setup.options.set_branch,
    )
    report = end.basis.report(
        RunStatus.SUCCEEDED,
        reports.success_message(edits, published.branch, published.note, listed_changes(result.proof)),
        attempts=end.state.attempts,
        branch=published.branch,
        commit=published.commit,
        metrics=metrics,
        resolved_findings=resolved,
        new_findings=new,
        codemods=codemods,
        llm=llm,
        diff=result.diff,
        tests={
            **tests_summary(setup.base, setup.config, ending.measured, result.head_tests),
            "pythons": list(ending.suite_proof),
        },
        changed_code=tuple(m.to_dict() for m in metrics_of_changed_code(ending.scan, after, result.proof)),
        finding_changes=finding_changes(ending.scan, after),
        title=title,
    )
    markdown = render_report_markdown(
        report.to_dict(), plan, result.gate_results, metrics, setup.config.attempts, setup.options.surface
    )
    return replace(report, markdown=markdown)


def report_failure(setup: RunSetup, end: LoopEnd, ending: Ending) -> RunReport:
    """No attempt passed: the failed (or nothing-to-do, when every candidate was unprovable) report."""
    tests = tests_summary(setup.base, setup.config, ending.measured, None)
    llm = with_test_verdicts(ending.llm.info(), end.state.test_verdicts)
    return reports.failed(end.basis, end.state, llm, tests, setup.config.attempts, setup.options.surface)
