"""Research's mutation sample: which functions matter most, and which of their covered lines get mutants. Pure.

A function's weight adds its cyclomatic complexity (radon's, from the scan), how often `git log` saw its file change
lately (capped, so one busy file does not take the whole sample) and a bonus when it is public API: not
underscore-prefixed, in a module that is not private, and named in the module's `__all__` when it has one. The
top-ranked functions that some test runs get a share of the mutants each, in rank order, so a budget cut falls on
the least important ones.
"""

from __future__ import annotations

import ast
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace

from evolve.findings import FileMetrics
from evolve.mutation.generation import Candidates, Mutant, MutationLimits, choose_mutants
from evolve.suites.test_contexts import TestContexts

CHANGE_WEIGHT = 2.0  # per recent commit that touched the function's file
MAX_CHANGES = 5  # commits counted per file
PUBLIC_WEIGHT = 3.0


@dataclass(frozen=True)
class RankedFunction:
    """One function of the tree and why it ranks where it does."""

    path: str
    qualname: str
    line: int
    end_line: int
    complexity: int
    changes: int  # recent commits that touched its file
    public: bool

    @property
    def weight(self) -> float:
        """Complexity + recent change + public API: the higher, the more a test gap here matters."""
        return (
            self.complexity + CHANGE_WEIGHT * min(self.changes, MAX_CHANGES) + (PUBLIC_WEIGHT if self.public else 0.0)
        )


@dataclass(frozen=True)
class GapSample:
    """The mutants of the sample, each function they belong to (by mutant id), and the functions sampled."""

    candidates: Candidates
    functions: tuple[RankedFunction, ...]
    function_of: Mapping[int, str]  # mutant id -> qualname


def module_exports(source: str) -> frozenset[str] | None:
    """The names a module's literal `__all__` lists, or None when it has none (or it is not a literal)."""
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError):
        return None
    for node in tree.body:
        value: ast.expr | None
        if isinstance(node, ast.Assign):
            targets, value = node.targets, node.value
        elif isinstance(node, ast.AnnAssign):
            targets, value = [node.target], node.value
        else:
            continue
        if any(isinstance(target, ast.Name) and target.id == "__all__" for target in targets):
            items = value.elts if isinstance(value, (ast.List, ast.Tuple)) else None
            names = [
                item.value for item in items or () if isinstance(item, ast.Constant) and isinstance(item.value, str)
            ]
            return frozenset(names) if items is not None and len(names) == len(items) else None
    return None


def is_public_api(path: str, qualname: str, public: bool, exports: frozenset[str] | None) -> bool:
    """Whether a function is public API: public by name (the scan's view), in no private module or package, and
    exported when the module names its exports."""
    if not public:
        return False
    parts = path.removesuffix(".py").split("/")
    if any(part.startswith("_") and part != "__init__" for part in parts):
        return False
    return exports is None or qualname.split(".")[0] in exports


def file_change_counts(log_names: str) -> dict[str, int]:
    """Commits per path, from `git log --format= --name-only` output (one path a line, blank lines between)."""
    counts: dict[str, int] = {}
    for line in log_names.splitlines():
        path = line.strip()
        if path:
            counts[path] = counts.get(path, 0) + 1
    return counts


def rank_functions(
    files: Sequence[FileMetrics], sources: Mapping[str, str], changes: Mapping[str, int]
) -> tuple[RankedFunction, ...]:
    """Every function of `files`, heaviest first (ties: path, line)."""
    ranked = []
    for file in files:
        exports = module_exports(sources[file.path]) if file.path in sources else None
        for function in file.functions:
            ranked.append(
                RankedFunction(
                    file.path,
                    function.qualname,
                    function.line,
                    function.end_line,
                    function.complexity,
                    changes.get(file.path, 0),
                    is_public_api(file.path, function.qualname, function.is_public, exports),
                )
            )
    return tuple(sorted(ranked, key=lambda f: (-f.weight, f.path, f.line)))


def covered(function: RankedFunction, contexts: TestContexts) -> bool:
    """Whether some test runs a line of the function's body (its `def` line aside: that runs at import)."""
    by_line = contexts.lines.get(function.path, {})
    return any(by_line.get(line) for line in range(function.line + 1, function.end_line + 1))


def sample_mutants(
    ranked: Sequence[RankedFunction],
    sources: Mapping[str, str],
    contexts: TestContexts,
    functions: int,
    limits: MutationLimits,
) -> GapSample:
    """The mutants of the `functions` top-ranked covered functions: each gets an even share of what is left of
    `limits.limit` (at least two; a share a short function leaves goes to the ones after it), one mutant per line,
    taken in rank order until the limit is reached."""
    chosen = [function for function in ranked if function.path in sources and covered(function, contexts)]
    chosen = chosen[:functions]
    mutants: list[Mutant] = []
    function_of: dict[int, str] = {}
    uncovered = capped = 0
    sampled: list[RankedFunction] = []
    for position, function in enumerate(chosen):
        room = limits.limit - len(mutants)
        if room <= 0:
            break
        share = max(2, math.ceil(room / (len(chosen) - position)))
        lines = {function.path: tuple(range(function.line + 1, function.end_line + 1))}
        per_function = MutationLimits(1, min(share, room), limits.operators)
        found = choose_mutants({function.path: sources[function.path]}, lines, contexts, per_function)
        uncovered += found.uncovered_lines
        capped += found.capped
        if not found.mutants:
            continue
        sampled.append(function)
        for mutant in found.mutants:
            numbered = replace(mutant, id=len(mutants))
            function_of[numbered.id] = function.qualname
            mutants.append(numbered)
    return GapSample(Candidates(tuple(mutants), uncovered, capped), tuple(sampled), function_of)
