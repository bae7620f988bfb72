"""Proof of behaviour per changed hunk: executed by base's tests, proven equivalent, or neither. Pure.

A hunk made by a risky codemod (metadata risk medium or high) that no test executes and that is not proven
equivalent is dropped from its edit before the gates run; every other hunk is kept and labelled, so the PR
can say plainly which changed lines no test runs.
"""

from __future__ import annotations

import ast
import fnmatch
import functools
from dataclasses import asdict, dataclass, replace
from typing import Any, Literal

from evolve.codemods.base import Change
from evolve.edits import FileEdit
from evolve.proof.equivalence import proven_equivalent
from evolve.proof.hunks import (
    Execution,
    Hunk,
    apply_hunks,
    function_headers,
    hunk_execution,
    split_hunks,
    statement_spans,
)
from evolve.suites.runs import COVERAGE_OMIT, TestRun

Verdict = Literal["tested", "equivalent", "unverified", "dropped"]


@dataclass(frozen=True)
class HunkProof:
    """What is known about one changed hunk, for the decision and the PR text."""

    path: str
    base_start: int
    base_end: int
    head_start: int
    head_end: int
    codemods: tuple[str, ...]
    descriptions: tuple[str, ...]
    symbol: str | None  # the function or class around the change, e.g. "Cache.get"
    execution: Execution
    equivalent: bool
    verdict: Verdict
    changed_lines: int

    def to_dict(self) -> dict[str, Any]:
        """Serialise to a JSON-ready dict."""
        return asdict(self)


@dataclass(frozen=True)
class EditProof:
    """Every hunk's proof, and the edits left once unproven risky hunks are dropped."""

    kept: tuple[FileEdit, ...]
    hunks: tuple[HunkProof, ...]
    measured: bool  # whether base's tests measured coverage at all

    @property
    def dropped(self) -> tuple[HunkProof, ...]:
        """Hunks left out of the change."""
        return tuple(h for h in self.hunks if h.verdict == "dropped")

    @property
    def unverified(self) -> tuple[HunkProof, ...]:
        """Kept hunks that no test executes and nothing proves equivalent."""
        return tuple(h for h in self.hunks if h.verdict == "unverified")

    def executed_share(self) -> float | None:
        """Share (0..1) of the kept changed lines whose hunk base's tests execute; None when unmeasured."""
        kept = [h for h in self.hunks if h.verdict != "dropped"]
        if not self.measured or not kept:
            return None
        total = sum(h.changed_lines for h in kept)
        executed = sum(h.changed_lines for h in kept if h.execution == "executed")
        return executed / total if total else None

    def to_dict(self) -> dict[str, Any]:
        """Serialise to a JSON-ready dict."""
        share = self.executed_share()
        return {
            "measured": self.measured,
            "executed_share": None if share is None else round(share, 4),
            "hunks": [h.to_dict() for h in self.hunks],
        }


def _symbols(tree: ast.Module) -> list[tuple[int, int, str]]:
    found: list[tuple[int, int, str]] = []

    def walk(node: ast.AST, prefix: str) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                name = f"{prefix}{child.name}"
                found.append((child.lineno, child.end_lineno or child.lineno, name))
                walk(child, name + ".")
            else:
                walk(child, prefix)

    walk(tree, "")
    return found


def _symbol_at(symbols: list[tuple[int, int, str]], first: int, last: int) -> str | None:
    around = [s for s in symbols if s[0] <= first and last <= s[1]]
    return min(around, key=lambda s: s[1] - s[0])[2] if around else None


def _change_spans(changes: tuple[Change, ...], tree: ast.Module) -> list[tuple[int, int, Change]]:
    """Each change's base line range: the statement that starts on its line (its whole body), else the line."""
    ends: dict[int, int] = {}
    for start, end in statement_spans(tree):
        ends[start] = max(ends.get(start, start), end)
    return [(c.line, ends.get(c.line, c.line), c) for c in changes]


