"""Proof of behaviour per changed hunk: executed by base's tests, proven equivalent, or neither. Pure.

A hunk made by a risky codemod (metadata risk medium or high) that no test executes and that is not proven
equivalent is dropped from its edit before the gates run; every other hunk is kept and labelled, so the PR
can say plainly which changed lines no test runs.
"""

from __future__ import annotations

import ast
import fnmatch
import functools
from collections.abc import Collection, Iterable
from dataclasses import asdict, dataclass, replace
from typing import Any, Literal

from evolve.changed_lines import ChangedLines, total
from evolve.codemods.base import Change
from evolve.edits import FileEdit
from evolve.proof.equivalence import proven_equivalent
from evolve.proof.executed_lines import Execution, HeadRun, HunkExecution, hunk_executions, summarize
from evolve.proof.hunks import Hunk, apply_hunks, statement_spans
from evolve.suites.runs import COVERAGE_OMIT, TestRun

# "no-code": the hunk changes no statement that needs executing (imports, annotations, docstrings, layout).
Verdict = Literal["tested", "equivalent", "unverified", "dropped", "no-code"]


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
    # Of the changed lines, those that need executing (base's run measured them) and those base's tests executed;
    # see evolve/proof/executed_lines.py, the one computation of this figure.
    executable_lines: int = 0
    executed_lines: int = 0
    unmeasured_lines: int = 0
    symbol_kind: str = ""  # "function" or "class": a function's name is written `name()`

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

    def changed_lines(self) -> ChangedLines:
        """The kept changed lines that need executing, and how many base's tests execute."""
        return kept_changed_lines(self.hunks, self.measured)

    def executed_share(self) -> float | None:
        """Share (0..1) of the kept changed lines needing execution that base's tests execute; None when unmeasured
        or when none needs executing."""
        percent = self.changed_lines().percent
        return None if percent is None else percent / 100

    def to_dict(self) -> dict[str, Any]:
        """Serialise to a JSON-ready dict."""
        share = self.executed_share()
        return {
            "measured": self.measured,
            "executed_share": None if share is None else round(share, 4),
            "changed_lines": changed_lines_dict(self.changed_lines()),
            "hunks": [h.to_dict() for h in self.hunks],
        }


def kept_changed_lines(hunks: tuple[HunkProof, ...], measured: bool) -> ChangedLines:
    """`ChangedLines` over the hunks not dropped."""
    return total(
        ChangedLines(
            h.executed_lines,
            h.executable_lines,
            measured,
            ((h.path, h.base_start, max(h.base_end, h.base_start)),) if h.executed_lines < h.executable_lines else (),
            h.unmeasured_lines,
        )
        for h in hunks
        if h.verdict != "dropped"
    )


def changed_lines_dict(lines: ChangedLines) -> dict[str, Any]:
    """`ChangedLines` as the report document holds it."""
    return {
        "executed": lines.executed,
        "executable": lines.executable,
        "measured": lines.measured,
        "unmeasured": lines.unmeasured,
        "unexecuted": [list(place) for place in lines.unexecuted],
    }


def _symbols(tree: ast.Module) -> list[tuple[int, int, str, str]]:
    found: list[tuple[int, int, str, str]] = []

    def walk(node: ast.AST, prefix: str) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                name = f"{prefix}{child.name}"
                kind = "class" if isinstance(child, ast.ClassDef) else "function"
                found.append((child.lineno, child.end_lineno or child.lineno, name, kind))
                walk(child, name + ".")
            else:
                walk(child, prefix)

    walk(tree, "")
    return found


def _symbol_at(symbols: list[tuple[int, int, str, str]], first: int, last: int) -> tuple[str | None, str]:
    """The innermost function or class around lines first..last, and its kind ("function" or "class")."""
    around = [s for s in symbols if s[0] <= first and last <= s[1]]
    if not around:
        return None, ""
    innermost = min(around, key=lambda s: s[1] - s[0])
    return innermost[2], innermost[3]


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


def _group_execution(executions: list[HunkExecution]) -> tuple[Execution, int, int, int]:
    """One logical change's execution (its hunks' strongest) and its line counts."""
    states = {e.execution for e in executions}
    execution: Execution = next(
        state for state in ("executed", "not-executed", "not-measured", "no-code") if state in states
    )
    return (
        execution,
        sum(e.executable for e in executions),
        sum(e.executed for e in executions),
        sum(e.unmeasured for e in executions),
    )


