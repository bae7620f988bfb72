"""Research and plan: scan a tree, choose the plan (pure, from the scan), and `plan_repository` for `evolve plan`."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING

from evolve.config_loading.loading import load_config
from evolve.configuration.model import EvolveConfig
from evolve.configuration.operator_limits import apply_operator_limits
from evolve.environments.for_run import RunEnvironments
from evolve.environments.model import Environment
from evolve.findings import ScanResult
from evolve.git import GitError
from evolve.git.trees import export_tree
from evolve.git.trust import Repository, open_repository
from evolve.plan.planner import PlanningInput, make_plan
from evolve.plan.tasks import Plan
from evolve.runs import RunOptions
from evolve.sandbox.scratch import default_root, make_run_directory, remove_run_directory

from .mutant_tests import find_survivors, survivors_could_win, wants_survivors, with_findings
from .values import Progress

if TYPE_CHECKING:
    from evolve.plan.tasks import TestGaps
    from evolve.project_rules.model import ProjectRules
    from evolve.research.base_suites import BaseSuites

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


@dataclass(frozen=True)
class CodemodCatalog:
    """What planning needs to know of the installed codemods: theme, linter codes, and which are enabled."""

    themes: dict[str, str]
    lint_codes: dict[str, tuple[str, ...]]
    enabled: frozenset[str]
    also_in_kinds: dict[str, tuple[str, ...]] = field(default_factory=dict)

    @classmethod
    def installed(cls, config: EvolveConfig) -> CodemodCatalog:
        """The installed codemods, with the ones `config` enables."""
        from evolve.codemods.registry import available_codemods, select_codemods

        codemods = available_codemods()
        return cls(
            themes={cid: c.metadata.theme for cid, c in codemods.items()},
            lint_codes={cid: c.metadata.lint_codes for cid, c in codemods.items()},
            also_in_kinds={cid: c.metadata.also_in_kinds for cid, c in codemods.items() if c.metadata.also_in_kinds},
            enabled=frozenset(c.metadata.id for c in select_codemods(config.codemods.only, config.codemods.disabled)),
        )

    def knows_focus(self, focus: str) -> bool:
        """Whether `focus` names an installed codemod or a codemod theme."""
        return focus in self.themes or focus in set(self.themes.values())


@dataclass(frozen=True)
class PlanRequest:
    """What the plan is made from besides the scan: configuration, options, whether the LLM stage is on, focus."""

    config: EvolveConfig
    options: RunOptions
    llm_on: bool
    focus: str | None


def llm_themes(config: EvolveConfig, llm_on: bool) -> frozenset[str]:
    """The themes the LLM stage can take on, given the tasks the configuration allows."""
    return frozenset(LLM_THEME_BY_TASK[t] for t in config.llm.tasks) if llm_on else frozenset()


def plan_from_scan(
    scan: ScanResult,
    request: PlanRequest,
    catalog: CodemodCatalog,
    rules: ProjectRules,
    suites: BaseSuites | None = None,
) -> Plan:
    """The plan for a scan: the findings the project's rules allow, ranked and limited; a rewrite that fixes
    tests failing on base (`suites`) first."""
    from evolve.project_rules.planning import filter_findings
    from evolve.research.removed_names import removal_recipes

    config, options = request.config, request.options
    red = suites.red_fixes() if suites is not None else {}
    allowed = filter_findings(scan.findings, rules, catalog.lint_codes, request.focus)
    reenabled = set(config.codemods.reenabled)
    plan = make_plan(
        PlanningInput(
            findings=allowed.kept,
            limits=config.limits,
            codemod_themes=catalog.themes,
            enabled_codemods=catalog.enabled,
            acceptance=dict(options.acceptance),
            blocked=frozenset(c for c in options.blocked_codemods if c not in reenabled),
            llm_themes=llm_themes(config, request.llm_on),
            focus=request.focus,
            skip_themes=options.themes_to_skip,
            include_kinds=tuple(config.scope.include_kinds),
            codemod_kinds=catalog.also_in_kinds,
            red=red,
            removal_recipes=removal_recipes(),
        )
    )
    if suites is not None:
        plan = replace(plan, base_suites=suites.lines(), notes=plan.notes + suites.unfixable())
    from evolve.research.declines import focus_declines, recipe_declines

    asked = [request.focus] if request.focus and catalog.knows_focus(request.focus) else []
    asked += sorted({codemod for codemod, _ in red if codemod not in plan.codemod_ids and codemod not in asked})
    asked += sorted(codemod for codemod in plan.codemod_ids if codemod not in asked)  # places the plan's own left
    declined: dict[str, None] = {}
    for name in asked:  # a recipe or focus that declines for the declared Python says so, with the lines
        declined.update(dict.fromkeys(focus_declines(Path(scan.root), name, [f.path for f in scan.files])))
    # What the focus, a red test's recipe or a planned codemod leaves alone on purpose: each use, its line and reason.
    declined.update(dict.fromkeys(recipe_declines(Path(scan.root), asked, [f.path for f in scan.files])))
    plan = replace(plan, notes=plan.notes + tuple(note for note in declined if note not in plan.notes))
    return replace(plan, notes=plan.notes + allowed.notes) if allowed.dropped else plan


def deterministic_request(request: PlanRequest, catalog: CodemodCatalog) -> PlanRequest:
    """The request without the LLM themes, for when the LLM stage produced nothing; an LLM-only focus is dropped."""
    focus = request.focus if request.focus and catalog.knows_focus(request.focus) else None
    return replace(request, llm_on=False, focus=focus)


def scan_and_plan(
    tree: Path,
    request: PlanRequest,
    progress: Progress | None,
    environment: Environment | None = None,
    rules: ProjectRules | None = None,
    suites: BaseSuites | None = None,
    base_sha: str | None = None,
) -> tuple[ScanResult, Plan]:
    """Scan `tree` (with coverage when asked) and plan from the scan under the project's rules (read when not
    given), with what base's suites showed (`suites`, when research ran them)."""
    from evolve.project_rules import read_project_rules
    from evolve.research import scan_repository

    options = request.options
    broken = frozenset(suites.red_fixes()) if suites is not None else frozenset()
    scan = scan_repository(
        tree,
        request.config,
        with_coverage=options.with_coverage,
        progress=progress,
        environment=environment,
        broken=broken,
    )
    catalog = CodemodCatalog.installed(request.config)
    rules = rules if rules is not None else read_project_rules(Path(scan.root))
    plan = plan_from_scan(scan, request, catalog, rules, suites)
    if not wants_survivors(request.config, request.llm_on, request.focus, bool(broken)):
        return scan, plan
    if request.focus is None and not survivors_could_win(plan):
        return scan, plan  # a default run with better work to do does not spend a suite run and mutants on a sample
    if progress:
        progress("looking for surviving mutants (the tests theme)", 0, 1)
    survivors = find_survivors(tree, request.config, environment, base_sha)
    scan = with_findings(scan, survivors.findings)
    plan = plan_from_scan(scan, request, catalog, rules, suites)
    if survivors.note and plan.theme == "tests":
        plan = replace(plan, notes=(*plan.notes, survivors.note))
    return scan, plan


