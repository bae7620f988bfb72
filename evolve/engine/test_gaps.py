"""Test gaps in research: a budgeted mutation sample over the functions that matter most (see
evolve/mutation/sampling.py), run against their covering tests in the sandbox.

Base's suite runs once with per-test coverage contexts, through the same cached run the gates use (a run whose
mutation gate needs contexts reuses it). Never raises for what the repository's code does: a sample that cannot be
taken says why in its `note`.
"""

from __future__ import annotations

import time
from dataclasses import replace
from pathlib import Path

from evolve.configuration.model import EvolveConfig
from evolve.configuration.path_kinds import kind_of_file
from evolve.environments.model import Environment
from evolve.findings import ScanResult
from evolve.git import GitError
from evolve.git.command import run_git
from evolve.mutation.generation import MutationLimits
from evolve.mutation.results import MutationRun, survivor_diff, survivor_sentence
from evolve.mutation.runner import RunSettings, run_mutants
from evolve.mutation.sampling import GapSample, file_change_counts, rank_functions, sample_mutants
from evolve.plan.tasks import GapSurvivor, TestGaps
from evolve.suites.base_results import BaseResultsCache
from evolve.suites.test_contexts import TestContexts

from .attempts import BaseMeasurements, base_test_run
from .values import Progress

MAX_SURVIVORS = 100  # survivors kept in the plan and the report


def recent_changes(git_dir: Path | None, base_sha: str, commits: int) -> dict[str, int]:
    """Commits per path among the last `commits` commits up to `base_sha` (empty without history)."""
    if git_dir is None or commits <= 0:
        return {}
    try:
        names = run_git(
            ["--git-dir", str(git_dir), "log", "--format=", "--name-only", "-n", str(commits), base_sha, "--"],
            check=False,
        )
    except (GitError, OSError):
        return {}
    return file_change_counts(names)


def library_sources(tree: Path, scan: ScanResult) -> dict[str, str]:
    """The text of the scanned files that are library code (not tests, docs, examples, generated or vendored):
    the code whose test gaps matter."""
    sources = {}
    for file in scan.files:
        path = tree / file.path
        if not path.is_file() or path.is_symlink():
            continue
        text = path.read_text(encoding="utf-8", errors="replace")
        if kind_of_file(file.path, text) == "library":
            sources[file.path] = text
    return sources


def without_tests(contexts: TestContexts, failing: frozenset[str]) -> TestContexts:
    """The map without the tests that fail on base: a mutant judged by a red test is killed by nothing it did, and
    the runner's clean run of its tests would fail (no verdict at all). Lines only they run count as untested."""
    if not failing or not failing & set(contexts.tests):
        return contexts
    dropped = {index for index, test in enumerate(contexts.tests) if test in failing}
    lines = {
        path: {line: kept for line, tests in by_line.items() if (kept := tuple(i for i in tests if i not in dropped))}
        for path, by_line in contexts.lines.items()
    }
    return replace(contexts, lines=lines)


def research_test_gaps(
    tree: Path,
    base_sha: str,
    git_dir: Path | None,
    config: EvolveConfig,
    scan: ScanResult,
    environment: Environment | None,
    progress: Progress | None = None,
    cache: BaseResultsCache | None = None,
) -> TestGaps:
    """Rank the scanned functions, mutate the covered lines of the top ones, run the mutants in the budget."""
    settings = config.research.test_gaps
    report: Progress = progress or (lambda step, done, total: None)
    started = time.monotonic()
    report("test gaps", 0, 1)
    measured = BaseMeasurements(environment=environment, with_contexts=True, cache=cache or BaseResultsCache())
    run = base_test_run(tree, base_sha, config, measured)
    contexts = TestContexts.from_dict(run.test_contexts)
    if contexts is None:
        why = "the suite timed out" if run.timed_out else "the suite recorded no per-test coverage"
        return TestGaps(note=f"no test gaps measured: {why}", seconds=time.monotonic() - started)
    sources = library_sources(tree, scan)
    library = [file for file in scan.files if file.path in sources]
    ranked = rank_functions(library, sources, recent_changes(git_dir, base_sha, settings.history_commits))
    contexts = without_tests(contexts, frozenset(run.failing_tests))
    sample = sample_mutants(ranked, sources, contexts, settings.functions, MutationLimits(1, settings.max_mutants))
    if not sample.candidates.mutants:
        return TestGaps(note="no test gaps measured: no tested function holds a mutable line")
    mutation = run_mutants(
        tree,
        sample.candidates.mutants,
        config,
        settings=RunSettings(budget_seconds=settings.budget_seconds),
        environment=environment,
    )
    report("test gaps", 1, 1)
    return summarise(sample, mutation, time.monotonic() - started)


def summarise(sample: GapSample, mutation: MutationRun, seconds: float) -> TestGaps:
    """The sample's counts, score and survivors (pure)."""
    note = mutation.problem if not mutation.clean_ok or mutation.problem else ""
    survivors = tuple(
        GapSurvivor(
            mutant.location, sample.function_of.get(mutant.id, ""), survivor_sentence(mutant), survivor_diff(mutant)
        )
        for mutant in mutation.survivors[:MAX_SURVIVORS]
    )
    return TestGaps(
        functions=len(sample.functions),
        generated=mutation.generated,
        killed=mutation.count("killed"),
        survived=mutation.count("survived"),
        timeout=mutation.count("timeout"),
        not_run=mutation.count("not-run") + mutation.count("error"),
        score=mutation.score if mutation.clean_ok else None,
        seconds=seconds,
        survivors=survivors,
        note=note,
    )
