"""`def f(x=[])` -> `def f(x=None)` + `if x is None: x = []` (flake8-bugbear B006), where the default is mutated.

A default is evaluated once, when `def` runs: every call that relies on it shares one list. That is only
a defect when the function changes the object (`x.append(...)`, `x[k] = v`, `x += ...`) or lets it escape
(`return x`, `self.items = x`); a default that is only read is left alone (rewriting it is churn). Also left
alone: names that announce a shared cache (`_cache`, `memo`, `seen`, a leading underscore), parameters
the body already compares with None (None means something there), annotated parameters unless the
annotation can say `| None` (Python >= 3.10 or `from __future__ import annotations`), lambdas.
"""

from __future__ import annotations

import ast
import re

import libcst as cst

from evolve.codemods.ast_scan import has_future_annotations, walk_with_symbol
from evolve.codemods.base import Change, Codemod, CodemodContext, CodemodMetadata, Example, Occurrence
from evolve.codemods.cst_edits import RecordingTransformer, iter_nodes, node_lines, run_transformer

ID = "mutable-default-args"
_MUTATORS = frozenset(
    {
        "append",
        "extend",
        "insert",
        "pop",
        "remove",
        "clear",
        "update",
        "setdefault",
        "add",
        "discard",
        "popitem",
        "sort",
        "reverse",
        "__setitem__",
        "__delitem__",
        "difference_update",
        "intersection_update",
        "symmetric_difference_update",
    }
)
_EMPTY_CALLS = frozenset({"list", "dict", "set"})
_SHARED_ON_PURPOSE = re.compile(r"^_|cache|memo|seen|registry|_store$", re.IGNORECASE)


def _is_mutable_default(node: ast.expr | None) -> bool:
    """`[]`, `{}`, `{1, 2}`, `[1, 'a']` (literal elements only), `list()`, `dict()`, `set()`."""
    if isinstance(node, (ast.List, ast.Set)):
        return all(isinstance(e, ast.Constant) for e in node.elts)
    if isinstance(node, ast.Dict):
        return all(isinstance(k, ast.Constant) and isinstance(v, ast.Constant) for k, v in zip(node.keys, node.values))
    return (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Name)
        and node.func.id in _EMPTY_CALLS
        and not node.args
        and not node.keywords
    )


def _names(node: ast.AST, name: str) -> bool:
    return isinstance(node, ast.Name) and node.id == name


def _mutated_or_escapes(function: ast.FunctionDef | ast.AsyncFunctionDef, name: str) -> bool:
    """Whether the body changes the object bound to `name` or hands it out."""
    for node in ast.walk(function):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and _names(node.func.value, name):
            if node.func.attr in _MUTATORS:
                return True
        elif (
            (
                isinstance(node, (ast.Subscript,))
                and _names(node.value, name)
                and isinstance(node.ctx, (ast.Store, ast.Del))
            )
            or (isinstance(node, ast.AugAssign) and _names(node.target, name))
            or (isinstance(node, (ast.Return, ast.Yield)) and node.value is not None and _names(node.value, name))
        ) or (
            isinstance(node, ast.Assign)
            and _names(node.value, name)
            and any(isinstance(t, (ast.Attribute, ast.Subscript)) for t in node.targets)
        ):
            return True
    return False


def _compared_with_none(function: ast.FunctionDef | ast.AsyncFunctionDef, name: str) -> bool:
    for node in ast.walk(function):
        if not isinstance(node, ast.Compare):
            continue
        sides = (node.left, *node.comparators)
        if any(_names(side, name) for side in sides) and any(
            isinstance(side, ast.Constant) and side.value is None for side in sides
        ):
            return True
    return False


def _rebinds(function: ast.FunctionDef | ast.AsyncFunctionDef, name: str) -> bool:
    """A `global`/`nonlocal` or nested scope reusing the name makes the analysis unreliable."""
    return any(isinstance(node, (ast.Global, ast.Nonlocal)) and name in node.names for node in ast.walk(function))


