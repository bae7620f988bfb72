"""Arid code: nodes whose mutants say nothing about the tests (logging, docstrings, annotations, raises...). Pure.

Google's diff-based mutation testing suppresses mutants on such lines because developers found them useless: a
test that pins a log message or an exception text is rarely wanted, and an annotation or a docstring does not run.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator

LOG_METHODS = frozenset({"debug", "info", "warning", "warn", "error", "exception", "critical", "log", "fatal"})
LOGGER_NAMES = frozenset({"log", "logger", "logging", "_log", "_logger", "LOG", "LOGGER", "warnings", "logs"})
ARID_CALLS = frozenset({"print", "breakpoint"})
ARID_ASSIGNED = frozenset({"__all__", "__version__", "__slots__", "__author__", "__doc__", "__match_args__"})


def is_arid_call(node: ast.AST) -> bool:
    """A call to a logger, `warnings.warn`, `print` or `breakpoint`."""
    if not isinstance(node, ast.Call):
        return False
    func = node.func
    if isinstance(func, ast.Name):
        return func.id in ARID_CALLS
    if isinstance(func, ast.Attribute):
        owner = func.value
        name = owner.attr if isinstance(owner, ast.Attribute) else owner.id if isinstance(owner, ast.Name) else ""
        return func.attr in LOG_METHODS and (name in LOGGER_NAMES or name.lower().endswith("logger"))
    return False


def _is_type_checking(test: ast.expr) -> bool:
    name = test.attr if isinstance(test, ast.Attribute) else test.id if isinstance(test, ast.Name) else ""
    return name == "TYPE_CHECKING"


def _is_main_guard(test: ast.expr) -> bool:
    return (
        isinstance(test, ast.Compare)
        and isinstance(test.left, ast.Name)
        and test.left.id == "__name__"
        and any(isinstance(c, ast.Constant) and c.value == "__main__" for c in test.comparators)
    )


def _docstring(node: ast.AST) -> ast.AST | None:
    body = getattr(node, "body", None)
    if isinstance(body, list) and body and isinstance(body[0], ast.Expr):
        value = body[0].value
        if isinstance(value, ast.Constant) and isinstance(value.value, str):
            return body[0]
    return None


def arid_nodes(tree: ast.Module) -> set[int]:
    """The ids of every node in an arid subtree of `tree`: no mutant is made inside them."""
    roots: list[ast.AST] = []
    for node in ast.walk(tree):
        doc = (
            _docstring(node)
            if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef))
            else None
        )
        if doc is not None:
            roots.append(doc)
        roots.extend(_arid_parts(node))
    arid: set[int] = set()
    for root in roots:
        arid.update(id(child) for child in ast.walk(root))
    return arid


def _arid_parts(node: ast.AST) -> Iterator[ast.AST]:
    """The arid subtrees directly owned by `node`."""
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
        if node.returns is not None:
            yield node.returns
    elif isinstance(node, (ast.arg, ast.AnnAssign)) and node.annotation is not None:
        yield node.annotation
    elif isinstance(node, (ast.Raise, ast.Assert, ast.Import, ast.ImportFrom, ast.Delete, ast.Global, ast.Nonlocal)):
        yield node  # exception texts, debugging checks, imports: their mutants are noise
    elif (
        # a condition that only guards logging or printing decides nothing a test should pin
        (
            isinstance(node, ast.If)
            and (_is_type_checking(node.test) or _is_main_guard(node.test) or _only_arid(node.body + node.orelse))
        )
        or (isinstance(node, ast.Expr) and is_arid_call(node.value))
        or (
            isinstance(node, ast.Assign)
            and any(isinstance(t, ast.Name) and t.id in ARID_ASSIGNED for t in node.targets)
        )
        or (isinstance(node, ast.ExceptHandler) and _only_reraises(node))
    ):
        yield node
    elif isinstance(node, ast.JoinedStr):
        yield node  # f-string pieces: text, and positions inside them differ between Pythons


def _only_arid(statements: list[ast.stmt]) -> bool:
    """Every statement is a logging or printing call or a pass (or an `if` of only such statements). A raise is
    not: the condition that raises is validation, which tests should pin."""
    return all(
        (isinstance(statement, ast.Expr) and is_arid_call(statement.value))
        or isinstance(statement, ast.Pass)
        or (isinstance(statement, ast.If) and _only_arid(statement.body + statement.orelse))
        for statement in statements
    )


def _only_reraises(handler: ast.ExceptHandler) -> bool:
    """`except ...: raise` (or a raise from the caught error) and nothing else."""
    return all(isinstance(statement, (ast.Raise, ast.Pass)) for statement in handler.body)
