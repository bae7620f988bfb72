"""Python 2 compatibility shims in a Python-3-only project -> the Python 3 code they run anyway.

Where the project no longer declares Python 2, this code only ever takes its Python 3 path:
At module level:
- `try: basestring` / `except NameError: basestring = str` (a `try` whose body only reads Python 2
  builtins and whose one handler catches NameError) becomes its handler's body; a handler that only aliases a builtin
  (`basestring = str`) goes too, and the module's reads of the alias use the Python 3 name, unless the module names
  it in `__all__` or is a compatibility module (`compat.py`, `_compat.py`, `py3k.py`: others import from it);
- `if PY2: ... else: ...`, `if sys.version_info[0] == 2:`, `if sys.version_info < (3,):`, `if six.PY3:`,
  `if not PY3:` (PY2/PY3 bound once from six or from such a comparison) become the branch Python 3 takes.
Cleanup: the code behaves as before on every Python the project declares.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import PurePosixPath

import libcst as cst

from evolve.codemods.ast_scan import bound_names
from evolve.codemods.base import Change, Codemod, CodemodContext, CodemodMetadata, Example, Occurrence
from evolve.codemods.cst_edits import run_transformer
from evolve.codemods.python2_scan import (
    BUILTINS,
    RespellingTransformer,
    char_columns,
    char_position,
    cst_nodes_at,
)

ID = "python2-shims"
_COMPAT_MODULES = frozenset({"compat", "_compat", "py3k", "_py3k", "compatibility", "py2", "py3", "six"})
_FLAGS = {"PY2": 2, "PY3": 3, "PY3K": 3, "IS_PY2": 2, "IS_PY3": 3, "PYTHON2": 2, "PYTHON3": 3}


@dataclass(frozen=True)
class Shim:
    """One statement to replace: a `try` shim (`alias`: the builtin it aliases, dropped), or an `if` on the
    Python version (`branch`: True keeps the body, False the `else`)."""

    node: ast.stmt
    kind: str  # "try" or "if"
    branch: bool = True
    alias: tuple[str, str] | None = None  # (python 2 name, python 3 name) the shim bound and that goes


class _Versions:
    """Evaluates conditions on the major Python version, as Python 3 answers them (None: not such a condition)."""

    def __init__(self, tree: ast.Module) -> None:
        self.six = any(
            isinstance(n, ast.Import) and any(a.name == "six" and a.asname is None for a in n.names) for n in tree.body
        )
        self.flags: dict[str, bool] = {}
        counts: dict[str, int] = {}
        for node in ast.walk(tree):
            for name in _bound_here(node):
                counts[name] = counts.get(name, 0) + 1
        self.sys = counts.get("sys") == 1 and any(
            isinstance(n, ast.Import) and any(a.name == "sys" and a.asname is None for a in n.names) for n in tree.body
        )
        for node in tree.body:
            if isinstance(node, ast.ImportFrom) and node.module == "six" and not node.level:
                for alias in node.names:
                    if alias.name in {"PY2", "PY3"} and counts.get(alias.asname or alias.name) == 1:
                        self.flags[alias.asname or alias.name] = alias.name == "PY3"
            elif (
                isinstance(node, ast.Assign)
                and len(node.targets) == 1
                and isinstance(node.targets[0], ast.Name)
                and counts.get(node.targets[0].id) == 1
            ):
                value = self.evaluate(node.value)
                if value is not None:
                    self.flags[node.targets[0].id] = value

    def evaluate(self, test: ast.expr) -> bool | None:
        if isinstance(test, ast.UnaryOp) and isinstance(test.op, ast.Not):
            inner = self.evaluate(test.operand)
            return None if inner is None else not inner
        if isinstance(test, ast.Name) and test.id in self.flags:
            return self.flags[test.id]
        if (
            isinstance(test, ast.Attribute)
            and self.six
            and isinstance(test.value, ast.Name)
            and test.value.id == "six"
            and test.attr in {"PY2", "PY3"}
        ):
            return test.attr == "PY3"
        if isinstance(test, ast.Compare) and len(test.ops) == 1:
            return _compare_major(test, self.sys)
        return None


def _bound_here(node: ast.AST) -> list[str]:
    if isinstance(node, ast.Name) and not isinstance(node.ctx, ast.Load):
        return [node.id]
    if isinstance(node, ast.alias):
        return [node.asname or node.name.split(".")[0]]
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        return [node.name]
    if isinstance(node, ast.arg):
        return [node.arg]
    return []


def _version_part(node: ast.expr) -> str | None:
    """`major` for `sys.version_info[0]` / `sys.version_info.major`, `tuple` for `sys.version_info`."""
    if isinstance(node, ast.Subscript) and ast.unparse(node.value) == "sys.version_info":
        index = node.slice
        if isinstance(index, ast.Constant) and index.value == 0:
            return "major"
        return None
    if isinstance(node, ast.Attribute) and ast.unparse(node) == "sys.version_info.major":
        return "major"
    if ast.unparse(node) == "sys.version_info":
        return "tuple"
    return None


def _compare_major(test: ast.Compare, sys_ok: bool) -> bool | None:
    """Python 3's answer to `sys.version_info[0] == 2`, `sys.version_info < (3,)`, `>= (3, 0)` and the like."""
    if not sys_ok:
        return None
    part, op, other = _version_part(test.left), test.ops[0], test.comparators[0]
    if part is None:
        return None
    if part == "major":
        if not (isinstance(other, ast.Constant) and isinstance(other.value, int) and other.value in (2, 3)):
            return None
        value: tuple[int, ...] = (other.value,)
        mine: tuple[int, ...] = (3,)
    else:
        if not (isinstance(other, ast.Tuple) and other.elts and all(isinstance(e, ast.Constant) for e in other.elts)):
            return None
        value = tuple(e.value for e in other.elts)  # type: ignore[attr-defined]
        if value not in {(3,), (3, 0), (2,), (2, 7), (3, 0, 0)}:
            return None  # a minor version: what UP036 and the declared minimum decide, not this codemod
        # every Python 3 compares against (3,) / (3, 0) as (3, 0, 0) would; against (2, ...) as greater
        mine = (3, 0, 0) if value[0] == 3 else (3,)
        if value[0] == 3 and isinstance(op, (ast.Gt, ast.LtE, ast.Eq, ast.NotEq)):
            return None  # 3.0.x vs 3.1: the answer depends on the minor version
    table = {
        ast.Eq: mine[:1] == value[:1] if part == "major" else None,
        ast.NotEq: mine[:1] != value[:1] if part == "major" else None,
        ast.Lt: mine < value,
        ast.LtE: mine <= value,
        ast.Gt: mine > value,
        ast.GtE: mine >= value,
    }
    return table.get(type(op))


