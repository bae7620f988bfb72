"""The engine: research → plan → refactor → gates (up to 3 attempts) → branch and report.

`run_engine` is the one entry point the CLI and the GitHub App share. It never touches the
user's checkout, index or current branch: the base commit is exported into a plain directory outside
the repository (no `.git` inside), head is a fresh export plus Evolve's edits, and the commit is built
from the edits alone (see `evolve.git`).
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
import traceback
import uuid
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, TypedDict

from evolve.attempts import AttemptOutcome, BaseMeasurements, run_attempt, tests_summary
from evolve.changed_metrics import metrics_of_changed_code
from evolve.config import ConfigError, EvolveConfig, load_config
from evolve.edits import FileEdit
from evolve.environments.for_run import RunEnvironments
from evolve.environments.model import Environment, EnvironmentFailure
from evolve.findings import ScanResult
from evolve.git import GitError
from evolve.git.publish import commit_and_branch
from evolve.git.trees import export_tree
from evolve.git.trust import Repository, open_repository
from evolve.narrowing import narrow_edits
from evolve.operator_limits import apply_operator_limits
from evolve.plan import Plan
from evolve.planner import PlanningInput, make_plan
from evolve.project_rules import ProjectRules, read_project_rules
from evolve.providers import CodemodProvider
from evolve.report_markdown import render_report_markdown
from evolve.results import GateResult, Metric
from evolve.run_status import RunStatus
from evolve.runs import AttemptFeedback, AttemptRecord, RunOptions, RunReport
from evolve.sandbox import SandboxRefused
from evolve.scratch import default_root, make_run_directory, remove_run_directory, sweep_legacy_worktrees
from evolve.suites.startup import cannot_run_message, cannot_start_reason

log = logging.getLogger(__name__)
Progress = Callable[[str, int, int], None]


class _ReportFields(TypedDict):
    """The RunReport fields every outcome of a planned run shares."""

    run_id: str
    repo: str
    base_sha: str
    plan: Plan
    timings: dict[str, float]
    rules: tuple[str, ...]


class _CommonReportFields(_ReportFields, total=False):
    """The shared fields plus, once the base environment is built, its report."""

    environment: dict[str, Any]


LLM_THEME_BY_TASK = {
    "docstrings": "docstrings",
    "complexity": "complexity",
    "tests": "tests",
    "security": "security-fixes",
}


@dataclass(frozen=True)
class PlanOutcome:
    """Research and plan of one checkout, without editing anything."""

    root: Path
    base_sha: str
    config: EvolveConfig
    scan: ScanResult
    plan: Plan


def _codemod_catalog(config: EvolveConfig) -> tuple[dict[str, str], frozenset[str]]:
    from evolve.codemods.registry import available_codemods, select_codemods

    themes = {cid: cls.metadata.theme for cid, cls in available_codemods().items()}
    enabled = frozenset(c.metadata.id for c in select_codemods(config.codemods.only, config.codemods.disabled))
    return themes, enabled


def _llm_themes(config: EvolveConfig, llm_on: bool) -> frozenset[str]:
    return frozenset(LLM_THEME_BY_TASK[t] for t in config.llm.tasks) if llm_on else frozenset()


def _plan(
    root_or_tree: Path,
    config: EvolveConfig,
    options: RunOptions,
    llm_on: bool,
    progress: Progress | None,
    environment: Environment | None = None,
    rules: ProjectRules | None = None,
) -> tuple[ScanResult, Plan]:
    from evolve.research import scan_repository

    scan = scan_repository(
        root_or_tree, config, with_coverage=options.with_coverage, progress=progress, environment=environment
    )
    return scan, _plan_from_scan(scan, config, options, llm_on, options.focus or config.focus, rules)


def _plan_from_scan(
    scan: ScanResult,
    config: EvolveConfig,
    options: RunOptions,
    llm_on: bool,
    focus: str | None,
    rules: ProjectRules | None = None,
) -> Plan:
    from evolve.codemods.registry import available_codemods
    from evolve.project_rules.planning import filter_findings

    themes, enabled = _codemod_catalog(config)
    reenabled = set(config.codemods.reenabled)
    lint_codes = {cid: cls.metadata.lint_codes for cid, cls in available_codemods().items()}
    rules = rules if rules is not None else read_project_rules(Path(scan.root))
    allowed = filter_findings(scan.findings, rules, lint_codes, focus)
    plan = make_plan(
        PlanningInput(
            findings=allowed.kept,
            limits=config.limits,
            codemod_themes=themes,
            enabled_codemods=enabled,
            acceptance=dict(options.acceptance),
            blocked=frozenset(c for c in options.blocked_codemods if c not in reenabled),
            llm_themes=_llm_themes(config, llm_on),
            focus=focus,
            skip_themes=options.themes_to_skip,
            include_kinds=tuple(config.scope.include_kinds),
        )
    )
    return replace(plan, notes=plan.notes + allowed.notes) if allowed.dropped else plan


def _deterministic_fallback(
    scan: ScanResult, config: EvolveConfig, options: RunOptions, plan: Plan, rules: ProjectRules | None = None
) -> Plan:
    """The plan without LLM themes, for when the LLM stage produced nothing; an LLM-only focus is dropped."""
    focus = options.focus or config.focus
    themes, _ = _codemod_catalog(config)
    if focus and focus not in themes and focus not in set(themes.values()):
        focus = None
    return _plan_from_scan(scan, config, options, False, focus, rules)


def resolve_base(repository: Repository, ref: str) -> str:
    """The full sha of `ref` in the repository; a GitError saying what is wrong otherwise."""
    from evolve.git.branches import resolve_commit

    sha = resolve_commit(repository.git_dir, ref)
    if sha is None:
        if ref == "HEAD":
            raise GitError(f"{repository.label} has no commits yet: commit something first")
        raise GitError(f"{ref!r} is not a commit in {repository.label}")
    return sha


def plan_repository(
    repo: Path, options: RunOptions = RunOptions(), config: EvolveConfig | None = None, progress: Progress | None = None
) -> PlanOutcome:
    """Research and plan a checkout as it is on disk (a bare repository: its base commit). Raises
    ConfigError/GitError."""
    repository = open_repository(repo)
    base_sha = resolve_base(repository, options.base_ref)
    llm_on = options.llm
    if repository.work_tree is not None:
        config = apply_operator_limits(config or load_config(repository.work_tree), options.operator)[0]
        environment = _research_environment(repository.work_tree, config, options, progress)
        scan, plan = _plan(
            repository.work_tree, config, options, llm_on and _llm_available(config, options), progress, environment
        )
        return PlanOutcome(repository.work_tree, base_sha, config, scan, plan)
    run_dir = make_run_directory(
        options.work_dir or default_root(), f"plan-{uuid.uuid4().hex[:12]}", repository.git_dir
    )
    try:
        tree = export_tree(repository.git_dir, base_sha, run_dir / "base").path
        config = apply_operator_limits(config or load_config(tree), options.operator)[0]
        environment = _research_environment(tree, config, options, progress)
        scan, plan = _plan(tree, config, options, llm_on and _llm_available(config, options), progress, environment)
    finally:
        remove_run_directory(run_dir)
    return PlanOutcome(repository.git_dir, base_sha, config, scan, plan)


def _research_environment(
    tree: Path, config: EvolveConfig, options: RunOptions, progress: Progress | None
) -> Environment | None:
    """The environment research's coverage run uses (when it runs); a build failure leaves Evolve's own."""
    if not options.with_coverage:
        return None
    prepared = RunEnvironments(options.environment, config, progress).base(tree)
    return prepared if isinstance(prepared, Environment) else None


def _llm_available(config: EvolveConfig, options: RunOptions) -> bool:
    from evolve.llm import build_provider

    return build_provider(config, limits=options.operator) is not None


def _branch_name(options: RunOptions, plan: Plan, base_sha: str) -> str:
    if options.branch_name:
        return options.branch_name
    digest = hashlib.sha1(f"{base_sha}:{plan.theme}:{','.join(plan.files)}".encode()).hexdigest()[:7]
    return f"{options.branch_prefix}/{plan.theme}-{digest}"


def _repo_metrics(
    before: ScanResult, after: ScanResult, base_tests: object | None, head_tests: object | None
) -> tuple[Metric, ...]:
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
    base_cov = getattr(base_tests, "coverage_percent", None)
    head_cov = getattr(head_tests, "coverage_percent", None)
    if base_cov is not None or head_cov is not None:
        metrics.append(Metric("line coverage", base_cov, head_cov, "higher", "%"))
    if head_tests is not None and not getattr(head_tests, "no_tests", True):
        metrics.append(
            Metric("tests passed", getattr(base_tests, "passed", None), getattr(head_tests, "passed", None), "higher")
        )
    return tuple(metrics)


def _commit_message(plan: Plan, edits: tuple[FileEdit, ...], resolved: int, run_id: str) -> str:
    codemods = sorted({c.codemod for e in edits for c in e.changes})
    body = [
        f"evolve: {plan.title[0].lower() + plan.title[1:] if plan.title else plan.theme}",
        "",
        f"Theme {plan.theme}: {len(edits)} file(s) changed, {resolved} finding(s) resolved.",
    ]
    if codemods:
        body.append("Codemods: " + ", ".join(codemods) + ".")
    body += ["", f"Evolve-Run: {run_id}"]
    return "\n".join(body) + "\n"


def _write_report(report: RunReport, directory: Path) -> RunReport:
    directory.mkdir(parents=True, exist_ok=True)
    report = replace(report, report_dir=str(directory))
    (directory / "report.json").write_text(json.dumps(report.to_dict(), indent=2) + "\n", encoding="utf-8")
    (directory / "report.md").write_text(
        report.markdown or f"# Evolve run {report.run_id}\n\n{report.message}\n", encoding="utf-8"
    )
    if report.diff:
        (directory / "change.diff").write_text(report.diff, encoding="utf-8")
    return report


def run_engine(
    repo: Path, options: RunOptions = RunOptions(), config: EvolveConfig | None = None, progress: Progress | None = None
) -> RunReport:
    """Run research, plan, edits and gates on a checkout; return the report. Never raises for bad input."""
    started = time.monotonic()
    run_id = options.run_id or uuid.uuid4().hex[:12]
    try:
        repository = open_repository(repo)
        base_sha = resolve_base(repository, options.base_ref)
    except GitError as error:
        return RunReport(
            run_id=run_id, status=RunStatus.ERROR, repo=str(repo), base_sha=None, plan=None, message=str(error)
        )
    label = repository.label
    output = options.output_dir or (repository.common_dir / "evolve" / "runs" / run_id)
    sweep_legacy_worktrees(repository.common_dir)
    try:
        run_dir = make_run_directory(
            options.work_dir or default_root(), run_id, repository.work_tree or repository.git_dir
        )
    except OSError as error:
        message = f"no private directory for the run's trees: {error}"
        return RunReport(
            run_id=run_id, status=RunStatus.ERROR, repo=label, base_sha=base_sha, plan=None, message=message
        )
    try:
        report = _run_in_trees(repository, base_sha, run_dir, run_id, options, config, progress)
    except (ConfigError, GitError, SandboxRefused) as error:
        report = RunReport(
            run_id=run_id, status=RunStatus.ERROR, repo=label, base_sha=base_sha, plan=None, message=str(error)
        )
    except Exception as error:  # the engine reports; it does not crash its caller
        log.exception("run %s failed", run_id)
        report = RunReport(
            run_id=run_id,
            status=RunStatus.ERROR,
            repo=label,
            base_sha=base_sha,
            plan=None,
            message=f"internal error: {type(error).__name__}: {error}",
            diff=traceback.format_exc(),
        )
    finally:
        remove_run_directory(run_dir)
    duration = time.monotonic() - started
    timings = dict(report.timings)
    timings["total"] = duration
    timings["overhead"] = duration - timings.get("tests", 0.0)
    report = replace(report, duration_seconds=duration, timings=timings)
    return _write_report(report, output)


def _propose(
    provider,
    workspace: Path,
    plan: Plan,
    feedback: AttemptFeedback | None,
    scan: ScanResult,
    rules: ProjectRules | None = None,
):
    """Ask a provider for edits (the LLM also gets the findings behind its tasks), styled by the project's formatter."""
    from evolve.project_rules.formatting import format_edits

    if isinstance(provider, CodemodProvider):
        outcome = provider.propose(workspace, plan, feedback)
    else:
        outcome = provider.propose(workspace, plan, feedback, findings=scan.findings)
    rules = rules if rules is not None else read_project_rules(workspace)
    edits, notes = format_edits(workspace, outcome.edits, rules)
    return replace(outcome, edits=edits, notes=(*outcome.notes, *notes))


