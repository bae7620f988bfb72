"""Mutation operators: small, plausible mistakes made in one expression of a Python module. Pure (ast only).

The set is the one code review found useful: comparison and boolean operators, constants, `return` values,
removed calls and negated conditions. Each mutant replaces one span of the source with text of the same number
of lines (so every other line keeps its number and the enclosing function keeps its first line), parenthesised so
that it parses wherever the original expression did.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass

from evolve.mutation.aridity import arid_nodes

OPERATORS = ("comparison", "boolean", "condition", "return", "call", "constant")
SHOWN_LIMIT = 60

COMPARISON_SWAPS: dict[type[ast.cmpop], type[ast.cmpop]] = {
    ast.Lt: ast.LtE,
    ast.LtE: ast.Lt,
    ast.Gt: ast.GtE,
    ast.GtE: ast.Gt,
    ast.Eq: ast.NotEq,
    ast.NotEq: ast.Eq,
    ast.Is: ast.IsNot,
    ast.IsNot: ast.Is,
    ast.In: ast.NotIn,
    ast.NotIn: ast.In,
}
COMPARISON_TEXT: dict[type[ast.cmpop], str] = {
    ast.Lt: "<",
    ast.LtE: "<=",
    ast.Gt: ">",
    ast.GtE: ">=",
    ast.Eq: "==",
    ast.NotEq: "!=",
    ast.Is: "is",
    ast.IsNot: "is not",
    ast.In: "in",
    ast.NotIn: "not in",
}


@dataclass(frozen=True)
class Mutation:
    """One mistake in one module: the span it replaces (1-based lines, character columns), the text put there,
    and how to say it (`before` / `after` are short code snippets)."""

    operator: str
    line: int  # the line shown (where the mutated expression starts)
    statement_line: int  # the first line of the enclosing statement: the line coverage records
    start: tuple[int, int]
    end: tuple[int, int]
    replacement: str
    before: str
    after: str
    # The outermost function around the span, as (name, first line with decorators); None: module or class level.
    function: tuple[str, int] | None = None


def shorten(text: str, limit: int = SHOWN_LIMIT) -> str:
    """One line of code for a sentence: whitespace collapsed, cut with an ellipsis."""
    single = " ".join(text.split())
    return single if len(single) <= limit else single[: limit - 1] + "…"


class _Source:
    """A module's text with ast's UTF-8 byte columns turned into character columns."""

    def __init__(self, text: str) -> None:
        self.lines = text.splitlines(keepends=True)

    def column(self, line: int, byte_column: int) -> int:
        raw = self.lines[line - 1].encode("utf-8") if 0 < line <= len(self.lines) else b""
        return len(raw[:byte_column].decode("utf-8", errors="replace"))

    def span(self, node: ast.AST) -> tuple[tuple[int, int], tuple[int, int]] | None:
        end_line, end_column = getattr(node, "end_lineno", None), getattr(node, "end_col_offset", None)
        if end_line is None or end_column is None:
            return None
        line, column = node.lineno, node.col_offset  # type: ignore[attr-defined]
        return (line, self.column(line, column)), (end_line, self.column(end_line, end_column))

    def text(self, start: tuple[int, int], end: tuple[int, int]) -> str:
        if start[0] == end[0]:
            return self.lines[start[0] - 1][start[1] : end[1]]
        middle = "".join(self.lines[start[0] : end[0] - 1])
        return self.lines[start[0] - 1][start[1] :] + middle + self.lines[end[0] - 1][: end[1]]


def apply_mutation(source: str, start: tuple[int, int], end: tuple[int, int], replacement: str) -> str:
    """`source` with the span replaced (character columns, 1-based lines)."""
    lines = source.splitlines(keepends=True)
    head = "".join(lines[: start[0] - 1]) + lines[start[0] - 1][: start[1]]
    tail = lines[end[0] - 1][end[1] :] + "".join(lines[end[0] :])
    return head + replacement + tail


def _same_lines(text: str, original: str) -> str:
    """`text` in parentheses, padded with the original's line breaks so no later line moves."""
    return "(" + text + "\n" * original.count("\n") + ")"


@dataclass(frozen=True)
class _Where:
    statement_line: int
    function: tuple[str, int] | None


def _first_line(node: ast.FunctionDef | ast.AsyncFunctionDef) -> int:
    return min([node.lineno, *(decorator.lineno for decorator in node.decorator_list)])


def _expressions(tree: ast.Module) -> Iterator[tuple[ast.AST, _Where]]:
    """Every node below a statement, with its statement's first line and the outermost function around it.
    Default values, decorators and class bases (evaluated at import, never by a test) are left out."""

    def visit(
        node: ast.AST, where: _Where | None, function: tuple[str, int] | None
    ) -> Iterator[tuple[ast.AST, _Where]]:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            inner = function or (node.name, _first_line(node))
            for statement in node.body:
                yield from visit(statement, None, inner)
            return
        if isinstance(node, ast.ClassDef):
            for statement in node.body:
                yield from visit(statement, None, function)
            return
        if isinstance(node, ast.stmt):
            where = _Where(node.lineno, function)
        elif where is not None:
            yield node, where
        for child in ast.iter_child_nodes(node):
            yield from visit(child, where, function)

    for statement in tree.body:
        yield from visit(statement, None, None)