def candidates(
    function: ast.FunctionDef | ast.AsyncFunctionDef, annotations_ok: bool
) -> list[tuple[ast.arg, ast.expr]]:
    """The (parameter, default) pairs of `function` this codemod rewrites."""
    args = function.args
    positional = [*args.posonlyargs, *args.args]
    pairs = list(zip(positional[len(positional) - len(args.defaults) :], args.defaults))
    pairs += [(arg, default) for arg, default in zip(args.kwonlyargs, args.kw_defaults) if default is not None]
    chosen = []
    for arg, default in pairs:
        name = arg.arg
        if not _is_mutable_default(default) or _SHARED_ON_PURPOSE.search(name):
            continue
        if arg.annotation is not None and not annotations_ok:
            continue
        if _compared_with_none(function, name) or _rebinds(function, name) or not _mutated_or_escapes(function, name):
            continue
        chosen.append((arg, default))
    return chosen


def _annotations_ok(tree: ast.Module, context: CodemodContext) -> bool:
    return context.min_python >= (3, 10) or has_future_annotations(tree)


class MutableDefaultArgs(Codemod):
    """Give each call its own fresh list/dict/set instead of one shared default that the function mutates."""

    metadata = CodemodMetadata(
        id=ID,
        title="Stop sharing mutable default arguments between calls",
        theme="correctness",
        rationale="A mutable default is created once: when the function mutates it or returns it, state leaks "
        "from one call into the next. `None` as the default and a fresh object per call fixes that.",
        risk="medium",
        lint_codes=("B006",),
        benefit="defect",
        min_target_python=(2, 7),
        review_guidance="Only defaults the function mutates or hands out change, so behaviour differs exactly "
        "where one call leaked state into the next. Callers passing `None` explicitly now get a fresh empty "
        "object (parameters the body already compares with None are left alone). Names that announce a shared "
        "cache (`_cache`, `memo`, `seen`, leading underscore) are left alone.",
        references=(
            "https://docs.astral.sh/ruff/rules/mutable-argument-default/",
            "https://docs.python.org/3/reference/compound_stmts.html#function-definitions",
        ),
    )
    examples = (
        Example(
            "def add(item, bucket=[]):\n    bucket.append(item)\n    return bucket\n",
            "def add(item, bucket=None):\n    if bucket is None:\n        bucket = []\n    bucket.append(item)\n    return bucket\n",
        ),
        Example(
            'def collect(key, *, into={}):\n    """Collect."""\n    into[key] = 1\n    return len(into)\n',
            'def collect(key, *, into=None):\n    """Collect."""\n    if into is None:\n        into = {}\n    into[key] = 1\n'
            "    return len(into)\n",
        ),
        Example(
            "class A:\n    def __init__(self, tags: list[str] = []):\n        self.tags = tags\n",
            "class A:\n    def __init__(self, tags: list[str] | None = None):\n        if tags is None:\n            tags = []\n"
            "        self.tags = tags\n",
            context=(("min_python", (3, 10)),),
        ),
        Example(
            "def f(a, b=set()): b.add(a); return b\n",
            "def f(a, b=None):\n    if b is None:\n        b = set()\n    b.add(a); return b\n",
        ),
    )
    valid = (
        "def f(x=[]):\n    return len(x)\n",  # only read: not a defect
        "def fib(n, _cache={}):\n    _cache[n] = n\n    return _cache[n]\n",  # a shared cache on purpose
        "def f(x=[]):\n    if x is None:\n        return 0\n    x.append(1)\n",  # None means something here
        "def f(x: list = []):\n    x.append(1)\n",  # annotated, and `| None` is not available before 3.10
        "def f(x=[]):  # noqa: B006\n    x.append(1)\n",
        "f = lambda x=[]: x.append(1)\n",
        "def f(x=[1, y]):\n    x.append(1)\n",  # not a literal default
    )

    def detect(self, tree: ast.Module, source: str, context: CodemodContext) -> list[Occurrence]:
        """Find functions with a literal mutable default that the body mutates or hands out."""
        if "=" not in source:
            return []
        annotations_ok = _annotations_ok(tree, context)
        found = []
        for node, symbol in walk_with_symbol(tree):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                for arg, _ in candidates(node, annotations_ok):
                    found.append(
                        Occurrence(node.lineno, node.lineno, symbol, f"mutable default of `{arg.arg}` is shared")
                    )
        return found

    def transform(self, module: cst.Module, context: CodemodContext) -> tuple[cst.Module, list[Change]]:
        """Default to None and create the object at the top of the body (after the docstring)."""
        tree = ast.parse(module.code)
        annotations_ok = _annotations_ok(tree, context)
        wanted: dict[tuple[int, str], set[str]] = {}
        for node in ast.walk(tree):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                names = {arg.arg for arg, _ in candidates(node, annotations_ok)}
                if names:
                    wanted[(node.lineno, node.name)] = names
        if not wanted:
            return module, []
        return run_transformer(module, _Transformer(ID, context, wanted))


