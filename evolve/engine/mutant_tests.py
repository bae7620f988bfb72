"""The `tests` theme's mutation step: find surviving mutants for the planner, and keep only the proposed tests that
kill one (passing on base three times first).

Survivors are sought only when the LLM stage can write tests (`tests` among `llm.tasks`), the focus allows the
theme, and no failing test on base is waiting for a fix (red tests come first, and a red suite judges no mutant).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from evolve.configuration.model import EvolveConfig
from evolve.edits import FileEdit
from evolve.engine.attempts import BaseMeasurements, base_test_run
from evolve.environments.model import Environment
from evolve.findings import Finding, ScanResult
from evolve.mutation.kill_proof import TestVerdict, prove_tests
from evolve.mutation.survivors import MUTANT_KIND, SURVIVOR_PRIORITY, mutant_of, sample_survivors, survivor_finding
from evolve.plan.tasks import Plan
from evolve.suites.runs import run_test_suite
from evolve.suites.test_contexts import TestContexts
from evolve.wording import plural

THEME = "tests"
SAMPLE_LIMIT = 20  # mutants run to find survivors
PROOF_BUDGET = 120.0


def wants_survivors(config: EvolveConfig, llm_on: bool, focus: str | None, red: bool) -> bool:
    """Whether research should look for surviving mutants: the `tests` theme is possible and nothing comes first."""
    return llm_on and "tests" in config.llm.tasks and focus in (None, THEME) and not red


def survivors_could_win(plan: Plan) -> bool:
    """Whether a default run's plan (made without survivors) leaves room for the `tests` theme: nothing planned,
    or a plan whose best task is worth no more than a survivor (`tests` ranks with cleanups)."""
    return plan.empty or max((task.priority for task in plan.tasks), default=0.0) <= SURVIVOR_PRIORITY


@dataclass(frozen=True)
class SurvivorResearch:
    """The survivor findings, and a note for the report when none could be found."""

    findings: tuple[Finding, ...] = ()
    note: str = ""


def find_survivors(
    tree: Path, config: EvolveConfig, environment: Environment | None, base_sha: str | None = None
) -> SurvivorResearch:
    """Run base's suite with per-test contexts, then a sample of mutants of the covered library lines. With
    `base_sha`, base's run is the one the gates use, cached on disk per commit (the mutation gate reads its
    contexts too), so the attempt does not run base's suite again."""
    if base_sha is not None:
        measured = BaseMeasurements(environment=environment, with_contexts=True)
        run = base_test_run(tree, base_sha, config, measured)
    else:
        run = run_test_suite(tree, config, with_coverage=True, with_contexts=True, environment=environment)
    contexts = TestContexts.from_dict(run.test_contexts)
    if contexts is None:
        return SurvivorResearch(note="no surviving mutants sought: no per-test coverage was recorded (pytest only)")
    sample = sample_survivors(
        tree, config, contexts, environment=environment, limit=SAMPLE_LIMIT, budget_seconds=max(30.0, run.duration * 3)
    )
    if sample.problem:
        return SurvivorResearch(note=f"no surviving mutants sought: {sample.problem}")
    findings = tuple(survivor_finding(mutant) for mutant in sample.survivors)
    return SurvivorResearch(
        findings, f"{plural(len(findings), 'surviving mutant')} of {plural(sample.ran, 'mutant')} run"
    )


def with_findings(scan: ScanResult, extra: Sequence[Finding]) -> ScanResult:
    """The scan with `extra` findings added (ids already there are not repeated)."""
    from dataclasses import replace

    known = {finding.id for finding in scan.findings}
    return replace(scan, findings=(*scan.findings, *(f for f in extra if f.id not in known)))


def merged_verdicts(earlier: Sequence[TestVerdict], latest: Sequence[TestVerdict]) -> tuple[TestVerdict, ...]:
    """Every attempt's verdicts, the latest one for a path that was proposed again, in path order: a rejection
    from the first attempt still belongs in the report when the second proposes nothing."""
    by_path = {verdict.path: verdict for verdict in (*earlier, *latest)}
    return tuple(by_path[path] for path in sorted(by_path))


def is_mutant_plan(plan: Plan) -> bool:
    """Whether the plan asks for tests that kill surviving mutants."""
    return any(task.kind == "mutant" for task in plan.tasks)


@dataclass(frozen=True)
class ProvedTests:
    """The edits that stay (the test files that kill a mutant), every proposed file's verdict, and notes."""

    edits: tuple[FileEdit, ...]
    verdicts: tuple[TestVerdict, ...]
    notes: tuple[str, ...]


def prove_proposed_tests(
    base: Path,
    plan: Plan,
    edits: Sequence[FileEdit],
    findings: Sequence[Finding],
    config: EvolveConfig,
    environment: Environment | None,
) -> ProvedTests:
    """Keep only the new test files that pass on base three times and fail on a surviving mutant of the plan;
    other edits (a mutant plan changes no library code) are left out with a note."""
    wanted = {finding_id for task in plan.tasks if task.kind == "mutant" for finding_id in task.finding_ids}
    by_id = {finding.id: finding for finding in findings if finding.kind == MUTANT_KIND}
    mutants = [m for index, i in enumerate(sorted(wanted)) if i in by_id and (m := mutant_of(by_id[i], index))]
    proposed = {edit.path: edit for edit in edits if edit.source == "llm" and not edit.before and edit.after}
    notes = tuple(
        f"left out {edit.path}: a `tests` change adds test files only" for edit in edits if edit.path not in proposed
    )
    if not proposed:
        return ProvedTests((), (), notes)
    verdicts = prove_tests(
        base,
        {path: edit.after for path, edit in proposed.items()},
        mutants,
        config,
        environment=environment,
        budget_seconds=PROOF_BUDGET,
    )
    kept = tuple(proposed[verdict.path] for verdict in verdicts if verdict.kept)
    notes += tuple(f"rejected proposed test {v.path}: {v.reason}" for v in verdicts if not v.kept)
    return ProvedTests(kept, verdicts, notes)