def _environment_failed(
    run_id: str,
    repo_label: str,
    base_sha: str,
    plan: Plan | None,
    timings: dict[str, float],
    environments: RunEnvironments,
) -> RunReport:
    """The run ends before any attempt: the test environment could not be built (said once, as the message)."""
    failure = environments.prepared
    message = failure.message if isinstance(failure, EnvironmentFailure) else "could not build the test environment"
    return RunReport(
        run_id=run_id,
        status=RunStatus.ERROR,
        repo=repo_label,
        base_sha=base_sha,
        plan=plan,
        message=message,
        timings=timings,
        environment=environments.report(),
    )


def _run_in_trees(
    repository: Repository,
    base_sha: str,
    run_dir: Path,
    run_id: str,
    options: RunOptions,
    config: EvolveConfig | None,
    progress: Progress | None,
) -> RunReport:
    from evolve.codemods.registry import available_codemods
    from evolve.codemods.runner import repository_min_python

    base = export_tree(repository.git_dir, base_sha, run_dir / "base").path
    # `evolve run` and `evolve plan` read the same configuration: the working tree's (the App passes its own).
    config = apply_operator_limits(config or load_config(repository.work_tree or base), options.operator)[0]
    llm = None
    llm_notes: list[str] = []
    if options.llm:
        from evolve.llm import build_provider

        llm = build_provider(config, limits=options.operator)
        if llm is None:
            llm_notes.append(
                "LLM stage requested but not configured (no API key from the operator, or llm.enabled is false); deterministic catalog only"
            )
    environments = RunEnvironments(options.environment, config, progress)
    clock = time.monotonic()
    research_environment = environments.base(base) if options.with_coverage else None
    if isinstance(research_environment, EnvironmentFailure):
        return _environment_failed(run_id, repository.label, base_sha, None, {}, environments)
    project_rules = read_project_rules(base)  # once per run: planning, formatting and the gates share it
    scan, plan = _plan(base, config, options, llm is not None, progress, research_environment, project_rules)
    timings = {"research": time.monotonic() - clock}
    from evolve.project_rules.sources import describe_rule_sources

    rules = describe_rule_sources(project_rules)
    common = _CommonReportFields(
        run_id=run_id, repo=repository.label, base_sha=base_sha, plan=plan, timings=timings, rules=rules
    )
    if plan.empty:
        return RunReport(
            **common,
            status=RunStatus.NOTHING_TO_DO,
            message="Nothing to do: " + "; ".join(plan.notes) + ".",
            llm={"notes": llm_notes} if llm_notes else {},
        )
    codemod_plan = all(task.kind == "codemod" for task in plan.tasks)
    provider = CodemodProvider(repository_min_python(base)) if codemod_plan else llm
    if provider is None:
        return RunReport(
            **common, status=RunStatus.NOTHING_TO_DO, message="The plan needs the LLM stage, which is not configured."
        )
    if progress:
        progress("editing", 0, len(plan.tasks))
    clock = time.monotonic()
    outcome = _propose(provider, base, plan, None, scan, project_rules)
    timings["edits"] = time.monotonic() - clock
    edits = tuple(e for e in outcome.edits if e.changed)
    provider_notes = list(outcome.notes)
    if not codemod_plan and not edits:
        # The LLM stage produced nothing (API down, budget spent, every edit rejected): carry on deterministically.
        fallback = _deterministic_fallback(scan, config, options, plan, project_rules)
        if not fallback.empty:
            llm_notes.append(
                f"the LLM stage produced no edits for `{plan.theme}`; continuing with the deterministic catalog (`{fallback.theme}`)"
            )
            plan, codemod_plan = fallback, True
            common["plan"] = plan
            provider = CodemodProvider(repository_min_python(base))
            outcome = _propose(provider, base, plan, None, scan, project_rules)
            edits = tuple(e for e in outcome.edits if e.changed)
            provider_notes += list(outcome.notes)
    catalog = available_codemods()

    def used_codemods(final: tuple[FileEdit, ...]) -> tuple[dict, ...]:
        ids = sorted({c.codemod for e in final for c in e.changes if c.codemod in catalog})
        return tuple(catalog[i].metadata.to_dict() for i in ids)

    def llm_info() -> dict:
        if llm is None:
            return {"notes": llm_notes} if llm_notes else {}
        return {"usage": llm.usage_summary(), "notes": llm_notes}

    if options.dry_run:
        diff = "".join(e.diff() for e in edits)
        record = AttemptRecord(
            number=0, edits=edits, gate_results=(), note="dry run: gates not run", provider_notes=tuple(provider_notes)
        )
        return RunReport(
            **common,
            status=RunStatus.DRY_RUN,
            attempts=(record,),
            codemods=used_codemods(edits),
            diff=diff,
            llm=llm_info(),
            message=f"Dry run: {len(edits)} file(s) would change; no branch was made.",
        )
    clock = time.monotonic()
    environment = environments.base(base)
    timings["environment"] = time.monotonic() - clock
    if isinstance(environment, EnvironmentFailure):
        return _environment_failed(run_id, repository.label, base_sha, plan, timings, environments)
    common["environment"] = environments.report()
    head = run_dir / "head"
    measured = BaseMeasurements(environment=environment, head_environment=environments.head, rules=project_rules)
    attempts: list[AttemptRecord] = []
    last_results: tuple[GateResult, ...] = ()
    head_test_seconds = 0.0
    for number in range(1, config.attempts + 1):
        if not edits:
            break
        if progress:
            progress(f"attempt {number}: gates", number, config.attempts)
        clock = time.monotonic()
        result = run_attempt(base, head, base_sha, edits, config, measured, progress, git_dir=repository.git_dir)
        timings["gates"] = timings.get("gates", 0.0) + time.monotonic() - clock
        proof = result.proof.to_dict() if result.proof is not None else {}
        cannot_start = cannot_start_reason(measured.tests)
        stopped = cannot_run_message(cannot_start) if cannot_start is not None else result.cannot_check
        if stopped is not None:
            # Base's own suite does not start, or a gate's tool cannot check (missing, broken environment): no
            # change can be proven, and narrowing would only hide that.
            attempts.append(AttemptRecord(number, result.edits or edits, result.gate_results, proof=proof))
            common["environment"] = environments.report()
            return RunReport(**common, status=RunStatus.ERROR, attempts=tuple(attempts), message=stopped)
        if not result.edits:
            note = "every change was left out: no test executes it and nothing proves it equivalent"
            attempts.append(AttemptRecord(number, edits, (), tuple(sorted({e.path for e in edits})), note, proof=proof))
            break
        edits = result.edits
        head_test_seconds += result.head_tests.duration if result.head_tests is not None else 0.0
        timings["tests"] = head_test_seconds + (measured.tests.duration if measured.tests is not None else 0.0)
        last_results = result.gate_results
        passed = all(r.ok for r in result.gate_results)
        if passed:
            attempts.append(
                AttemptRecord(number, edits, result.gate_results, provider_notes=tuple(provider_notes), proof=proof)
            )
            return _finish_success(
                repository,
                head,
                base,
                base_sha,
                plan,
                edits,
                attempts,
                scan,
                result,
                measured,
                options,
                common,
                used_codemods(edits),
                llm_info(),
                config,
            )
        feedback = AttemptFeedback(number, result.gate_results, edits)
        if codemod_plan:
            narrowed = narrow_edits(edits, result.gate_results)
            attempts.append(
                AttemptRecord(
                    number, edits, result.gate_results, narrowed.dropped, narrowed.note, tuple(provider_notes), proof
                )
            )
            edits, provider_notes = narrowed.kept, []
        else:
            attempts.append(
                AttemptRecord(
                    number,
                    edits,
                    result.gate_results,
                    note="failing gates' evidence goes back to the model",
                    provider_notes=tuple(provider_notes),
                    proof=proof,
                )
            )
            if number < config.attempts:
                outcome = _propose(provider, base, plan, feedback, scan, project_rules)
                edits = tuple(e for e in outcome.edits if e.changed)
                provider_notes = list(outcome.notes)
    failing = sorted({r.gate for r in last_results if not r.ok})
    message = (
        f"No change passed every gate in {len(attempts)} attempt(s)"
        + (f" (last failing: {', '.join(failing)})" if failing else "")
        + "; nothing was committed."
    )
    if attempts and not attempts[-1].gate_results and attempts[-1].proof.get("hunks"):
        message = (
            "Every change was left out: no test executes it and nothing proves it equivalent "
            "(a risky rewrite needs one or the other); nothing was committed."
        )
    if not attempts:
        message = (
            "The plan produced no edits: " + ("; ".join(provider_notes) or "every candidate was left unchanged") + "."
        )
    # Nothing tried passed or failed a gate: every candidate was unprovable, which is nothing to do, not a failure.
    unprovable = len(attempts) == 1 and not attempts[0].gate_results and bool(attempts[0].proof.get("hunks"))
    report = RunReport(
        **common,
        status=RunStatus.NOTHING_TO_DO if unprovable else RunStatus.FAILED,
        attempts=tuple(attempts),
        message=message,
        codemods=(),
        llm=llm_info(),
        tests=tests_summary(base, config, measured, None),
    )
    markdown = render_report_markdown(report.to_dict(), plan, last_results, (), config.attempts)
    return replace(report, markdown=markdown)


