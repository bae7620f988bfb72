"""Pure report builders: each way a run can end, as a RunReport made from frozen values (no I/O here)."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import replace
from typing import Any, Literal

from evolve.edits import FileEdit
from evolve.environments.model import Environment, EnvironmentFailure
from evolve.findings import ScanResult
from evolve.plan.tasks import Plan
from evolve.reports.markdown import render_report_markdown
from evolve.results import Metric
from evolve.run_status import RunStatus
from evolve.runs import AttemptRecord, RunOptions, RunReport
from evolve.suites.runs import TestRun
from evolve.wording import plural

from .values import LlmStage, LoopState, Proposal, ReportBasis

NEEDS_LLM = "The plan needs the LLM stage, which is not configured."
UNPROVABLE_MESSAGE = (
    "Every change was left out: no test executes it and nothing proves it equivalent "
    "(a risky rewrite needs one or the other); nothing was committed."
)


def environment_failed(basis: ReportBasis, prepared: Environment | EnvironmentFailure | None) -> RunReport:
    """The run ends before any attempt: the test environment could not be built (said once, as the message)."""
    message = prepared.message if isinstance(prepared, EnvironmentFailure) else "could not build the test environment"
    return replace(basis, rules=()).report(RunStatus.ERROR, message)


def nothing_planned(basis: ReportBasis, plan: Plan, llm: LlmStage) -> RunReport:
    """The plan is empty: its notes say why."""
    return basis.report(RunStatus.NOTHING_TO_DO, "Nothing to do: " + "; ".join(plan.notes) + ".", llm=llm.notes_only())


def needs_llm(basis: ReportBasis) -> RunReport:
    """The plan has LLM tasks only, and there is no LLM stage."""
    return basis.report(RunStatus.NOTHING_TO_DO, NEEDS_LLM)


def codemods_used(edits: tuple[FileEdit, ...], catalog: Mapping[str, dict[str, Any]]) -> tuple[dict[str, Any], ...]:
    """The metadata of the installed codemods the edits applied, by id."""
    ids = sorted({c.codemod for e in edits for c in e.changes if c.codemod in catalog})
    return tuple(catalog[i] for i in ids)


def dry_run(
    basis: ReportBasis, proposal: Proposal, catalog: Mapping[str, dict[str, Any]], llm: dict[str, Any]
) -> RunReport:
    """A dry run ends with the diff of the first proposal; no gate ran and no branch was made."""
    edits = proposal.edits
    record = AttemptRecord(
        number=0, edits=edits, gate_results=(), note="dry run: gates not run", provider_notes=proposal.notes
    )
    return basis.report(
        RunStatus.DRY_RUN,
        f"Dry run: {plural(len(edits), 'file')} would change; no branch was made.",
        attempts=(record,),
        codemods=codemods_used(edits, catalog),
        diff="".join(e.diff() for e in edits),
        llm=llm,
    )


def cannot_check(basis: ReportBasis, state: LoopState, message: str) -> RunReport:
    """Base's own test suite does not start, or a gate cannot check: no change can be proven."""
    return basis.report(RunStatus.ERROR, message, attempts=state.attempts)


def _unprovable(attempt: AttemptRecord) -> bool:
    return not attempt.gate_results and bool(attempt.proof.get("hunks"))


def failure_message(state: LoopState) -> str:
    """Why nothing was committed: no edits, every change unprovable, or the gates that still failed."""
    attempts = state.attempts
    if not attempts:
        return (
            "The plan produced no edits: "
            + ("; ".join(state.provider_notes) or "every candidate was left unchanged")
            + "."
        )
    if _unprovable(attempts[-1]):
        return UNPROVABLE_MESSAGE
    failing = sorted({r.gate for r in state.last_results if not r.ok})
    return (
        f"No change passed every gate in {plural(len(attempts), 'attempt')}"
        + (f" (last failing: {', '.join(failing)})" if failing else "")
        + "; nothing was committed."
    )