def base_suites(
    tree: Path, base_sha: str, config: EvolveConfig, options: RunOptions, progress: Progress | None
) -> BaseSuites | None:
    """Base's suite on the newest declared and oldest supported Python, when the options ask for it."""
    if not options.base_suites:
        return None
    from evolve.research.base_suites import research_suites

    return research_suites(tree, base_sha, config, options.environment, progress, budget=options.base_suites_seconds)


def with_suite_installs(config: EvolveConfig, suites: BaseSuites | None) -> EvolveConfig:
    """The configuration with the modules research installed for the tests (so the gates' runs start too)."""
    if suites is None or not suites.installed:
        return config
    from evolve.research.base_suites import with_test_settings

    return with_test_settings(config, None, suites.installed)


def plan_request(config: EvolveConfig, options: RunOptions, llm_on: bool) -> PlanRequest:
    """A request to fill with the scan: the focus is the option's, else the configuration's."""
    return PlanRequest(config, options, llm_on, options.focus or config.focus)


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
    repo: Path,
    options: RunOptions = RunOptions(),
    config: EvolveConfig | None = None,
    progress: Progress | None = None,
    *,
    working_tree: bool = False,
) -> PlanOutcome:
    """Research and plan the commit a run would start from (`options.base_ref`, exported as `evolve run` exports
    it), or with `working_tree` the checkout's files as they are on disk, uncommitted changes included. The
    configuration is the working tree's, as for `evolve run` (a bare repository: the commit's). Raises
    ConfigError/GitError."""
    repository = open_repository(repo)
    base_sha = resolve_base(repository, options.base_ref)
    if working_tree and repository.work_tree is not None:
        scan, plan, config = _plan_tree(
            repository.work_tree, base_sha, options, config, progress, repository.git_dir, working_tree=True
        )
        return PlanOutcome(repository.work_tree, base_sha, config, scan, plan)
    if config is None and repository.work_tree is not None:
        config = load_config(repository.work_tree)
    run_dir = make_run_directory(
        options.work_dir or default_root(), f"plan-{uuid.uuid4().hex[:12]}", repository.work_tree or repository.git_dir
    )
    try:
        tree = export_tree(repository.git_dir, base_sha, run_dir / "base").path
        scan, plan, config = _plan_tree(tree, base_sha, options, config, progress, repository.git_dir)
    finally:
        remove_run_directory(run_dir)
    return PlanOutcome(repository.work_tree or repository.git_dir, base_sha, config, scan, plan)


