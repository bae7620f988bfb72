"""Surviving mutants as findings for the LLM `tests` theme: a budgeted sample of a tree's covered library lines.

Base's suite runs once with per-test coverage contexts; the mutants of the lines some test runs are chosen as for a
change (one per line, the library's files only, capped), run against the tests that run their lines, and each
survivor becomes a `mutant` finding that carries its mutation, so the mutant can be rebuilt exactly when the test
written for it is checked. `survivor_finding` and `mutant_of` are pure.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

from evolve.configuration.model import EvolveConfig
from evolve.configuration.path_kinds import kind_of_path
from evolve.environments.model import Environment
from evolve.findings import Finding, stable_finding_id
from evolve.mutation.evidence import read_sources
from evolve.mutation.generation import Mutant, MutationLimits, choose_mutants
from evolve.mutation.operators import Mutation
from evolve.mutation.results import survivor_sentence
from evolve.mutation.runner import RunSettings, run_mutants
from evolve.suites.test_contexts import TestContexts

MUTANT_KIND = "mutant"
# A survivor is a test gap in code the tests already run: worth a PR of tests, ranked with cleanups (low severity x
# 0.75 x 0.9 in evolve/research/codemod_findings.py), below defects and deprecations, above cosmetic rewrites.
SURVIVOR_PRIORITY = 0.2
MAX_CANDIDATES = 5000  # mutants considered before the sample is spread over them


@dataclass(frozen=True)
class SurvivorSample:
    """What the sample found: the surviving mutants, how many ran, and why none could be judged (when so)."""

    survivors: tuple[Mutant, ...] = ()
    ran: int = 0
    problem: str = ""


def covered_library_lines(contexts: TestContexts, paths: Sequence[str]) -> dict[str, list[int]]:
    """The lines of the library files among `paths` that some test runs."""
    return {
        path: sorted(line for line, tests in contexts.lines.get(path, {}).items() if tests)
        for path in paths
        if kind_of_path(path) == "library" and contexts.lines.get(path)
    }


def spread(mutants: Sequence[Mutant], limit: int) -> tuple[Mutant, ...]:
    """At most `limit` of `mutants`, evenly spaced through them (so a sample is not only the top of the first file),
    numbered afresh."""
    count = len(mutants)
    chosen = [mutants[index * count // limit] for index in range(limit)] if count > limit else list(mutants)
    return tuple(replace(mutant, id=number) for number, mutant in enumerate(chosen))


def sample_survivors(
    root: Path,
    config: EvolveConfig,
    contexts: TestContexts,
    *,
    environment: Environment | None = None,
    limit: int = 20,
    budget_seconds: float = 60.0,
) -> SurvivorSample:
    """Run up to `limit` mutants (one per covered library line, spread over them) of the tree at `root` against
    their covering tests in the sandbox; the survivors, in source order."""
    lines = covered_library_lines(contexts, sorted(contexts.lines))
    sources = read_sources(root, list(lines))
    every = choose_mutants(sources, lines, contexts, MutationLimits(per_line=1, limit=MAX_CANDIDATES)).mutants
    if not every:
        return SurvivorSample(problem="no covered library line holds a mutable, non-arid expression")
    run = run_mutants(
        root, spread(every, limit), config, settings=RunSettings(budget_seconds=budget_seconds), environment=environment
    )
    if not run.clean_ok:
        return SurvivorSample(problem=run.problem)
    ran = sum(1 for result in run.results if result.verdict != "not-run")
    return SurvivorSample(run.survivors, ran)


def survivor_finding(mutant: Mutant) -> Finding:
    """The finding a surviving mutant is to the planner: where it is, what it says, and the mutation itself."""
    m = mutant.mutation
    function = m.function[0] if m.function else None
    return Finding(
        id=stable_finding_id(MUTANT_KIND, m.operator, mutant.path, function, f"{m.before}\x1f{m.after}"),
        kind=MUTANT_KIND,
        rule=m.operator,
        path=mutant.path,
        line=m.line,
        end_line=m.end[0],
        symbol=function,
        severity="low",
        priority=SURVIVOR_PRIORITY,
        message=survivor_sentence(mutant),
        data={"mutation": asdict(m), "tests": list(mutant.tests)},
    )


def mutant_of(finding: Finding, mutant_id: int, tests: Sequence[str] = ()) -> Mutant | None:
    """The mutant a `mutant` finding carries (to run against `tests`), or None when its data is not a mutation."""
    raw: Any = finding.data.get("mutation") if finding.kind == MUTANT_KIND else None
    if not isinstance(raw, dict):
        return None
    try:
        function = raw.get("function")
        mutation = Mutation(
            operator=str(raw["operator"]),
            line=int(raw["line"]),
            statement_line=int(raw["statement_line"]),
            start=(int(raw["start"][0]), int(raw["start"][1])),
            end=(int(raw["end"][0]), int(raw["end"][1])),
            replacement=str(raw["replacement"]),
            before=str(raw["before"]),
            after=str(raw["after"]),
            function=(str(function[0]), int(function[1])) if function else None,
        )
    except (KeyError, IndexError, TypeError, ValueError):
        return None
    return Mutant(mutant_id, finding.path, mutation, tuple(tests))