def mutations_of(source: str, lines: set[int] | None = None) -> list[Mutation]:
    """Every mutation of `source` whose mutated expression starts on one of `lines` (all lines when None),
    outside arid code, in source order. Unparsable source has none."""
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError):
        return []
    text = _Source(source)
    arid = arid_nodes(tree)
    arid.update(id(child) for node in ast.walk(tree) if isinstance(node, ast.pattern) for child in ast.walk(node))
    found: list[Mutation] = []
    for node, where in _expressions(tree):
        if id(node) in arid or (lines is not None and getattr(node, "lineno", None) not in lines):
            continue
        found.extend(_mutate(node, where, text))
    for statement in ast.walk(tree):  # statements that carry their own mutations: calls made for effect, returns
        if not isinstance(statement, (ast.Expr, ast.Return)) or id(statement) in arid:
            continue
        if lines is not None and statement.lineno not in lines:
            continue
        found.extend(_mutate_statement(statement, tree, text))
    found.extend(_conditions(tree, text, arid, lines))
    return sorted(found, key=lambda m: (m.start, OPERATORS.index(m.operator)))


def _mutation(
    operator: str, node: ast.AST, where: _Where, text: _Source, new: str, before: str, after: str
) -> Mutation | None:
    span = text.span(node)
    if span is None:
        return None
    original = text.text(*span)
    return Mutation(
        operator=operator,
        line=span[0][0],
        statement_line=where.statement_line,
        start=span[0],
        end=span[1],
        replacement=_same_lines(new, original),
        before=shorten(before),
        after=shorten(after),
        function=where.function,
    )


def _mutate(node: ast.AST, where: _Where, text: _Source) -> Iterator[Mutation]:
    made: list[Mutation | None] = []
    if isinstance(node, ast.Compare):
        for index, op in enumerate(node.ops):
            swapped = COMPARISON_SWAPS.get(type(op))
            if swapped is None:
                continue
            ops = list(node.ops)
            ops[index] = swapped()
            new = ast.unparse(ast.Compare(left=node.left, ops=ops, comparators=node.comparators))
            made.append(
                _mutation("comparison", node, where, text, new, COMPARISON_TEXT[type(op)], COMPARISON_TEXT[swapped])
            )
            break  # one per comparison: the first operator
    elif isinstance(node, ast.BoolOp):
        other: ast.boolop = ast.Or() if isinstance(node.op, ast.And) else ast.And()
        new = ast.unparse(ast.BoolOp(op=other, values=node.values))
        names = ("and", "or") if isinstance(node.op, ast.And) else ("or", "and")
        made.append(_mutation("boolean", node, where, text, new, *names))
    if isinstance(node, ast.Constant) and not isinstance(node.value, str | bytes) and node.value is not None:
        value = node.value
        if isinstance(value, bool):
            made.append(_mutation("constant", node, where, text, repr(not value), repr(value), repr(not value)))
        elif isinstance(value, int | float) and value is not Ellipsis:
            bumped = value + 1
            made.append(_mutation("constant", node, where, text, repr(bumped), repr(value), repr(bumped)))
    if isinstance(node, ast.IfExp):
        made.append(_negated(node.test, where, text))
    yield from (m for m in made if m is not None)


def _negated(test: ast.expr, where: _Where, text: _Source) -> Mutation | None:
    shown = ast.unparse(test)
    if isinstance(test, ast.UnaryOp) and isinstance(test.op, ast.Not):
        return _mutation("condition", test, where, text, ast.unparse(test.operand), shown, ast.unparse(test.operand))
    return _mutation("condition", test, where, text, f"not ({shown})", shown, f"not ({shown})")


def _mutate_statement(statement: ast.Expr | ast.Return, tree: ast.Module, text: _Source) -> Iterator[Mutation]:
    where = _Where(statement.lineno, _function_around(tree, statement))
    if isinstance(statement, ast.Return):
        value = statement.value
        if value is None or (isinstance(value, ast.Constant) and value.value is None):
            return
        mutation = _mutation("return", value, where, text, "None", f"return {ast.unparse(value)}", "return None")
    else:
        call = statement.value.value if isinstance(statement.value, ast.Await) else statement.value
        if not isinstance(call, ast.Call):
            return
        mutation = _mutation("call", statement.value, where, text, "None", ast.unparse(statement.value), "(removed)")
    if mutation is not None:
        yield mutation


def _conditions(tree: ast.Module, text: _Source, arid: set[int], lines: set[int] | None) -> Iterator[Mutation]:
    """Negated conditions of `if` and `while` statements starting on `lines` (outside arid code)."""
    for node in ast.walk(tree):
        if not isinstance(node, (ast.If, ast.While)) or id(node) in arid or id(node.test) in arid:
            continue
        if lines is not None and node.lineno not in lines:
            continue
        mutation = _negated(node.test, _Where(node.lineno, _function_around(tree, node)), text)
        if mutation is not None:
            yield mutation


def _function_around(tree: ast.Module, target: ast.AST) -> tuple[str, int] | None:
    """The outermost function containing `target` (by position), as (name, first line with decorators)."""
    line = getattr(target, "lineno", 0)

    def search(body: list[ast.stmt]) -> tuple[str, int] | None:
        for node in body:
            end = getattr(node, "end_lineno", None) or node.lineno
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.lineno <= line <= end:
                return node.name, _first_line(node)
            if isinstance(node, ast.ClassDef) and node.lineno <= line <= end:
                return search(node.body)
            if isinstance(node, (ast.If, ast.Try, ast.With, ast.For, ast.While)) and node.lineno <= line <= end:
                inner = [*getattr(node, "body", []), *getattr(node, "orelse", []), *getattr(node, "finalbody", [])]
                for handler in getattr(node, "handlers", []):
                    inner.extend(handler.body)
                return search(inner)
        return None

    return search(tree.body)