class _Transformer(RecordingTransformer):
    def __init__(self, codemod_id: str, context: CodemodContext, wanted: dict[tuple[int, str], set[str]]) -> None:
        super().__init__(codemod_id, context)
        self.wanted = wanted
        self.line_of: dict[int, int] = {}

    def visit_Module(self, node: cst.Module) -> None:
        self.line_of = node_lines(node, [n for n in iter_nodes(node) if isinstance(n, cst.FunctionDef)])

    def leave_FunctionDef(self, original_node: cst.FunctionDef, updated_node: cst.FunctionDef) -> cst.FunctionDef:
        names = self.wanted.get((self._def_line(original_node), original_node.name.value))
        if not names or not isinstance(updated_node.body, (cst.IndentedBlock, cst.SimpleStatementSuite)):
            return updated_node
        params = updated_node.params
        guards: list[cst.BaseStatement] = []

        def fix(param: cst.Param) -> cst.Param:
            if param.name.value not in names or param.default is None:
                return param
            annotation = param.annotation
            if annotation is not None:
                annotation = annotation.with_changes(
                    annotation=cst.BinaryOperation(annotation.annotation, cst.BitOr(), cst.Name("None"))
                )
            guards.append(
                cst.parse_statement(
                    f"if {param.name.value} is None:\n    {param.name.value} = {cst.Module([]).code_for_node(param.default)}\n"
                )
            )
            self.record(original_node, f"mutable default of `{param.name.value}` now created per call")
            return param.with_changes(default=cst.Name("None"), annotation=annotation)

        new_params = params.with_changes(
            posonly_params=[fix(p) for p in params.posonly_params],
            params=[fix(p) for p in params.params],
            kwonly_params=[fix(p) for p in params.kwonly_params],
        )
        body = updated_node.body
        if isinstance(body, cst.SimpleStatementSuite):
            statements: list[cst.BaseStatement] = [cst.SimpleStatementLine(body=list(body.body))]
            body = cst.IndentedBlock(body=statements)
        statements = list(body.body)
        at = 1 if statements and _is_docstring(statements[0]) else 0
        statements[at:at] = guards
        return updated_node.with_changes(params=new_params, body=body.with_changes(body=statements))

    def _def_line(self, node: cst.FunctionDef) -> int:
        """The `def` keyword's line (LibCST's syntactic start, after decorators), as `ast` reports it."""
        return self.line_of.get(id(node), 0)


def _is_docstring(statement: cst.BaseStatement) -> bool:
    return (
        isinstance(statement, cst.SimpleStatementLine)
        and len(statement.body) == 1
        and isinstance(statement.body[0], cst.Expr)
        and isinstance(statement.body[0].value, (cst.SimpleString, cst.ConcatenatedString))
    )
