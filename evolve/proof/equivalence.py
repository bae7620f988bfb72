"""Proof that a codemod's edit does not change behaviour: equal ASTs once the transformation's neutral
differences are normalised away on both sides. Pure.

Each normaliser removes exactly what its codemod is known to change without changing behaviour (the
re-indentation of a flattened `else`, a `-> None` annotation, …). A codemod class may also provide its own
`equivalent(before: ast.Module, after: ast.Module) -> bool`. Codemods whose edits change behaviour by design
(removing an import runs one module fewer; a timeout or a safe loader changes what a call does) have no
normaliser: their edits are proven only by tests that execute them.
"""

from __future__ import annotations

import ast
import copy
import functools
from collections.abc import Callable, Iterable

Normaliser = Callable[[ast.Module], ast.Module]
_EXITS = (ast.Return, ast.Raise, ast.Continue, ast.Break)
# Typing aliases the annotation codemods replace; their imports become unused and are removed with them.
_TYPING_ALIASES = frozenset(
    {"List", "Dict", "Set", "FrozenSet", "Tuple", "Type", "Deque", "DefaultDict", "Optional", "Union"}
)


def _flatten_block(statements: list[ast.stmt]) -> list[ast.stmt]:
    flat: list[ast.stmt] = []
    for statement in statements:
        if isinstance(statement, ast.If) and statement.orelse and isinstance(statement.body[-1], _EXITS):
            rest = statement.orelse
            statement.orelse = []
            flat.append(statement)
            flat.extend(_flatten_block(rest))
        else:
            flat.append(statement)
    return flat


class _ElseFlattener(ast.NodeTransformer):
    """`if c: <exit> else: rest` → `if c: <exit>` followed by `rest`, in every block."""

    def generic_visit(self, node: ast.AST) -> ast.AST:
        super().generic_visit(node)
        for name in ("body", "orelse", "finalbody"):
            block = getattr(node, name, None)
            if isinstance(block, list) and block and isinstance(block[0], ast.stmt):
                setattr(node, name, _flatten_block(block))
        return node


def flatten_redundant_else(tree: ast.Module) -> ast.Module:
    """Normalise away redundant `else`/`elif` after an exiting branch."""
    result = _ElseFlattener().visit(tree)
    assert isinstance(result, ast.Module)
    return result


class _NoneReturnStripper(ast.NodeTransformer):
    def visit_FunctionDef(self, node: ast.FunctionDef) -> ast.AST:
        self.generic_visit(node)
        if isinstance(node.returns, ast.Constant) and node.returns.value is None:
            node.returns = None
        return node

    visit_AsyncFunctionDef = visit_FunctionDef  # type: ignore[assignment]


def strip_none_returns(tree: ast.Module) -> ast.Module:
    """Normalise away `-> None` return annotations."""
    result = _NoneReturnStripper().visit(tree)
    assert isinstance(result, ast.Module)
    return result


class _AnnotationStripper(ast.NodeTransformer):
    def visit_FunctionDef(self, node: ast.FunctionDef) -> ast.AST:
        self.generic_visit(node)
        node.returns = None
        return node

    visit_AsyncFunctionDef = visit_FunctionDef  # type: ignore[assignment]

    def visit_arg(self, node: ast.arg) -> ast.AST:
        node.annotation = None
        return node

    def visit_AnnAssign(self, node: ast.AnnAssign) -> ast.AST:
        self.generic_visit(node)
        node.annotation = ast.Constant(value=None)
        return node

    def visit_Call(self, node: ast.Call) -> ast.AST:
        # `cast(T, x)` is `x`: its type is an annotation that runs (the codemod writes builtin generics there only
        # where every supported Python has them).
        self.generic_visit(node)
        func = node.func
        name = func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else None
        if name == "cast" and node.args and not isinstance(node.args[0], ast.Starred):
            node.args[0] = ast.Constant(value=None)
        return node

    def visit_ImportFrom(self, node: ast.ImportFrom) -> ast.AST | None:
        if node.module == "typing":
            node.names = [alias for alias in node.names if alias.name not in _TYPING_ALIASES]
            return node if node.names else None
        return node


