"""A change's mutation evidence on both trees: head's changed lines and the base lines they replace, each tree's
mutants run against the tests its own run says cover them; and the text that carries it (gate details), read
back by the report section. Everything but `measure_change` is pure."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path

from evolve.mutation.diff_lines import touched_base_lines
from evolve.mutation.generation import Candidates, MutationLimits, choose_mutants
from evolve.mutation.results import MutationRun
from evolve.suites.test_contexts import TestContexts

RunMutants = Callable[[str, Candidates, int], MutationRun]  # (tree, candidates, workers) -> run


@dataclass(frozen=True)
class ChangeEvidence:
    """Head's mutants of the changed lines, and base's of the lines they replace (None: not compared)."""

    head: MutationRun
    head_candidates: Candidates
    base: MutationRun | None = None


def read_sources(root: Path, paths: Sequence[str]) -> dict[str, str]:
    """The text of the Python files among `paths` that exist under `root`."""
    sources = {}
    for path in paths:
        file = root / path
        if path.endswith(".py") and file.is_file() and not file.is_symlink():
            sources[path] = file.read_text(encoding="utf-8", errors="replace")
    return sources


def base_lines(base: Mapping[str, str], head: Mapping[str, str]) -> dict[str, tuple[int, ...]]:
    """For each file on both sides, the base lines the change replaces or deletes."""
    touched = {path: touched_base_lines(base[path], head[path]) for path in sorted(set(base) & set(head))}
    return {path: lines for path, lines in touched.items() if lines}


def measure_change(
    trees: Mapping[str, Path],
    changed_lines: Mapping[str, Sequence[int]],
    contexts: Mapping[str, TestContexts | None],
    limits: MutationLimits,
    run: RunMutants,
    workers: int,
) -> ChangeEvidence:
    """Choose and run head's mutants and, when base's run has contexts, base's; both trees at once, the workers
    shared between them."""
    head_sources = read_sources(trees["head"], list(changed_lines))
    head_contexts = contexts["head"] or TestContexts()
    head_candidates = choose_mutants(head_sources, changed_lines, head_contexts, limits)
    base_contexts = contexts.get("base")
    base_candidates = None
    if base_contexts is not None:
        base_sources = read_sources(trees["base"], list(head_sources))
        base_candidates = choose_mutants(base_sources, base_lines(base_sources, head_sources), base_contexts, limits)
    if base_candidates is None or not base_candidates.mutants:
        head = run("head", head_candidates, workers)
        return ChangeEvidence(head, head_candidates, MutationRun() if base_candidates is not None else None)
    split = max(1, workers // 2)
    with ThreadPoolExecutor(max_workers=2, thread_name_prefix="evolve-mutation") as pool:
        head_future = pool.submit(run, "head", head_candidates, split)
        base_future = pool.submit(run, "base", base_candidates, max(1, workers - split))
        return ChangeEvidence(head_future.result(), head_candidates, base_future.result())


def counts_line(label: str, run: MutationRun) -> str:
    """`head: generated 12, killed 9, survived 2, timed out 1, errors 0, not run 0, score 83.3%`."""
    score = "n/a" if run.score is None else f"{run.score:.1f}%"
    return (
        f"{label}: generated {run.generated}, killed {run.count('killed')}, survived {run.count('survived')}, "
        f"timed out {run.count('timeout')}, errors {run.count('error')}, not run {run.count('not-run')}, "
        f"score {score}"
    )


def survivor_line(run: MutationRun, index: int) -> str:
    """`survivor pkg/x.py:42 [comparison] x < y => x <= y` for the index-th survivor."""
    mutant = run.survivors[index]
    m = mutant.mutation
    after = "(call removed)" if m.operator == "call" else m.after
    return f"survivor {mutant.location} [{m.operator}] {m.before} => {after}"


COUNTS = re.compile(
    r"^(?P<label>head|base): generated (?P<generated>\d+), killed (?P<killed>\d+), survived (?P<survived>\d+), "
    r"timed out (?P<timeout>\d+), errors (?P<error>\d+), not run (?P<not_run>\d+), score (?P<score>n/a|[\d.]+%)$"
)
SURVIVOR = re.compile(r"^survivor (?P<location>\S+:\d+) \[(?P<operator>\w+)\] (?P<before>.*?) => (?P<after>.*)$")


@dataclass(frozen=True)
class Counts:
    """One tree's counts, as the gate's details state them."""

    generated: int = 0
    killed: int = 0
    survived: int = 0
    timeout: int = 0
    error: int = 0
    not_run: int = 0
    score: float | None = None


@dataclass(frozen=True)
class Survivor:
    """One surviving mutant, as the gate's details state it."""

    location: str
    operator: str
    before: str
    after: str


def read_details(details: str) -> tuple[dict[str, Counts], tuple[Survivor, ...]]:
    """The counts per tree and head's survivors, read back from the mutation gate's details."""
    counts: dict[str, Counts] = {}
    survivors: list[Survivor] = []
    for line in details.splitlines():
        found = COUNTS.match(line)
        if found:
            numbers = {key: int(value) for key, value in found.groupdict().items() if key not in ("label", "score")}
            score = found["score"]
            counts[found["label"]] = replace(
                Counts(**numbers), score=None if score == "n/a" else float(score.rstrip("%"))
            )
            continue
        survivor = SURVIVOR.match(line)
        if survivor:
            survivors.append(Survivor(**survivor.groupdict()))
    return counts, tuple(survivors)
