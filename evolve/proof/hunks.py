"""Hunks of one file edit, and whether the base tree's test run executes each one. Pure: text and line sets in.

A hunk is one contiguous run of changed lines. Its base side is what the tests could have executed: the
replaced or deleted lines, or — for a hunk that only adds lines — the statement the lines go into.
"""

from __future__ import annotations

import ast
import difflib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Literal

Execution = Literal["executed", "not-executed", "not-measured"]


@dataclass(frozen=True)
class Hunk:
    """One contiguous change. Line numbers are 1-based; an empty side has `end == start - 1`."""

    base_start: int
    base_end: int
    head_start: int
    head_end: int
    added: tuple[str, ...]  # the head lines that replace base_start..base_end

    @property
    def base_lines(self) -> range:
        """The base lines this hunk replaces or deletes (empty for a pure addition)."""
        return range(self.base_start, self.base_end + 1)

    @property
    def changed_line_count(self) -> int:
        """Lines removed plus lines added."""
        return len(self.base_lines) + len(self.added)


def split_hunks(before: str, after: str) -> tuple[Hunk, ...]:
    """The hunks turning `before` into `after`, in order, with no context lines."""
    old, new = before.splitlines(keepends=True), after.splitlines(keepends=True)
    hunks = []
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(None, old, new, autojunk=False).get_opcodes():
        if tag != "equal":
            hunks.append(Hunk(i1 + 1, i2, j1 + 1, j2, tuple(new[j1:j2])))
    return tuple(hunks)


def apply_hunks(before: str, hunks: Iterable[Hunk]) -> str:
    """`before` with only the given hunks applied (hunks of one `split_hunks` result)."""
    lines = before.splitlines(keepends=True)
    for hunk in sorted(hunks, key=lambda h: h.base_start, reverse=True):
        lines[hunk.base_start - 1 : hunk.base_end] = hunk.added
    return "".join(lines)


def statement_spans(tree: ast.Module) -> list[tuple[int, int]]:
    """(first line, last line) of every statement in `tree`, outermost first."""
    spans = []
    for node in ast.walk(tree):
        if isinstance(node, ast.stmt):
            spans.append((node.lineno, node.end_lineno or node.lineno))
    return spans


def function_headers(tree: ast.Module) -> list[tuple[int, int, int, int]]:
    """(header first line, header last line, first body statement's first and last line) of every function.

    A `def` line runs when the module is imported; what runs when the function is called is its body.
    """
    headers = []
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.body:
            first = node.body[0]
            if first.lineno > node.lineno:
                headers.append((node.lineno, first.lineno - 1, first.lineno, first.end_lineno or first.lineno))
    return headers


def innermost_statement(spans: Sequence[tuple[int, int]], first: int, last: int) -> tuple[int, int] | None:
    """The smallest statement span containing lines first..last, if any."""
    containing = [span for span in spans if span[0] <= first and last <= span[1]]
    return min(containing, key=lambda span: span[1] - span[0]) if containing else None


def measured_lines(hunk: Hunk, spans: Sequence[tuple[int, int]], line_count: int) -> range:
    """The base lines whose execution tells whether the tests reach this hunk."""
    if hunk.base_end >= hunk.base_start:
        return hunk.base_lines
    # A pure addition sits between base lines base_start-1 and base_start: the statement around the gap,
    # or else the statement just before it (an addition at the end of a block).
    before, after = max(hunk.base_start - 1, 1), min(hunk.base_start, max(line_count, 1))
    span = innermost_statement(spans, before, after) or innermost_statement(spans, before, before)
    return range(span[0], span[1] + 1) if span else range(before, after + 1)


def hunk_execution(
    hunk: Hunk,
    spans: Sequence[tuple[int, int]],
    line_count: int,
    covered: Iterable[int] | None,
    executable: Iterable[int] | None,
    headers: Sequence[tuple[int, int, int, int]] = (),
) -> Execution:
    """Whether the base test run executed this hunk's base side.

    `covered`/`executable` are the base file's executed and executable lines; None when the file (or the
    whole run) was not measured. Lines coverage does not count (an `else:`, a comment) are judged by the
    innermost statement around them; a change inside a function's signature (`headers`) by its body.
    """
    if covered is None or executable is None:
        return "not-measured"
    covered_set, executable_set = set(covered), set(executable)
    lines = measured_lines(hunk, spans, line_count)
    for header_first, header_last, body_first, body_last in headers:
        if header_first <= lines.start and lines.stop - 1 <= header_last:
            lines = range(body_first, body_last + 1)  # a signature change matters when the function is called
            break
    candidates = executable_set.intersection(lines)
    if not candidates:
        span = innermost_statement(spans, lines.start, max(lines.stop - 1, lines.start))
        candidates = executable_set.intersection(range(span[0], span[1] + 1)) if span else set()
    if not candidates:
        return "not-measured"
    return "executed" if candidates & covered_set else "not-executed"