def strip_annotations(tree: ast.Module) -> ast.Module:
    """Normalise away annotations and the typing-alias imports they used.

    Sound for modern-annotations only because that codemod rewrites annotations solely where the supported
    Pythons (or `from __future__ import annotations`) accept the new forms.
    """
    result = _AnnotationStripper().visit(tree)
    assert isinstance(result, ast.Module)
    return _without_unused_typing_module(result)


def _without_unused_typing_module(tree: ast.Module) -> ast.Module:
    """`import typing` (or `as t`) that nothing reads once annotations are gone: importing the standard library's
    typing has no effect a program can see, so a rewrite that made it unused and removed it does the same."""
    read = {node.id for node in ast.walk(tree) if isinstance(node, ast.Name)}
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        if not isinstance(body, list):
            continue
        kept: list[ast.stmt] = []
        for statement in body:
            if isinstance(statement, ast.Import):
                statement.names = [
                    alias for alias in statement.names if alias.name != "typing" or (alias.asname or "typing") in read
                ]
                if not statement.names:
                    continue
            kept.append(statement)
        node.body = kept or [ast.Pass()]  # type: ignore[attr-defined]
    return tree


class _NotInRewriter(ast.NodeTransformer):
    def visit_UnaryOp(self, node: ast.UnaryOp) -> ast.AST:
        self.generic_visit(node)
        operand = node.operand
        if isinstance(node.op, ast.Not) and isinstance(operand, ast.Compare) and len(operand.ops) == 1:
            swapped = {ast.In: ast.NotIn, ast.Is: ast.IsNot}.get(type(operand.ops[0]))
            if swapped is not None:
                return ast.Compare(left=operand.left, ops=[swapped()], comparators=operand.comparators)
        return node


def rewrite_negated_membership(tree: ast.Module) -> ast.Module:
    """Normalise `not x in y` to `x not in y` (and `not x is y` to `x is not y`): the same operation."""
    result = _NotInRewriter().visit(tree)
    assert isinstance(result, ast.Module)
    return result


class _ObjectBaseStripper(ast.NodeTransformer):
    def visit_ClassDef(self, node: ast.ClassDef) -> ast.AST:
        self.generic_visit(node)
        node.bases = [b for b in node.bases if not (isinstance(b, ast.Name) and b.id == "object")]
        return node


def strip_object_base(tree: ast.Module) -> ast.Module:
    """Normalise away an explicit `object` base (every Python 3 class has it)."""
    result = _ObjectBaseStripper().visit(tree)
    assert isinstance(result, ast.Module)
    return result


NORMALISERS: dict[str, Normaliser] = {
    "redundant-else": flatten_redundant_else,
    "none-return": strip_none_returns,
    "modern-annotations": strip_annotations,
    "not-in": rewrite_negated_membership,
    "object-base": strip_object_base,
}


@functools.cache
def _codemod_proof(codemod_id: str) -> Callable[[ast.Module, ast.Module], bool] | None:
    from evolve.codemods.registry import available_codemods

    codemod = available_codemods().get(codemod_id)
    proof = getattr(codemod, "equivalent", None) if codemod is not None else None
    return proof if callable(proof) else None


def proven_equivalent(before: str, after: str, codemod_ids: Iterable[str]) -> bool:
    """Whether `after` does what `before` does, modulo the named codemods' neutral differences.

    False when either side does not parse or a codemod has neither a normaliser nor its own proof.
    """
    try:
        before_tree, after_tree = ast.parse(before), ast.parse(after)
    except (SyntaxError, ValueError):
        return False
    if ast.dump(before_tree) == ast.dump(after_tree):
        return True  # only formatting or comments changed
    ids = sorted(set(codemod_ids))
    for codemod_id in ids:
        proof = _codemod_proof(codemod_id)
        if proof is not None and len(ids) == 1:
            return bool(proof(copy.deepcopy(before_tree), copy.deepcopy(after_tree)))
        normalise = NORMALISERS.get(codemod_id)
        if normalise is None:
            return False
        before_tree, after_tree = normalise(before_tree), normalise(after_tree)
    return bool(ids) and ast.dump(before_tree) == ast.dump(after_tree)
