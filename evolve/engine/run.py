"""`run_engine`: open the repository, make the run's private directory, run the steps, write the report.

The steps, each a function from frozen values to a frozen value (see `values.py`), with the I/O at their edges:
prepare (export base, read config) → LLM stage → research and plan → first proposal → [dry run ends here] →
base environment → attempt loop (`attempt_loop.py`) → publish the passing change or report why not (`finish.py`).
A step that ends the run returns its RunReport; `_steps` returns the first one.
"""

from __future__ import annotations

import json
import logging
import time
import traceback
import uuid
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from evolve.config_loading.loading import load_config
from evolve.configuration.model import ConfigError, EvolveConfig
from evolve.configuration.operator_limits import apply_operator_limits
from evolve.engine.attempts import BaseMeasurements
from evolve.environments.for_run import RunEnvironments
from evolve.environments.model import EnvironmentFailure
from evolve.git import GitError
from evolve.git.trees import export_tree
from evolve.git.trust import open_repository
from evolve.project_rules import read_project_rules
from evolve.run_status import RunStatus
from evolve.runs import RunOptions, RunReport
from evolve.sandbox import SandboxRefused
from evolve.sandbox.cancellation import RunCancelled
from evolve.sandbox.cancellation import check as check_cancelled
from evolve.sandbox.scratch import default_root, make_run_directory, remove_run_directory, sweep_legacy_worktrees

from . import reports

if TYPE_CHECKING:
    from evolve.research.base_suites import BaseSuites, SuiteProof
from .attempt_loop import run_attempts
from .finish import publish_success, report_failure, with_test_verdicts
from .mutant_tests import wants_survivors
from .planning import base_suites, plan_request, resolve_base, scan_and_plan, with_suite_installs
from .proposal import first_proposal
from .test_gaps import research_test_gaps
from .values import (
    Drafted,
    Ending,
    LlmStage,
    Measured,
    Progress,
    ReportBasis,
    Researched,
    RunRequest,
    RunSetup,
)

log = logging.getLogger(__name__)
NO_LLM_NOTE = (
    "LLM stage requested but not configured (no API key from the operator, or llm.enabled is false); "
    "deterministic catalog only"
)


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
    output = options.output_dir or (repository.common_dir / "evolve" / "runs" / run_id)
    sweep_legacy_worktrees(repository.common_dir)
    try:
        run_dir = make_run_directory(
            options.work_dir or default_root(), run_id, repository.work_tree or repository.git_dir
        )
    except OSError as error:
        message = f"no private directory for the run's trees: {error}"
        return RunReport(
            run_id=run_id, status=RunStatus.ERROR, repo=repository.label, base_sha=base_sha, plan=None, message=message
        )
    try:
        report = _guarded(RunRequest(repository, base_sha, run_dir, run_id, options, config, progress))
    finally:
        remove_run_directory(run_dir)
    return write_report(with_total_time(report, time.monotonic() - started), output)


def _guarded(request: RunRequest) -> RunReport:
    """The run's steps; a configuration, git or sandbox problem, or any crash, becomes an error report."""
    error_report = RunReport(
        run_id=request.run_id,
        status=RunStatus.ERROR,
        repo=request.repository.label,
        base_sha=request.base_sha,
        plan=None,
    )
    try:
        return _steps(request)
    except RunCancelled as error:  # its caller asked it to stop: the sandboxed child is already killed
        return replace(error_report, status=RunStatus.CANCELLED, message=str(error))
    except (ConfigError, GitError, SandboxRefused) as error:
        return replace(error_report, message=str(error))
    except Exception as error:  # the engine reports; it does not crash its caller
        log.exception("run %s failed", request.run_id)
        message = f"internal error: {type(error).__name__}: {error}"
        return replace(error_report, message=message, diff=traceback.format_exc())


def with_total_time(report: RunReport, duration: float) -> RunReport:
    """The report with the run's duration, its `total` timing and `overhead` (all but the test runs)."""
    timings = dict(report.timings)
    timings["total"] = duration
    timings["overhead"] = duration - timings.get("tests", 0.0)
    return replace(report, duration_seconds=duration, timings=timings)


def write_report(report: RunReport, directory: Path) -> RunReport:
    """Write report.json, report.md and (when there is one) change.diff; the report, knowing where they are."""
    directory.mkdir(parents=True, exist_ok=True)
    report = replace(report, report_dir=str(directory))
    (directory / "report.json").write_text(json.dumps(report.to_dict(), indent=2) + "\n", encoding="utf-8")
    (directory / "report.md").write_text(
        report.markdown or f"# Evolve run {report.run_id}\n\n{report.message}\n", encoding="utf-8"
    )
    if report.diff:
        (directory / "change.diff").write_text(report.diff, encoding="utf-8")
    return report