def _reads_only_builtins(statement: ast.stmt) -> str | None:
    """The first Python 2 builtin a statement reads, when it reads one before anything else could happen."""
    if isinstance(statement, ast.Expr) and isinstance(statement.value, ast.Name):
        return statement.value.id if statement.value.id in BUILTINS else None
    if isinstance(statement, ast.Assign) and all(isinstance(t, ast.Name) for t in statement.targets):
        value = statement.value
        if isinstance(value, ast.Tuple):
            value = value.elts[0] if value.elts else value
        if isinstance(value, ast.Name) and value.id in BUILTINS:
            return value.id
    return None


def find_shims(tree: ast.Module, path: str) -> list[Shim]:
    """The module-level shims Python 3 never needs."""
    _, star = bound_names(tree)
    if star:
        return []
    counts: dict[str, int] = {}
    for node in ast.walk(tree):
        for name in _bound_here(node):
            counts[name] = counts.get(name, 0) + 1
    exported = _all_names(tree)
    compat = PurePosixPath(path).stem in _COMPAT_MODULES
    versions = _Versions(tree)
    seen: set[str] = set()
    found: list[Shim] = []
    for statement in tree.body:
        if isinstance(statement, ast.Try):
            shim = _try_shim(statement, seen, counts, exported, compat)
            if shim is not None:
                found.append(shim)
        elif isinstance(statement, ast.If):
            answer = versions.evaluate(statement.test)
            chained = bool(statement.orelse) and isinstance(statement.orelse[0], ast.If)  # elif: left alone
            if answer is not None and not chained and (answer or statement.orelse or len(tree.body) > 1):
                found.append(Shim(statement, "if", answer))
        for node in ast.walk(statement):
            seen.update(_bound_here(node))
    return found


