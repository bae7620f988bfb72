"""Which mutants a change gets: on its changed lines that some test runs and that are not arid, a few per line. Pure.

Per line at most one mutant per operator and at most `per_line` in all (operators in the order of
`operators.OPERATORS`: comparison and boolean first, constants last); over `limit` for the whole change, lines
are served in turn so every line keeps its first mutant before any line gets a second.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from evolve.mutation.operators import OPERATORS, Mutation, mutations_of
from evolve.suites.test_contexts import TestContexts


@dataclass(frozen=True)
class Mutant:
    """One mutant to run: where, what, and the tests that run its line."""

    id: int
    path: str
    mutation: Mutation
    tests: tuple[str, ...]

    @property
    def location(self) -> str:
        """`path:line`."""
        return f"{self.path}:{self.mutation.line}"


@dataclass(frozen=True)
class MutationLimits:
    """Operator caps: which operators, how many mutants per line and per change."""

    per_line: int = 2
    limit: int = 60
    operators: tuple[str, ...] = OPERATORS


@dataclass(frozen=True)
class Candidates:
    """The mutants chosen for a change, and the changed lines left out (and why) for the report."""

    mutants: tuple[Mutant, ...]
    uncovered_lines: int = 0  # changed lines with mutants but no test running them
    capped: int = 0  # mutants left out by the caps


def choose_mutants(
    sources: Mapping[str, str],
    changed_lines: Mapping[str, Sequence[int]],
    contexts: TestContexts,
    limits: MutationLimits = MutationLimits(),
) -> Candidates:
    """The mutants of `changed_lines` (path -> line numbers, in the tree `sources` holds) that `contexts` says
    some test runs, within the caps."""
    per_line: list[list[tuple[str, Mutation, tuple[str, ...]]]] = []
    uncovered = capped = 0
    for path in sorted(changed_lines):
        source = sources.get(path)
        if source is None or not path.endswith(".py"):
            continue
        by_line: dict[int, list[Mutation]] = {}
        for mutation in mutations_of(source, set(changed_lines[path])):
            if mutation.operator in limits.operators:
                by_line.setdefault(mutation.line, []).append(mutation)
        for _line, found in sorted(by_line.items()):
            tests = contexts.tests_of(path, found[0].statement_line)
            if not tests:
                uncovered += 1
                continue
            picked: list[tuple[str, Mutation, tuple[str, ...]]] = []
            seen: set[str] = set()
            for mutation in sorted(found, key=lambda m: OPERATORS.index(m.operator)):
                if mutation.operator in seen or len(picked) >= limits.per_line:
                    capped += 1
                    continue
                seen.add(mutation.operator)
                picked.append((path, mutation, contexts.tests_of(path, mutation.statement_line)))
            per_line.append(picked)
    chosen: list[tuple[str, Mutation, tuple[str, ...]]] = []
    for rank in range(max((len(line) for line in per_line), default=0)):
        for line in per_line:
            if rank < len(line):
                if len(chosen) < limits.limit:
                    chosen.append(line[rank])
                else:
                    capped += 1
    chosen.sort(key=lambda item: (item[0], item[1].start))
    mutants = tuple(Mutant(index, path, mutation, tests) for index, (path, mutation, tests) in enumerate(chosen))
    return Candidates(mutants, uncovered, capped)