def _hunk_changes(hunk: Hunk, spans: list[tuple[int, int, Change]]) -> tuple[Change, ...]:
    first, last = hunk.base_start, max(hunk.base_end, hunk.base_start)
    inside = [c for start, end, c in spans if start <= last and first <= end]
    if inside:
        # Prefer the changes that start inside the hunk; an enclosing change (a flattened `if`) otherwise.
        starting = [c for c in inside if first <= c.line <= last]
        return tuple(starting or inside)
    before = [(start, c) for start, _, c in spans if start <= first]
    return (max(before, key=lambda pair: pair[0])[1],) if before else ()


def _first_line(node: ast.stmt) -> int:
    decorators = getattr(node, "decorator_list", None) or []
    return min([node.lineno, *(d.lineno for d in decorators)])


def _logical_changes(
    hunks: tuple[Hunk, ...], change_spans: list[tuple[int, int, Change]]
) -> list[tuple[list[Hunk], tuple[Change, ...]]]:
    """Hunks grouped into the changes they make: a dedented block is split by its unchanged blank lines into
    several hunks (and may hold a nested change of its own), yet it is one change, kept or left out whole."""
    groups: list[tuple[list[Hunk], tuple[Change, ...], set[Change]]] = []
    for hunk in hunks:
        changes = _hunk_changes(hunk, change_spans)
        first, last = hunk.base_start, max(hunk.base_end, hunk.base_start)
        around = {c for start, end, c in change_spans if start <= last and first <= end} | set(changes)
        if groups and around & groups[-1][2]:
            group, named, seen = groups[-1]
            group.append(hunk)
            groups[-1] = (group, tuple(dict.fromkeys((*named, *changes))), seen | around)
        else:
            groups.append(([hunk], changes, around))
    return [(group, named) for group, named, _ in groups]


def _hunks_equivalent(
    lines: list[str], top_level: list[tuple[int, int]], group: list[Hunk], codemods: tuple[str, ...]
) -> bool:
    """Whether applying only `group` keeps behaviour, judged on the top-level statements it touches.

    Lines outside the group are the same on both sides (shifted by its size), so comparing the touched
    statements alone is as strong as comparing the modules, and much cheaper on large files.
    """
    if not codemods:
        return False
    first = group[0].base_start
    last = max(max(h.base_end, h.base_start - 1) for h in group)
    touched = [(a, b) for a, b in top_level if a <= max(last, first) and first <= b]
    start = min([first, *(a for a, _ in touched)])
    end = max([last, *(b for _, b in touched)])
    region_before = "".join(lines[start - 1 : end])
    shifted = [replace(h, base_start=h.base_start - start + 1, base_end=h.base_end - start + 1) for h in group]
    return _cached_equivalence(region_before, apply_hunks(region_before, shifted), codemods)


@functools.lru_cache(maxsize=4096)
def _cached_equivalence(before: str, after: str, codemods: tuple[str, ...]) -> bool:
    """Each attempt proves its hunks twice (before and after base's coverage is known): compute once."""
    return proven_equivalent(before, after, codemods)