def _finish_success(
    repository: Repository,
    head: Path,
    base: Path,
    base_sha: str,
    plan: Plan,
    edits: tuple[FileEdit, ...],
    attempts: list[AttemptRecord],
    scan: ScanResult,
    result: AttemptOutcome,
    measured: BaseMeasurements,
    options: RunOptions,
    common: _CommonReportFields,
    codemods: tuple[dict[str, Any], ...],
    llm_info: dict[str, Any],
    config: EvolveConfig,
) -> RunReport:
    from evolve.research import scan_repository

    after = scan_repository(head, config)
    resolved = tuple(sorted({f.id for f in scan.findings} - {f.id for f in after.findings}))
    new = tuple(sorted({f.id for f in after.findings} - {f.id for f in scan.findings}))
    metrics = _repo_metrics(scan, after, measured.tests, result.head_tests)
    message_text = _commit_message(plan, edits, len(resolved), common["run_id"])
    published = commit_and_branch(
        repository,
        base_sha,
        {e.path: e.after for e in edits},
        result.diff,
        message_text,
        _branch_name(options, plan, base_sha),
        options.set_branch,
    )
    sha, branch = published.commit, published.branch
    files = len(edits)
    message = (
        f"Evolve made {sum(len(e.changes) for e in edits) or files} change(s) in {files} file(s) that pass every gate."
    )
    if published.note:
        message += f" Note: {published.note}; the change is on `{branch}` instead."
    report = RunReport(
        **common,
        status=RunStatus.SUCCEEDED,
        attempts=tuple(attempts),
        branch=branch,
        commit=sha,
        metrics=metrics,
        resolved_findings=resolved,
        new_findings=new,
        codemods=codemods,
        llm=llm_info,
        diff=result.diff,
        message=message,
        tests=tests_summary(base, config, measured, result.head_tests),
        changed_code=tuple(m.to_dict() for m in metrics_of_changed_code(scan, after, result.proof)),
    )
    markdown = render_report_markdown(report.to_dict(), plan, result.gate_results, metrics, config.attempts)
    return replace(report, markdown=markdown)