def failure_status(state: LoopState) -> RunStatus:
    """Nothing tried passed or failed a gate (every candidate unprovable): nothing to do, not a failure."""
    only_unprovable = len(state.attempts) == 1 and _unprovable(state.attempts[0])
    return RunStatus.NOTHING_TO_DO if only_unprovable else RunStatus.FAILED


def failed(
    basis: ReportBasis,
    state: LoopState,
    llm: dict[str, Any],
    tests: dict[str, Any],
    most: int,
    surface: Literal["cli", "app"] = "cli",
) -> RunReport:
    """No attempt passed every gate: the attempts, why, and the report's Markdown."""
    report = basis.report(
        failure_status(state), failure_message(state), attempts=state.attempts, codemods=(), llm=llm, tests=tests
    )
    assert basis.plan is not None  # a failed run had a plan
    markdown = render_report_markdown(report.to_dict(), basis.plan, state.last_results, (), most, surface)
    return replace(report, markdown=markdown)


def repo_metrics(
    before: ScanResult, after: ScanResult, base_tests: TestRun | None, head_tests: TestRun | None
) -> tuple[Metric, ...]:
    """The repository-wide figures of base and head, for the report's table."""
    b, a = before.totals, after.totals
    metrics = [
        Metric("average complexity", b.average_complexity, a.average_complexity, "lower"),
        Metric("max complexity", b.max_complexity, a.max_complexity, "lower"),
        Metric("average maintainability index", b.average_maintainability, a.average_maintainability, "higher"),
        Metric("docstring coverage", b.docstring_coverage, a.docstring_coverage, "higher", "%"),
        Metric("findings", b.findings, a.findings, "lower"),
        Metric("security findings", b.security_findings, a.security_findings, "lower"),
        Metric("source lines", b.sloc, a.sloc, "neutral"),
    ]
    base_cov = base_tests.coverage_percent if base_tests is not None else None
    head_cov = head_tests.coverage_percent if head_tests is not None else None
    if base_cov is not None or head_cov is not None:
        metrics.append(Metric("line coverage", base_cov, head_cov, "higher", "%"))
    if head_tests is not None and not head_tests.no_tests:
        base_passed = base_tests.passed if base_tests is not None else None
        metrics.append(Metric("tests passed", base_passed, head_tests.passed, "higher"))
    return tuple(metrics)


def commit_message(plan: Plan, edits: tuple[FileEdit, ...], resolved: int, run_id: str, title: str = "") -> str:
    """The commit's message: the change's title (else the plan's), counts, codemods and the run id trailer."""
    codemods = sorted({c.codemod for e in edits for c in e.changes})
    heading = title or plan.title
    body = [
        f"evolve: {heading[0].lower() + heading[1:] if heading else plan.theme}",
        "",
        f"Theme {plan.theme}: {plural(len(edits), 'file')} changed, {plural(resolved, 'finding')} resolved.",
    ]
    if codemods:
        body.append("Codemods: " + ", ".join(codemods) + ".")
    body += ["", f"Evolve-Run: {run_id}"]
    return "\n".join(body) + "\n"


def branch_name(options: RunOptions, plan: Plan, base_sha: str) -> str:
    """The branch the change goes on: the one asked for, else `<prefix>/<theme>-<digest of base, theme, files>`."""
    if options.branch_name:
        return options.branch_name
    digest = hashlib.sha1(f"{base_sha}:{plan.theme}:{','.join(plan.files)}".encode()).hexdigest()[:7]
    return f"{options.branch_prefix}/{plan.theme}-{digest}"


def success_message(edits: tuple[FileEdit, ...], branch: str, note: str | None, changes: int | None = None) -> str:
    """One sentence on what passed, and where the change went when not where it was asked. `changes` is how many
    changes the report lists (its proof's kept hunks), else the codemods' change records are counted."""
    files = len(edits)
    count = changes if changes else (sum(len(e.changes) for e in edits) or files)
    message = f"Evolve made {plural(count, 'change')} in {plural(files, 'file')} that pass every gate."
    if note:
        message += f" Note: {note}; the change is on `{branch}` instead."
    return message