def prove_edit(
    edit: FileEdit,
    covered: list[int] | None,
    executable: list[int] | None,
    risky: frozenset[str],
) -> tuple[FileEdit | None, tuple[HunkProof, ...]]:
    """Classify one edit's hunks; return the edit with unproven risky hunks dropped (None if nothing is left)."""
    hunks = split_hunks(edit.before, edit.after)
    try:
        tree = ast.parse(edit.before)
    except (SyntaxError, ValueError):
        tree = ast.Module(body=[], type_ignores=[])
    spans, symbols, headers = statement_spans(tree), _symbols(tree), function_headers(tree)
    top_level = [(_first_line(node), node.end_lineno or node.lineno) for node in tree.body]
    lines = edit.before.splitlines(keepends=True)
    change_spans = _change_spans(edit.changes, tree)
    line_count = len(edit.before.splitlines())
    all_codemods = tuple(sorted({c.codemod for c in edit.changes}))
    proofs: list[HunkProof] = []
    kept_hunks: list[Hunk] = []
    kept_changes: set[Change] = set()
    for group, changes in _logical_changes(hunks, change_spans):
        codemods = tuple(sorted({c.codemod for c in changes})) or all_codemods
        executions = {hunk_execution(h, spans, line_count, covered, executable, headers) for h in group}
        execution: Execution = next(e for e in ("executed", "not-executed", "not-measured") if e in executions)
        # Proven equivalence is the stronger claim (a test may run a line without checking what it does).
        equivalent = _hunks_equivalent(lines, top_level, group, codemods)
        if equivalent:
            verdict: Verdict = "equivalent"
        elif execution == "executed":
            verdict = "tested"
        else:
            # Only catalog edits are dropped here; the LLM's refactors answer to its characterization tests.
            verdict = "dropped" if edit.source == "codemods" and set(codemods) & risky else "unverified"
        if verdict != "dropped":
            kept_hunks.extend(group)
            kept_changes.update(changes)
        first, last = group[0], group[-1]
        proofs.append(
            HunkProof(
                path=edit.path,
                base_start=first.base_start,
                base_end=max(h.base_end for h in group),
                head_start=first.head_start,
                head_end=max(h.head_end for h in group),
                codemods=codemods,
                descriptions=tuple(dict.fromkeys(c.description for c in changes)),
                symbol=_symbol_at(symbols, first.base_start, max(last.base_end, first.base_start)),
                execution=execution,
                equivalent=equivalent,
                verdict=verdict,
                changed_lines=sum(h.changed_line_count for h in group),
            )
        )
    if len(kept_hunks) == len(hunks):
        return edit, tuple(proofs)
    after = apply_hunks(edit.before, kept_hunks)
    if not kept_hunks or after == edit.before:
        return None, tuple(proofs)
    try:
        ast.parse(after)
    except (SyntaxError, ValueError):
        # The kept hunks do not stand alone: leave the whole file out rather than commit half a change.
        return None, tuple(replace(p, verdict="dropped") for p in proofs)
    changes = tuple(c for c in edit.changes if c in kept_changes)
    return replace(edit, after=after, changes=changes), tuple(proofs)


def prove_edits(edits: tuple[FileEdit, ...], base_tests: TestRun | None, risky: frozenset[str]) -> EditProof:
    """Prove every edit's hunks against base's test run (its line coverage); drop unproven risky hunks."""
    measured = base_tests is not None and bool(base_tests.executable_lines)
    kept: list[FileEdit] = []
    proofs: list[HunkProof] = []
    for edit in edits:
        covered, executable = _file_lines(base_tests, edit, measured)
        proven, file_proofs = prove_edit(edit, covered, executable, risky)
        proofs.extend(file_proofs)
        if proven is not None:
            kept.append(proven)
    return EditProof(kept=tuple(kept), hunks=tuple(proofs), measured=measured)


def _file_lines(
    base_tests: TestRun | None, edit: FileEdit, measured: bool
) -> tuple[list[int] | None, list[int] | None]:
    """The file's executed and executable lines in base's run; None, None when it was not measured."""
    if base_tests is None or not measured:
        return None, None
    if edit.path in base_tests.executable_lines:
        return base_tests.covered_lines.get(edit.path, []), base_tests.executable_lines[edit.path]
    if any(fnmatch.fnmatch("/" + edit.path, pattern) for pattern in COVERAGE_OMIT):
        return None, None  # tests and build files are never measured
    # Measured, yet the run never imported the file: none of its lines executed.
    return [], list(range(1, len(edit.before.splitlines()) + 1))


def risky_codemods() -> frozenset[str]:
    """Ids of the codemods whose metadata says risk medium or high."""
    from evolve.codemods.registry import available_codemods

    return frozenset(cid for cid, cls in available_codemods().items() if cls.metadata.risk in ("medium", "high"))
