"""Cheap `ast` scans shared by the codemods' `detect` methods: qualified names, bindings, imports."""

from __future__ import annotations

import ast
import functools
from collections.abc import Callable, Iterator
from typing import TypeVar

_SCOPES = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)
T = TypeVar("T")


def per_tree(function: Callable[[ast.AST], T]) -> Callable[[ast.AST], T]:
    """Remember the result for the last tree seen: every codemod's detect runs over the same parsed tree."""
    last: list = [None, None]

    @functools.wraps(function)
    def cached(tree: ast.AST) -> T:
        if last[0] is not tree:
            last[:] = [tree, function(tree)]
        return last[1]

    return cached


def walk_with_symbol(tree: ast.AST) -> list[tuple[ast.AST, str | None]]:
    """Every node with the qualified name of its enclosing function or class (None at module level)."""
    return _walk_with_symbol(tree)


@per_tree
def _walk_with_symbol(tree: ast.AST) -> list[tuple[ast.AST, str | None]]:
    return list(_iter_with_symbol(tree))


def _iter_with_symbol(tree: ast.AST) -> Iterator[tuple[ast.AST, str | None]]:
    stack: list[tuple[ast.AST, str | None]] = [(tree, None)]
    while stack:
        node, symbol = stack.pop()
        yield node, symbol
        inner = symbol
        if isinstance(node, _SCOPES):
            inner = f"{symbol}.{node.name}" if symbol else node.name
        # Reverse so that nodes come out roughly in source order.
        if inner is symbol:
            stack.extend((child, symbol) for child in reversed(list(ast.iter_child_nodes(node))))
            continue
        outer = {id(part) for part in _outer_parts(node)}
        # Decorators and base classes belong to the enclosing scope.
        stack.extend(
            (child, symbol if id(child) in outer else inner) for child in reversed(list(ast.iter_child_nodes(node)))
        )


def _outer_parts(node: ast.AST) -> list[ast.AST]:
    """Children of a def/class evaluated in the enclosing scope."""
    parts: list[ast.AST] = list(getattr(node, "decorator_list", []))
    if isinstance(node, ast.ClassDef):
        parts.extend(node.bases)
        parts.extend(node.keywords)
    return parts


def _bindings(tree: ast.AST, with_imports: bool) -> tuple[set[str], bool]:
    """Names bound anywhere in the module (imports included or not), and whether a star import exists."""
    names: set[str] = set()
    star = False
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and not isinstance(node.ctx, ast.Load):
            names.add(node.id)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, ast.arg):
            names.add(node.arg)
        elif isinstance(node, ast.alias):
            if node.name == "*":
                star = True
            elif with_imports:
                names.add(node.asname or node.name.split(".")[0])
        elif isinstance(node, ast.ExceptHandler) and node.name:
            names.add(node.name)
        elif isinstance(node, (ast.Global, ast.Nonlocal)):
            names.update(node.names)
        elif isinstance(node, (ast.MatchAs, ast.MatchStar)) and node.name:
            names.add(node.name)
        elif isinstance(node, ast.MatchMapping) and node.rest:
            names.add(node.rest)
    return names, star


@per_tree
def bound_names(tree: ast.AST) -> tuple[set[str], bool]:
    """Every name bound anywhere in the module, and whether it has a star import (which may bind anything)."""
    return _bindings(tree, with_imports=True)


def module_aliases(tree: ast.Module, module: str) -> set[str]:
    """Names bound to `module` itself by `import module` / `import module as x` anywhere in the tree."""
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name == module:
                    found.add(alias.asname or alias.name)
    return found


def imported_from(tree: ast.Module, module: str) -> dict[str, str]:
    """Local name -> original name for `from module import original as local` anywhere in the tree."""
    found: dict[str, str] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module == module and node.level == 0:
            for alias in node.names:
                if alias.name != "*":
                    found[alias.asname or alias.name] = alias.name
    return found


def has_future_annotations(tree: ast.Module) -> bool:
    """Whether the module starts with `from __future__ import annotations`."""
    for node in tree.body:
        if isinstance(node, ast.ImportFrom) and node.module == "__future__":
            if any(alias.name == "annotations" for alias in node.names):
                return True
        elif not (isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant)):
            break
    return False


def spans_comment(lines: list[str], node: ast.expr | ast.stmt) -> bool:
    """Whether a multi-line node may contain a comment (a `#` on one of its inner lines; strings may cause false alarms)."""
    end = node.end_lineno or node.lineno
    if end == node.lineno:
        return False
    return any("#" in line for line in lines[node.lineno - 1 : end - 1])


def binds_only_module(tree: ast.Module, name: str) -> bool:
    """Whether `name` is bound in the module, and only by `import name` (or `import name.sub`)."""
    imported = False
    for node in ast.walk(tree):
        if isinstance(node, ast.alias):
            if node.name == "*":
                return False
            local = node.asname or node.name.split(".")[0]
            if local == name:
                if node.name != name and (node.asname is not None or node.name.split(".")[0] != name):
                    return False
                imported = True
    bound, _ = bound_names(tree)
    if name not in bound or not imported:
        return False
    # Any other kind of binding (assignment, def, parameter...) makes the name uncertain.
    others = _non_import_bindings(tree)
    return name not in others


def _non_import_bindings(tree: ast.Module) -> set[str]:
    return _bindings(tree, with_imports=False)[0]
