"""Continuation lines keep their alignment when an edit moves or reshapes the line they hang from. Pure.

LibCST keeps the whitespace inside brackets verbatim, so an edit that dedents a block (`redundant-else` lifting an
`else:` body) or changes the text before an opening bracket (`logging.warn(` -> `logging.warning(`) leaves the
bracket's continuation lines where they were: pycodestyle then reports E127/E128 (visual indent) or E126 (hanging
indent) on lines nobody meant to touch. `realign_continuations(before, after)` pairs each changed statement of
`after` with the statement it came from in `before`, reads how each continuation line hung there — aligned with a
token after its opening bracket (or with the bracket itself), or at an offset from the indentation of the line that
opened the bracket — and puts it back in that relation. A line that starts inside a string, a line indented with
tabs, and a statement that cannot be paired are left exactly as the edit wrote them.
"""

from __future__ import annotations

import ast
import difflib
import io
import tokenize
from collections.abc import Sequence
from dataclasses import dataclass

_SKIPPED = frozenset(
    {tokenize.NL, tokenize.NEWLINE, tokenize.INDENT, tokenize.DEDENT, tokenize.ENCODING, tokenize.ENDMARKER}
)
_OPENERS = frozenset("([{")
_CLOSERS = frozenset(")]}")


@dataclass(frozen=True)
class _Token:
    text: str
    row: int  # 1-based
    col: int
    end_row: int


@dataclass(frozen=True)
class _Statement:
    """One logical line: its tokens (no layout tokens) and the rows it spans."""

    tokens: tuple[_Token, ...]

    @property
    def first_row(self) -> int:
        return self.tokens[0].row

    @property
    def last_row(self) -> int:
        return self.tokens[-1].end_row

    @property
    def key(self) -> tuple[str, ...]:
        return tuple(token.text for token in self.tokens)


def _statements(source: str) -> list[_Statement] | None:
    """The logical lines of `source`, or None when it does not tokenize."""
    found: list[_Statement] = []
    pending: list[_Token] = []
    try:
        for token in tokenize.generate_tokens(io.StringIO(source).readline):
            if token.type == tokenize.NEWLINE or token.type == tokenize.ENDMARKER:
                if pending:
                    found.append(_Statement(tuple(pending)))
                    pending = []
                continue
            if token.type in _SKIPPED or (token.type == tokenize.COMMENT and not pending):
                continue  # layout, and comments on lines of their own between statements
            pending.append(_Token(token.string, token.start[0], token.start[1], token.end[0]))
    except (tokenize.TokenError, SyntaxError):
        return None
    return found


def _changed_rows(before: str, after: str) -> set[int]:
    """The 1-based rows of `after` that differ from `before`."""
    matcher = difflib.SequenceMatcher(a=before.splitlines(), b=after.splitlines(), autojunk=False)
    return {
        row + 1
        for tag, _, _, start, end in matcher.get_opcodes()
        if tag in ("replace", "insert")
        for row in range(start, end)
    }


def _similarity(first: _Statement, second: _Statement) -> float:
    return difflib.SequenceMatcher(a=first.key, b=second.key, autojunk=False).ratio()


def _partners(old: Sequence[_Statement], new: Sequence[_Statement], wanted: set[int]) -> dict[int, int]:
    """Index in `new` -> index in `old` of the statement it came from, for the `new` indices in `wanted`."""
    matcher = difflib.SequenceMatcher(a=[s.key for s in old], b=[s.key for s in new], autojunk=False)
    found: dict[int, int] = {}
    for tag, old_start, old_end, new_start, new_end in matcher.get_opcodes():
        if tag == "equal":
            for offset in range(new_end - new_start):
                if new_start + offset in wanted:
                    found[new_start + offset] = old_start + offset
        elif tag == "replace":
            for index in range(new_start, new_end):
                if index not in wanted:
                    continue
                scored = [(_similarity(old[i], new[index]), -i) for i in range(old_start, old_end)]
                best, negated = max(scored)
                if best >= 0.5:
                    found[index] = -negated
    return found


def _row_starts(statement: _Statement) -> dict[int, int]:
    """Row -> index of the token that starts it, for each continuation row that does not begin inside a token."""
    starts: dict[int, int] = {}
    covered = 0  # the last row a multi-line token (a string) reaches
    for index, token in enumerate(statement.tokens):
        if token.row > covered and token.row not in starts and token.row != statement.first_row:
            starts[token.row] = index
        covered = max(covered, token.end_row if token.end_row > token.row else 0)
    return starts


def _first_on_row(statement: _Statement) -> dict[int, int]:
    """Row -> index of the first token that starts on it (the first row included)."""
    first: dict[int, int] = {}
    for index, token in enumerate(statement.tokens):
        first.setdefault(token.row, index)
    return first