def _plan_tree(
    tree: Path,
    base_sha: str,
    options: RunOptions,
    config: EvolveConfig | None,
    progress: Progress | None,
    git_dir: Path | None = None,
    working_tree: bool = False,
) -> tuple[ScanResult, Plan, EvolveConfig]:
    config = apply_operator_limits(config or load_config(tree), options.operator)[0]
    suites = base_suites(tree, base_sha, config, options, progress)
    config = with_suite_installs(config, suites)
    llm_on = options.llm and llm_available(config, options)
    red = bool(suites.red_fixes()) if suites is not None else False
    wanted = wants_survivors(config, llm_on, options.focus or config.focus, red)
    environment = _research_environment(tree, config, options, progress, wanted)
    request = plan_request(config, options, llm_on)
    scan, plan = scan_and_plan(tree, request, progress, environment, suites=suites, base_sha=base_sha)
    if options.test_gaps and config.research.test_gaps.enabled:
        gaps = _test_gaps(tree, base_sha, git_dir, config, options, scan, progress, working_tree)
        plan = replace(plan, test_gaps=gaps)
    return scan, plan, config


def _test_gaps(
    tree: Path,
    base_sha: str,
    git_dir: Path | None,
    config: EvolveConfig,
    options: RunOptions,
    scan: ScanResult,
    progress: Progress | None,
    working_tree: bool,
) -> TestGaps:
    """Research's mutation sample, in base's test environment (a build failure says so in the sample's note).
    Files on disk are not the commit: their suite run is not cached under its sha."""
    import tempfile

    from evolve.plan.tasks import TestGaps
    from evolve.suites.base_results import BaseResultsCache

    from .test_gaps import research_test_gaps

    prepared = RunEnvironments(options.environment, config, progress).base(tree)
    if not isinstance(prepared, Environment):
        why = prepared.message[:300]
        return TestGaps(note=f"no test gaps measured: the test environment could not be built: {why}")
    if not working_tree:
        return research_test_gaps(tree, base_sha, git_dir, config, scan, prepared, progress)
    with tempfile.TemporaryDirectory(prefix="evolve-gaps-cache-") as scratch:
        cache = BaseResultsCache(Path(scratch))
        return research_test_gaps(tree, base_sha, git_dir, config, scan, prepared, progress, cache)


def _research_environment(
    tree: Path, config: EvolveConfig, options: RunOptions, progress: Progress | None, survivors: bool = False
) -> Environment | None:
    """The environment research's coverage run (or its search for surviving mutants) uses, when it runs; a build
    failure leaves Evolve's own."""
    if not options.with_coverage and not survivors:
        return None
    prepared = RunEnvironments(options.environment, config, progress).base(tree)
    return prepared if isinstance(prepared, Environment) else None


def llm_available(config: EvolveConfig, options: RunOptions) -> bool:
    """Whether the LLM stage can run: the operator's key and limits and the configuration allow it."""
    from evolve.llm import build_provider

    return build_provider(config, limits=options.operator) is not None
