"""Whether an edit changes any statement the tests could execute differently, or only docstrings, comments,
formatting and annotations. Pure.

When no edit changes executable code, head runs exactly the statements base runs, so its line coverage is
base's and measuring it again would only cost a slower test run: head's suite still runs (docstrings can be
doctests, annotations are evaluated), without the coverage tracer.
"""

from __future__ import annotations

import ast
import functools
from collections.abc import Iterable

_DOCUMENTED = (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)


class _Neutraliser(ast.NodeTransformer):
    """Drops docstrings and annotations (function signatures and annotated assignments keep their statements)."""

    def generic_visit(self, node: ast.AST) -> ast.AST:
        if isinstance(node, _DOCUMENTED) and node.body:
            first = node.body[0]
            if (
                isinstance(first, ast.Expr)
                and isinstance(first.value, ast.Constant)
                and isinstance(first.value.value, str)
            ):
                node.body = node.body[1:]
        super().generic_visit(node)
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            node.returns = None
        elif isinstance(node, ast.arg):
            node.annotation = None
        elif isinstance(node, ast.AnnAssign):
            node.annotation = ast.Constant(value=None)
        return node


@functools.lru_cache(maxsize=64)
def neutral_shape(source: str) -> str | None:
    """The module's AST without docstrings and annotations, as text; None when it does not parse (remembered for
    the last few sources: the proof and the attempt ask about the same files)."""
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError):
        return None
    return ast.dump(_Neutraliser().visit(tree), include_attributes=False)


def changes_executable_code(path: str, before: str | None, after: str | None) -> bool:
    """True unless both sides are Python that differs only in docstrings, comments, layout and annotations."""
    if not path.endswith((".py", ".pyw")) or before is None or after is None:
        return True
    shape = neutral_shape(before)
    return shape is None or shape != neutral_shape(after)


def any_executable_change(edits: Iterable[tuple[str, str | None, str | None]]) -> bool:
    """Whether any (path, before, after) edit changes executable code."""
    return any(changes_executable_code(path, before, after) for path, before, after in edits)