def _all_names(tree: ast.Module) -> set[str]:
    names: set[str] = set()
    for node in tree.body:
        if isinstance(node, (ast.Assign, ast.AugAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            if any(isinstance(t, ast.Name) and t.id == "__all__" for t in targets):
                names |= {
                    e.value for e in ast.walk(node.value) if isinstance(e, ast.Constant) and isinstance(e.value, str)
                }
    return names


def _try_shim(
    statement: ast.Try, seen: set[str], counts: dict[str, int], exported: set[str], compat: bool
) -> Shim | None:
    if statement.orelse or statement.finalbody or len(statement.handlers) != 1:
        return None
    handler = statement.handlers[0]
    if not (isinstance(handler.type, ast.Name) and handler.type.id == "NameError") or handler.name:
        return None
    first = _reads_only_builtins(statement.body[0])
    if first is None or first in seen or not all(_reads_only_builtins(s) for s in statement.body):
        return None  # the first read must raise NameError on Python 3: the name is not bound before it
    if not all(isinstance(s, ast.Assign) and all(isinstance(t, ast.Name) for t in s.targets) for s in handler.body):
        return None
    alias = None
    if len(handler.body) == 1:
        only = handler.body[0]
        assert isinstance(only, ast.Assign)
        target = only.targets[0]
        assert isinstance(target, ast.Name)
        if (
            len(only.targets) == 1
            and target.id in BUILTINS
            and isinstance(only.value, ast.Name)
            and only.value.id == BUILTINS[target.id]
            and counts.get(target.id) == 1
            and target.id not in exported
            and not compat
        ):
            alias = (target.id, only.value.id)
    return Shim(statement, "try", alias=alias)


def _alias_reads(tree: ast.Module, name: str) -> list[ast.Name]:
    return [n for n in ast.walk(tree) if isinstance(n, ast.Name) and n.id == name and isinstance(n.ctx, ast.Load)]


class Python2Shims(Codemod):
    """Replace Python 2 compatibility shims with the Python 3 code they run."""

    metadata = CodemodMetadata(
        id=ID,
        title="Remove Python 2 compatibility shims",
        theme="cleanup",
        rationale="The project declares only Python 3: `try: basestring except NameError:` and `if PY2:` branches "
        "are dead code that readers still have to follow.",
        risk="low",
        benefit="cleanup",
        # ruff/pyupgrade's outdated-version-block covers the `sys.version_info` branches (a project that enforces it
        # has none left, and one that ignores it keeps them); the NameError shims have no rule of their own.
        lint_codes=("UP036",),
        min_target_python=(3, 0),
        review_guidance="What remains is exactly what Python 3 ran: the `except NameError` body or the Python 3 "
        "branch. A compatibility module's aliases (and names in `__all__`) stay, since other modules import them.",
        references=(
            "https://docs.python.org/3/howto/pyporting.html",
            "https://docs.astral.sh/ruff/rules/outdated-version-block/",
        ),
    )
    examples = (
        Example(
            "import os\n\ntry:\n    basestring\nexcept NameError:\n    basestring = str\n\n\n"
            "def is_text(x):\n    return isinstance(x, (str, basestring))\n",
            "import os\n\n\ndef is_text(x):\n    return isinstance(x, str)\n",
        ),
        Example(
            "import six\n\nif six.PY2:\n    string_types = basestring,\nelse:\n    string_types = str,\n",
            "import six\n\nstring_types = str,\n",
        ),
        Example(
            "import sys\n\nPY2 = sys.version_info[0] == 2\n\nif PY2:\n    text_type = unicode\n"
            "    from itertools import izip as zip\nelse:\n    text_type = str\n\nif not PY2:\n    binary = bytes\n",
            "import sys\n\nPY2 = sys.version_info[0] == 2\n\ntext_type = str\n\nbinary = bytes\n",
        ),
        Example(
            "try:\n    string_types = basestring\nexcept NameError:\n    string_types = str\n",
            "string_types = str\n",
        ),
        Example(
            "try:\n    basestring\nexcept NameError:\n    basestring = str\n__all__ = ['basestring']\n",
            "basestring = str\n__all__ = ['basestring']\n",  # exported: the alias stays
        ),
    )
    valid = (
        "try:\n    import cPickle as pickle\nexcept ImportError:\n    import pickle\n",
        "import sys\nif sys.version_info >= (3, 8):\n    from importlib import metadata\n",  # a minor version
        "def f():\n    try:\n        return unicode\n    except NameError:\n        return str\n",  # not module level
        "if PY2:\n    x = 1\n",  # PY2 is not known here
        "try:\n    unicode = unicode\nexcept (NameError, ImportError):\n    unicode = str\nx = 1\n",
    )

    def detect(self, tree: ast.Module, source: str, context: CodemodContext) -> list[Occurrence]:
        """Find the shims."""
        if "NameError" not in source and "PY" not in source and "version_info" not in source:
            return []
        return [
            Occurrence(
                shim.node.lineno,
                shim.node.end_lineno or shim.node.lineno,
                None,
                "Python 2 shim" if shim.kind == "try" else "Python 2 branch",
            )
            for shim in find_shims(tree, context.path)
        ]

    def transform(self, module: cst.Module, context: CodemodContext) -> tuple[cst.Module, list[Change]]:
        """Keep what Python 3 runs."""
        if "NameError" not in module.code and "PY" not in module.code and "version_info" not in module.code:
            return module, []
        tree = ast.parse(module.code)
        shims = find_shims(tree, context.path)
        if not shims:
            return module, []
        lines = char_columns(module.code)
        statements = cst_nodes_at(module, [char_position(lines, shim.node) for shim in shims], (cst.Try, cst.If))
        renames: dict[tuple[int, int], str] = {}
        for shim in shims:
            if shim.alias:
                inside = {id(n) for n in ast.walk(shim.node)}
                for read in _alias_reads(tree, shim.alias[0]):
                    if id(read) in inside:
                        continue
                    renames[char_position(lines, read)] = shim.alias[1]
        names = cst_nodes_at(module, list(renames), cst.Name)
        by_name = {node: list(renames.values())[index] for node, index in names.items()}
        return run_transformer(module, _Transformer(ID, context, shims, statements, by_name))


def _body(block: cst.BaseSuite) -> list[cst.BaseStatement]:
    if isinstance(block, cst.IndentedBlock):
        return list(block.body)
    assert isinstance(block, cst.SimpleStatementSuite)
    return [cst.SimpleStatementLine(body=list(block.body))]


class _Transformer(RespellingTransformer):
    def __init__(
        self,
        codemod_id: str,
        context: CodemodContext,
        shims: list[Shim],
        statements: dict[int, int],
        renames: dict[int, str],
    ) -> None:
        super().__init__(codemod_id, context)
        self.shims, self.statements, self.renames = shims, statements, renames

    def leave_Name(self, original_node: cst.Name, updated_node: cst.Name) -> cst.Name:
        new = self.renames.get(id(original_node))
        return updated_node if new is None else self.respell(original_node, updated_node, new)

    def _replace(
        self, original: cst.BaseStatement, keep: list[cst.BaseStatement], what: str
    ) -> cst.BaseStatement | cst.FlattenSentinel[cst.BaseStatement] | cst.RemovalSentinel:
        self.record(original, what)
        if not keep:
            return cst.RemovalSentinel.REMOVE
        leading = getattr(original, "leading_lines", ())
        keep[0] = keep[0].with_changes(leading_lines=[*leading, *getattr(keep[0], "leading_lines", ())])
        return cst.FlattenSentinel(keep)

    def leave_Try(
        self, original_node: cst.Try, updated_node: cst.Try
    ) -> cst.BaseStatement | cst.FlattenSentinel[cst.BaseStatement] | cst.RemovalSentinel:
        index = self.statements.get(id(original_node))
        if index is None or self.shims[index].kind != "try" or len(updated_node.handlers) != 1:
            return updated_node
        shim = self.shims[index]
        keep = [] if shim.alias else _body(updated_node.handlers[0].body)
        return self._replace(original_node, keep, "Python 2 shim replaced by the code Python 3 runs")

    def leave_If(
        self, original_node: cst.If, updated_node: cst.If
    ) -> cst.BaseStatement | cst.FlattenSentinel[cst.BaseStatement] | cst.RemovalSentinel:
        index = self.statements.get(id(original_node))
        if index is None or self.shims[index].kind != "if":
            return updated_node
        shim = self.shims[index]
        if shim.branch:
            keep = _body(updated_node.body)
        elif isinstance(updated_node.orelse, cst.Else):
            keep = _body(updated_node.orelse.body)
        else:
            keep = []
        return self._replace(original_node, keep, "Python 2 branch removed; the Python 3 branch kept")