@dataclass(frozen=True)
class _Anchor:
    """What a continuation line lines up with: a token's column, or an offset from a row's indentation."""

    token: int  # index in the old statement
    offset: int = 0


def _anchors(statement: _Statement) -> dict[int, _Anchor]:
    """Continuation row -> what it lines up with, read from how the statement is laid out."""
    tokens = statement.tokens
    starts = _row_starts(statement)
    first = _first_on_row(statement)
    anchors: dict[int, _Anchor] = {}
    stack: list[int] = []  # indices of the open brackets
    depth: list[int] = []
    for index, token in enumerate(tokens):
        depth.append(len(stack))
        if token.row in starts and starts[token.row] == index:
            anchors[token.row] = _anchor(statement, index, stack[-1] if stack else -1, depth, first)
        if token.text in _OPENERS:
            stack.append(index)
        elif token.text in _CLOSERS and stack:
            stack.pop()
    return anchors


def _anchor(statement: _Statement, index: int, bracket: int, depth: list[int], first: dict[int, int]) -> _Anchor:
    """The anchor of the token at `index`, which starts a continuation row inside `bracket` (-1: none, a backslash)."""
    tokens = statement.tokens
    token = tokens[index]
    for inner in range(bracket + 1, index):
        if depth[inner] == depth[index] and tokens[inner].row < token.row and tokens[inner].col == token.col:
            return _Anchor(inner)  # visual indent: under a token of the same bracket
    if bracket >= 0 and tokens[bracket].col == token.col:
        return _Anchor(bracket)  # under the opening bracket itself
    opener_row = tokens[bracket].row if bracket >= 0 else statement.first_row
    row_start = first[opener_row]
    return _Anchor(row_start, token.col - tokens[row_start].col)  # hanging: indented from the opening line


def _realigned_rows(old: _Statement, new: _Statement, old_lines: list[str], lines: list[str]) -> dict[int, int]:
    """Row of `new` -> the column its first token moves to, for rows whose relation to their anchor changed."""
    matcher = difflib.SequenceMatcher(a=old.key, b=new.key, autojunk=False)
    mapped: dict[int, int] = {}
    for tag, old_start, old_end, new_start, _ in matcher.get_opcodes():
        if tag == "equal":
            for offset in range(old_end - old_start):
                mapped[old_start + offset] = new_start + offset
    old_starts, new_starts = _row_starts(old), _row_starts(new)
    columns = [token.col for token in new.tokens]  # columns in `new`, updated as rows move
    moves: dict[int, int] = {}
    for row, anchor in sorted(_anchors(old).items()):
        index = old_starts[row]
        if old_lines[row - 1][: old.tokens[index].col].strip(" "):
            continue  # tabs: columns are not what the eye sees
        target_index, anchor_index = mapped.get(index), mapped.get(anchor.token)
        if target_index is None or anchor_index is None:
            continue
        new_row = new.tokens[target_index].row
        if new_starts.get(new_row) != target_index or new.tokens[anchor_index].row >= new_row:
            continue
        target = columns[anchor_index] + anchor.offset
        current = columns[target_index]
        prefix = lines[new_row - 1][:current]
        if target == current or target < 0 or prefix.strip(" ") or len(prefix) != current:
            continue  # aligned already, or a prefix of tabs (or a form feed) that columns do not measure
        moves[new_row] = target
        for position, token in enumerate(new.tokens):
            if token.row == new_row:
                columns[position] += target - current
    return moves


def realign_continuations(before: str, after: str) -> str:
    """`after` with the continuation lines of its changed statements lined up as they were in `before`."""
    if before == after:
        return after
    old, new = _statements(before), _statements(after)
    if old is None or new is None:
        return after
    changed = _changed_rows(before, after)
    wanted = {
        index
        for index, statement in enumerate(new)
        if statement.first_row != statement.last_row
        and any(row in changed for row in range(statement.first_row, statement.last_row + 1))
    }
    if not wanted:
        return after
    # Rows as tokenize counts them (only newlines end a row; `str.splitlines` also splits at form feeds).
    old_lines, lines = io.StringIO(before).readlines(), io.StringIO(after).readlines()
    moves: dict[int, int] = {}
    for new_index, old_index in _partners(old, new, wanted).items():
        moves.update(_realigned_rows(old[old_index], new[new_index], old_lines, lines))
    if not moves:
        return after
    for row, column in moves.items():
        line = lines[row - 1]
        lines[row - 1] = " " * column + line.lstrip(" ")
    realigned = "".join(lines)
    new_again = _statements(realigned)
    if new_again is None or [s.key for s in new_again] != [s.key for s in new]:
        return after
    try:
        ast.parse(realigned)
    except (SyntaxError, ValueError):
        return after
    return realigned
