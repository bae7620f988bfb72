"""`dict()` -> `{}`, `list()` -> `[]`, `tuple()` -> `()` when the builtin is certainly meant."""

from __future__ import annotations

import ast

import libcst as cst

from evolve.codemods.ast_scan import bound_names, walk_with_symbol
from evolve.codemods.base import Change, Codemod, CodemodContext, CodemodMetadata, Example, Occurrence
from evolve.codemods.cst_edits import RecordingTransformer, has_comment, module_bound_names, run_transformer

ID = "empty-literals"
BUILTINS = ("dict", "list", "tuple")


class EmptyLiterals(Codemod):
    """Write empty containers as literals: shorter, and no global name lookup and call."""

    metadata = CodemodMetadata(
        id=ID,
        title="Use literals for empty containers",
        theme="modernize",
        rationale="`{}`/`[]`/`()` are the idiomatic empty containers and skip a builtin lookup and call.",
        risk="low",
        benefit="cosmetic",
        min_target_python=(2, 7),
        review_guidance="Only calls without arguments, and only when the module never rebinds the builtin's name.",
        references=(
            "https://docs.astral.sh/ruff/rules/unnecessary-collection-call/",
            "https://docs.python.org/3/library/stdtypes.html#dict",
        ),
        lint_codes=("C408", "pylint:use-dict-literal", "pylint:R1735", "pylint:use-list-literal", "pylint:R1734"),
    )
    examples = (
        Example("x = dict()\ny = list()\nz = tuple()\n", "x = {}\ny = []\nz = ()\n"),
        Example(
            "def f(a=None):\n    a = a or dict( )\n    return a\n", "def f(a=None):\n    a = a or {}\n    return a\n"
        ),
        Example("cache = (list())\n", "cache = ([])\n"),
        Example("x = dict()  # empty\nlist = [1]\n", "x = {}  # empty\nlist = [1]\n"),  # only `list` is rebound
        Example("f(tuple(), key=dict())\n", "f((), key={})\n"),
    )
    valid = (
        "x = dict()  # noqa: C408\n",
        "x = dict(a=1)\ny = list(range(3))\nz = tuple(items)\n",
        "def list():\n    return 1\nx = list()\n",
        "from mylib import *\nx = dict()\n",  # a star import may rebind the name
        "import builtins\nx = builtins.dict()\n",
        "class A:\n    def dict(self):\n        return dict()\n",  # `dict` is rebound in the class scope
        "x = dict(  # comment\n)\n",
    )

    def detect(self, tree: ast.Module, source: str, context: CodemodContext) -> list[Occurrence]:
        """Find argument-less calls to un-shadowed `dict`, `list`, `tuple`."""
        if not any(f"{name}(" in source for name in BUILTINS):
            return []
        bound, star = bound_names(tree)
        if star:
            return []
        lines = source.splitlines()
        found = []
        for node, symbol in walk_with_symbol(tree):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Name)
                and node.func.id in BUILTINS
                and node.func.id not in bound
                and not node.args
                and not node.keywords
                and (
                    node.end_lineno == node.lineno
                    or not any("#" in line for line in lines[node.lineno - 1 : node.end_lineno])
                )
            ):
                found.append(
                    Occurrence(node.lineno, node.end_lineno or node.lineno, symbol, f"`{node.func.id}()` call")
                )
        return found

    def transform(self, module: cst.Module, context: CodemodContext) -> tuple[cst.Module, list[Change]]:
        """Replace the calls with literals."""
        bound, star = module_bound_names(module)
        if star:
            return module, []
        return run_transformer(module, _Transformer(ID, context, frozenset(bound)))


class _Transformer(RecordingTransformer):
    def __init__(self, codemod_id: str, context: CodemodContext, bound: frozenset[str]) -> None:
        super().__init__(codemod_id, context)
        self.bound = bound

    def leave_Call(self, original_node: cst.Call, updated_node: cst.Call) -> cst.BaseExpression:
        func = updated_node.func
        if not isinstance(func, cst.Name) or func.value not in BUILTINS or func.value in self.bound:
            return updated_node
        if updated_node.args or has_comment(updated_node):
            return updated_node
        lpar, rpar = updated_node.lpar, updated_node.rpar
        if func.value == "dict":
            literal: cst.BaseExpression = cst.Dict([], lpar=lpar, rpar=rpar)
        elif func.value == "list":
            literal = cst.List([], lpar=lpar, rpar=rpar)
        else:
            literal = cst.Tuple([], lpar=[cst.LeftParen(), *lpar], rpar=[*rpar, cst.RightParen()])
        self.record(original_node, f"`{func.value}()` written as a literal")
        return literal