def prove_edit(
    edit: FileEdit,
    executed: Collection[int] | None,
    risky: frozenset[str],
    passed_tests: Collection[str] = (),
    head: HeadRun | None = None,
    drop: bool = True,
) -> tuple[FileEdit | None, tuple[HunkProof, ...]]:
    """Classify one edit's hunks; return the edit with unproven risky hunks dropped (None if nothing is left).

    `executed` is base's executed lines of the file (None: not measured), `passed_tests` its tests that passed,
    `head` head's run of it once the gates ran; `drop=False` labels a change already made (nothing is dropped)."""
    measured_hunks = hunk_executions(edit.before, edit.after, executed, passed_tests, head)
    hunks = tuple(m.hunk for m in measured_hunks)
    by_hunk = {m.hunk: m for m in measured_hunks}
    try:
        tree = ast.parse(edit.before)
    except (SyntaxError, ValueError):
        tree = ast.Module(body=[], type_ignores=[])
    symbols = _symbols(tree)
    top_level = [(_first_line(node), node.end_lineno or node.lineno) for node in tree.body]
    lines = edit.before.splitlines(keepends=True)
    change_spans = _change_spans(edit.changes, tree)
    all_codemods = tuple(sorted({c.codemod for c in edit.changes}))
    proofs: list[HunkProof] = []
    kept_hunks: list[Hunk] = []
    kept_changes: set[Change] = set()
    for group, changes in _logical_changes(hunks, change_spans):
        codemods = tuple(sorted({c.codemod for c in changes})) or all_codemods
        execution, executable_lines, executed_lines, unmeasured_lines = _group_execution([by_hunk[h] for h in group])
        # Proven equivalence is the stronger claim (a test may run a line without checking what it does).
        equivalent = _hunks_equivalent(lines, top_level, group, codemods)
        if equivalent:
            verdict: Verdict = "equivalent"
        elif execution == "executed":
            verdict = "tested"
        elif execution == "no-code":
            verdict = "no-code"
        else:
            # Only catalog edits are dropped here; the LLM's refactors answer to its characterization tests.
            verdict = "dropped" if drop and edit.source == "codemods" and set(codemods) & risky else "unverified"
        if verdict != "dropped":
            kept_hunks.extend(group)
            kept_changes.update(changes)
        first, last = group[0], group[-1]
        symbol, symbol_kind = _symbol_at(symbols, first.base_start, max(last.base_end, first.base_start))
        proofs.append(
            HunkProof(
                path=edit.path,
                base_start=first.base_start,
                base_end=max(h.base_end for h in group),
                head_start=first.head_start,
                head_end=max(h.head_end for h in group),
                codemods=codemods,
                descriptions=tuple(dict.fromkeys(c.description for c in changes)),
                symbol=symbol,
                symbol_kind=symbol_kind,
                execution=execution,
                equivalent=equivalent,
                verdict=verdict,
                changed_lines=sum(h.changed_line_count for h in group),
                executable_lines=executable_lines,
                executed_lines=executed_lines,
                unmeasured_lines=unmeasured_lines,
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


def prove_edits(
    edits: tuple[FileEdit, ...],
    base_tests: TestRun | None,
    risky: frozenset[str],
    head_tests: TestRun | None = None,
    drop: bool = True,
) -> EditProof:
    """Prove every edit's hunks against base's test run (its line coverage); drop unproven risky hunks (unless
    `drop` is False: relabelling a change the gates passed). `head_tests` judges the added lines once it ran."""
    measured = base_tests is not None and bool(base_tests.executable_lines)
    kept: list[FileEdit] = []
    proofs: list[HunkProof] = []
    for edit in edits:
        executed = base_executed_lines(base_tests, edit.path, edit.before)
        passed = base_tests.passed_tests.get(edit.path, ()) if base_tests is not None else ()
        proven, file_proofs = prove_edit(edit, executed, risky, passed, head_run_of(head_tests, edit.path), drop)
        proofs.extend(file_proofs)
        if proven is not None:
            kept.append(proven)
    return EditProof(kept=tuple(kept), hunks=tuple(proofs), measured=measured)


def base_executed_lines(base_tests: TestRun | None, path: str, before: str | None = None) -> frozenset[int] | None:
    """The file's executed lines in base's run; None when the run measured no coverage or not this file."""
    if base_tests is None or not base_tests.executable_lines:
        return None
    if path in base_tests.executable_lines:
        return frozenset(base_tests.covered_lines.get(path, ()))
    if any(fnmatch.fnmatch("/" + path, pattern) for pattern in COVERAGE_OMIT):
        return None  # tests and build files are never measured
    if before is not None and not path.endswith((".py", ".pyw")):
        return None
    # Measured, yet the run never imported the file: none of its lines executed.
    return frozenset()


def head_run_of(head_tests: TestRun | None, path: str) -> HeadRun | None:
    """Head's executed lines and passed tests of one file, when head's run measured coverage."""
    if head_tests is None or head_tests.coverage_percent is None:
        return None
    passed = head_tests.passed_tests.get(path, ())
    if path in head_tests.executable_lines:
        return HeadRun(frozenset(head_tests.covered_lines.get(path, ())), passed)
    if any(fnmatch.fnmatch("/" + path, pattern) for pattern in COVERAGE_OMIT) or not path.endswith((".py", ".pyw")):
        return HeadRun(None, passed)
    return HeadRun(frozenset(), passed)  # measured, never imported


def changed_lines_of_edits(
    edits: Iterable[tuple[str, str, str]], base_tests: TestRun | None, head_tests: TestRun | None = None
) -> ChangedLines:
    """Changed lines the tests execute over (path, before, after) edits: the figure the coverage gate and the
    report share (the report's is the sum over the proof's kept hunks, which are these hunks)."""
    measured = base_tests is not None and bool(base_tests.executable_lines)
    parts = []
    for path, before, after in edits:
        executed = base_executed_lines(base_tests, path, before)
        passed = base_tests.passed_tests.get(path, ()) if base_tests is not None else ()
        head = head_run_of(head_tests, path)
        parts.append(summarize(path, hunk_executions(before, after, executed, passed, head), measured))
    return total(parts)


def risky_codemods() -> frozenset[str]:
    """Ids of the codemods whose metadata says risk medium or high."""
    from evolve.codemods.registry import available_codemods

    return frozenset(cid for cid, cls in available_codemods().items() if cls.metadata.risk in ("medium", "high"))