def _steps(request: RunRequest) -> RunReport:
    """The engine loop, one step at a time; each step either hands its value on or ends the run with a report."""
    setup = prepare(request)
    llm = llm_stage(setup)
    suites = base_suites(setup.base, setup.base_sha, setup.config, setup.options, setup.progress)
    setup = replace(setup, config=with_suite_installs(setup.config, suites))  # the gates' suite starts too
    environments = RunEnvironments(setup.options.environment, setup.config, setup.progress)
    check_cancelled()
    researched = research(setup, environments, llm, suites)
    if isinstance(researched, RunReport):
        return researched
    if researched.plan.empty:
        return reports.nothing_planned(researched.basis, researched.plan, llm)
    check_cancelled()
    drafted = first_proposal(setup, researched, llm)
    if drafted is None:
        return reports.needs_llm(researched.basis)
    catalog = _codemod_catalog()
    if setup.options.dry_run:
        llm_info = with_test_verdicts(drafted.llm.info(), drafted.proposal.test_verdicts)
        return reports.dry_run(drafted.basis, drafted.proposal, catalog, llm_info)
    check_cancelled()
    built = build_environment(setup, environments, drafted, suites)
    if isinstance(built, RunReport):
        return built
    check_cancelled()
    end = run_attempts(setup, drafted, built, researched.scan)
    check_cancelled()
    ending = Ending(researched.scan, built.measured, drafted.llm, catalog)
    if end.verdict == "cannot-check":
        return reports.cannot_check(replace(end.basis, environment=environments.report()), end.state, end.message)
    if end.verdict == "passed" and suites is not None and any(run.ran for run in suites.runs):
        proved = prove_on_pythons(setup, suites)
        if proved.regressions:
            failed = report_failure(setup, end, ending)
            message = f"the change makes tests fail that pass on base: {', '.join(proved.regressions[:10])}"
            return replace(failed, status=RunStatus.FAILED, message=message)
        ending = replace(ending, suite_proof=proved.lines)
    if end.verdict == "passed":
        return publish_success(setup, end, ending)
    return report_failure(setup, end, ending)


def prove_on_pythons(setup: RunSetup, suites: BaseSuites) -> SuiteProof:
    """Head's suite on each Python research ran base's on: the failing tests it turns green, none turned red."""
    from evolve.research.base_suites import prove_head

    if setup.progress:
        setup.progress("running the tests on head on each Python", 0, 1)
    return prove_head(setup.head, setup.config, setup.options.environment, suites)


def prepare(request: RunRequest) -> RunSetup:
    """Export the base commit and read the configuration in force (the caller's, else the checkout's)."""
    repository = request.repository
    base = export_tree(repository.git_dir, request.base_sha, request.run_dir / "base").path
    # `evolve run` and `evolve plan` read the same configuration: the working tree's (the App passes its own).
    config = request.config or load_config(repository.work_tree or base)
    return RunSetup(
        repository=repository,
        base_sha=request.base_sha,
        run_id=request.run_id,
        base=base,
        head=request.run_dir / "head",
        options=request.options,
        config=apply_operator_limits(config, request.options.operator)[0],
        # Once per run: planning, formatting and the gates share the project's rules.
        rules=read_project_rules(base),
        progress=request.progress,
    )


def llm_stage(setup: RunSetup) -> LlmStage:
    """The LLM provider when the run asks for it and the operator and configuration allow it."""
    if not setup.options.llm:
        return LlmStage()
    from evolve.llm import build_provider

    provider = build_provider(setup.config, limits=setup.options.operator)
    return LlmStage(provider) if provider is not None else LlmStage(notes=(NO_LLM_NOTE,))


def research(
    setup: RunSetup, environments: RunEnvironments, llm: LlmStage, suites: BaseSuites | None = None
) -> Researched | RunReport:
    """Scan base (with coverage, in the test environment, when asked) and plan, fixes of failing tests first
    (`suites`: what base's suites showed); the rules the project declares."""
    from evolve.project_rules.sources import describe_rule_sources

    basis = ReportBasis(setup.run_id, setup.repository.label, setup.base_sha, None)
    clock = time.monotonic()
    request = plan_request(setup.config, setup.options, llm.provider is not None)
    red = bool(suites.red_fixes()) if suites is not None else False
    survivors = wants_survivors(setup.config, request.llm_on, request.focus, red)
    environment = environments.base(setup.base) if setup.options.with_coverage or survivors else None
    if isinstance(environment, EnvironmentFailure):
        return reports.environment_failed(replace(basis, environment=environments.report()), environment)
    scan, plan = scan_and_plan(setup.base, request, setup.progress, environment, setup.rules, suites, setup.base_sha)
    if setup.options.test_gaps and setup.config.research.test_gaps.enabled:
        gaps_environment = environments.base(setup.base)
        if isinstance(gaps_environment, EnvironmentFailure):
            return reports.environment_failed(replace(basis, environment=environments.report()), gaps_environment)
        gaps = research_test_gaps(
            setup.base,
            setup.base_sha,
            setup.repository.git_dir,
            setup.config,
            scan,
            gaps_environment,
            setup.progress,
        )
        plan = replace(plan, test_gaps=gaps)
    basis = replace(basis, plan=plan).timed("research", time.monotonic() - clock)
    rules = describe_rule_sources(setup.rules)
    return Researched(scan, plan, replace(basis, rules=rules), environment)


def build_environment(
    setup: RunSetup, environments: RunEnvironments, drafted: Drafted, suites: BaseSuites | None = None
) -> Measured | RunReport:
    """Build (or reuse) base's test environment, timed; the measurements the attempts will share."""
    clock = time.monotonic()
    environment = environments.base(setup.base)
    basis = drafted.basis.timed("environment", time.monotonic() - clock)
    basis = replace(basis, environment=environments.report())
    if isinstance(environment, EnvironmentFailure):
        return reports.environment_failed(basis, environment)
    known = frozenset(test.test_id for run in (suites.runs if suites else ()) if run.ran for test in run.failing)
    measured = BaseMeasurements(
        environment=environment, head_environment=environments.head, rules=setup.rules, known_failing=known
    )
    return Measured(measured, basis)


def _codemod_catalog() -> dict[str, dict[str, Any]]:
    from evolve.codemods.registry import available_codemods

    return {cid: cls.metadata.to_dict() for cid, cls in available_codemods().items()}
