"""`def f(x: int = None)` -> `x: int | None = None` (or `Optional[int]`): the type says what the default is.

PEP 484 dropped implicit Optional and mypy reports it by default since 0.990 (`Incompatible default for
argument`); pyright reports it too. The fix is mechanical: add None to the annotation. The spelling follows
the module: `Optional[X]` where it already imports `Optional` (or `typing`), `X | None` where the supported
Pythons allow it (3.10+, or a module that has `from __future__ import annotations` and already writes
`| None`), and `Optional[X]` with an added `from typing import Optional` otherwise. Only annotations that
certainly lack None change: builtin types, classes and imported names, their subscripts, and unions of
those; names the module assigns itself (type aliases, TypeVars), `Any`, `object`, `Literal`, string
annotations and `@overload`s are left alone, as is a module that a `.pyi` stub describes.
"""

from __future__ import annotations

import ast
from collections.abc import Sequence

import libcst as cst

from evolve.codemods.ast_scan import walk_with_symbol
from evolve.codemods.base import Change, Codemod, CodemodContext, CodemodMetadata, Example, Occurrence
from evolve.codemods.cst_edits import (
    RecordingTransformer,
    dotted_name,
    has_comment,
    iter_nodes,
    module_bindings,
    run_transformer,
)
from evolve.codemods.cst_edits import has_future_annotations as cst_has_future_annotations
from evolve.codemods.imports import insert_stdlib_import, is_import_line

ID = "implicit-optional"
# Names that may already admit None, or that say nothing about it.
_OPEN = frozenset(
    {
        "Any",
        "object",
        "None",
        "NoneType",
        "Optional",
        "Union",
        "Literal",
        "Annotated",
        "Final",
        "ClassVar",
        "TypeAlias",
        "Self",
        "Never",
        "NoReturn",
        "Unpack",
        "Required",
        "NotRequired",
        "ReadOnly",
        "TypeGuard",
        "TypeIs",
    }
)
_BUILTINS = frozenset(
    {
        "int",
        "str",
        "float",
        "bool",
        "bytes",
        "complex",
        "list",
        "dict",
        "set",
        "frozenset",
        "tuple",
        "type",
        "bytearray",
    }
)


class _Names:
    """What the module's names are: classes it defines, names it imports, names it assigns."""

    def __init__(self, classes: set[str], imported: set[str], assigned: set[str]) -> None:
        self.classes, self.imported, self.assigned = classes, imported, assigned

    def closed(self, dotted: str) -> bool:
        """Whether a (dotted) name certainly denotes a type without None."""
        if not dotted:
            return False
        parts = dotted.split(".")
        if parts[-1] in _OPEN or parts[0] in self.assigned:
            return False
        if len(parts) == 1:
            return dotted in _BUILTINS or dotted in self.classes or dotted in self.imported
        return parts[0] in self.imported


def _ast_names(tree: ast.Module) -> _Names:
    classes, imported, assigned = set(), set(), set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ClassDef):
            classes.add(node.name)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            for alias in node.names:
                imported.add(alias.asname or alias.name.split(".")[0])
        elif isinstance(node, ast.Name) and not isinstance(node.ctx, ast.Load):
            assigned.add(node.id)
    return _Names(classes - assigned, imported - assigned - classes, assigned)


def _ast_dotted(node: ast.expr) -> str:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        base = _ast_dotted(node.value)
        return f"{base}.{node.attr}" if base else ""
    return ""


def _ast_closed(node: ast.expr, names: _Names) -> bool:
    """Whether an annotation certainly excludes None."""
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.BitOr):
        return _ast_closed(node.left, names) and _ast_closed(node.right, names)
    if isinstance(node, ast.Subscript):
        base = _ast_dotted(node.value)
        if base.rsplit(".", 1)[-1] == "Union":
            items = node.slice.elts if isinstance(node.slice, ast.Tuple) else [node.slice]
            return bool(items) and all(_ast_closed(item, names) for item in items) and base in {"Union", "typing.Union"}
        return names.closed(base)
    return isinstance(node, (ast.Name, ast.Attribute)) and names.closed(_ast_dotted(node))


def _is_overload(decorators: Sequence[ast.expr]) -> bool:
    return any(_ast_dotted(d).rsplit(".", 1)[-1] == "overload" for d in decorators)


def _none_defaulted(function: ast.FunctionDef | ast.AsyncFunctionDef) -> list[ast.arg]:
    """Parameters whose default is the literal None."""
    args = function.args
    positional = [*args.posonlyargs, *args.args]
    pairs = list(zip(positional[len(positional) - len(args.defaults) :], args.defaults))
    pairs += [(arg, default) for arg, default in zip(args.kwonlyargs, args.kw_defaults) if default is not None]
    return [arg for arg, default in pairs if isinstance(default, ast.Constant) and default.value is None]


class ImplicitOptional(Codemod):
    """Add None to the annotation of a parameter whose default is None (PEP 484: no implicit Optional)."""

    metadata = CodemodMetadata(
        id=ID,
        title="Make implicit Optional parameters explicit",
        theme="typing",
        rationale="`x: int = None` declares an int that defaults to None: mypy (since 0.990, by default) and "
        "pyright report it as an error, and callers' type checks are wrong about what the function accepts.",
        risk="low",
        lint_codes=("RUF013",),
        benefit="defect",
        min_target_python=(3, 5),
        review_guidance="Only annotations change; behaviour is the same. The spelling follows the module "
        "(`Optional[X]` where it uses Optional or supports Pythons before 3.10, else `X | None`). A name the "
        "module assigns itself (an alias, a TypeVar) and string annotations are left alone.",
        references=(
            "https://peps.python.org/pep-0484/#union-types",
            "https://mypy.readthedocs.io/en/stable/config_file.html#confval-implicit_optional",
            "https://docs.astral.sh/ruff/rules/implicit-optional/",
        ),
    )
    examples = (
        Example(
            "def f(x: int = None, *, name: str = None):\n    pass\n",
            "def f(x: int | None = None, *, name: str | None = None):\n    pass\n",
            (("min_python", (3, 10)),),
        ),
        Example(
            "from typing import List, Optional\n\ndef f(items: List[str] = None, n: Optional[int] = None):\n    pass\n",
            "from typing import List, Optional\n\ndef f(items: Optional[List[str]] = None, n: Optional[int] = None):\n"
            "    pass\n",
        ),
        Example(
            '"""Doc."""\nimport os\n\n\ndef f(path: os.PathLike = None, size: int = None):\n    pass\n',
            '"""Doc."""\nimport os\nfrom typing import Optional\n\n\n'
            "def f(path: Optional[os.PathLike] = None, size: Optional[int] = None):\n    pass\n",
        ),
        Example(
            "import typing\n\nclass A:\n    def m(self, other: 'A' = None, x: typing.Union[int, str] = None):\n"
            "        pass\n",
            "import typing\n\nclass A:\n    def m(self, other: 'A' = None, x: typing.Union[int, str, None] = None):\n"
            "        pass\n",
        ),
    )
    valid = (
        "from typing import Any, Optional\n\ndef f(a: Any = None, b: Optional[int] = None, c: object = None):\n"
        "    pass\n",
        "from typing import TypeVar\nT = TypeVar('T')\nAlias = int\n\ndef f(x: T = None, y: Alias = None):\n    pass\n",
        "def f(x: int = 0, y=None, z: 'int' = None):\n    pass\n",
        "from typing import overload\n\n@overload\ndef f(x: int = None) -> int: ...\n",
        "def f(x: int = None):  # noqa: RUF013\n    pass\n",
        "def f(x: int | None = None, y: None = None):\n    pass\n",
    )

    def detect(self, tree: ast.Module, source: str, context: CodemodContext) -> list[Occurrence]:
        """Find parameters annotated with a type that excludes None and defaulting to None."""
        if "None" not in source or context.has_stub or context.path.endswith(".pyi"):
            return []
        names: _Names | None = None
        found = []
        for node, symbol in walk_with_symbol(tree):
            if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) or _is_overload(node.decorator_list):
                continue
            for arg in _none_defaulted(node):
                if arg.annotation is None:
                    continue
                names = names or _ast_names(tree)
                if _ast_closed(arg.annotation, names):
                    where = f"{symbol}.{node.name}" if symbol else node.name
                    found.append(
                        Occurrence(
                            arg.lineno, arg.end_lineno or arg.lineno, where, f"`{arg.arg}` is implicitly Optional"
                        )
                    )
        return found

    def transform(self, module: cst.Module, context: CodemodContext) -> tuple[cst.Module, list[Change]]:
        """Add None to each such annotation, in the module's spelling, importing `Optional` when needed."""
        if context.has_stub or context.path.endswith(".pyi"):
            return module, []
        bindings = module_bindings(module)
        names = _cst_names(bindings)
        style = _style(module, context, bindings)
        transformer = _Transformer(ID, context, names, style)
        new_module, changes = run_transformer(module, transformer)
        if changes and style == "import":
            new_module = _add_optional_import(new_module)
        return new_module, changes


def _cst_names(bindings: dict[str, list[cst.CSTNode]]) -> _Names:
    classes, imported, assigned = set(), set(), set()
    for name, nodes in bindings.items():
        for node in nodes:
            if isinstance(node, cst.ClassDef):
                classes.add(name)
            elif isinstance(node, (cst.Import, cst.ImportFrom)):
                imported.add(name)
            elif not isinstance(node, (cst.FunctionDef, cst.Param)):
                assigned.add(name)
    return _Names(classes - assigned, imported - assigned - classes, assigned)


def _imports_optional(bindings: dict[str, list[cst.CSTNode]]) -> bool:
    return any(
        isinstance(node, cst.ImportFrom)
        and node.module is not None
        and dotted_name(node.module) in {"typing", "typing_extensions"}
        for node in bindings.get("Optional", [])
    )


def _style(module: cst.Module, context: CodemodContext, bindings: dict[str, list[cst.CSTNode]]) -> str:
    """ "Optional" (imported), "typing.Optional", "pipe" (`X | None`) or "import" (add `from typing import Optional`)."""
    if _imports_optional(bindings):
        return "Optional"
    if context.min_python >= (3, 10):
        return "pipe"
    if cst_has_future_annotations(module) and _writes_pipe_none(module):
        return "pipe"
    if "Optional" in bindings:
        return "none"  # the name means something else here
    typing_nodes = bindings.get("typing", [])
    if typing_nodes and all(
        isinstance(node, cst.Import) and any(dotted_name(a.name) == "typing" and a.asname is None for a in node.names)
        for node in typing_nodes
    ):
        return "typing.Optional"
    return "import"


def _writes_pipe_none(module: cst.Module) -> bool:
    return any(
        isinstance(node, cst.BinaryOperation)
        and isinstance(node.operator, cst.BitOr)
        and isinstance(node.right, cst.Name)
        and node.right.value == "None"
        for node in iter_nodes(module)
    )


def _cst_closed(node: cst.BaseExpression, names: _Names) -> bool:
    if isinstance(node, cst.BinaryOperation) and isinstance(node.operator, cst.BitOr):
        return _cst_closed(node.left, names) and _cst_closed(node.right, names)
    if isinstance(node, cst.Subscript):
        base = dotted_name(node.value)
        if base.rsplit(".", 1)[-1] == "Union":
            return (
                base in {"Union", "typing.Union"}
                and bool(node.slice)
                and all(
                    isinstance(element.slice, cst.Index) and _cst_closed(element.slice.value, names)
                    for element in node.slice
                )
            )
        return names.closed(base)
    return isinstance(node, (cst.Name, cst.Attribute)) and names.closed(dotted_name(node))


class _Transformer(RecordingTransformer):
    def __init__(self, codemod_id: str, context: CodemodContext, names: _Names, style: str) -> None:
        super().__init__(codemod_id, context)
        self.names, self.style = names, style
        self.depth = 0  # enclosing indented blocks: the header's own indentation

    def visit_IndentedBlock(self, node: cst.IndentedBlock) -> None:
        self.depth += 1

    def leave_IndentedBlock(
        self, original_node: cst.IndentedBlock, updated_node: cst.IndentedBlock
    ) -> cst.IndentedBlock:
        self.depth -= 1
        return updated_node

    def _widest(self, function: cst.FunctionDef) -> int:
        """The longest line of the function's header (decorators and body left out), indentation included."""
        header = function.with_changes(decorators=[], leading_lines=[], body=cst.SimpleStatementSuite([cst.Pass()]))
        lines = cst.Module(body=[]).code_for_node(header).splitlines()
        indent = " " * (4 * (self.depth - 1))  # the depth counts the function's own body while inside it
        return max([len(indent + lines[0]), *(len(line) for line in lines[1:])])

    def leave_FunctionDef(self, original_node: cst.FunctionDef, updated_node: cst.FunctionDef) -> cst.FunctionDef:
        if self.style == "none" or any(
            dotted_name(d.decorator).rsplit(".", 1)[-1] == "overload" for d in updated_node.decorators
        ):
            return updated_node
        current, fixed = updated_node, []
        for group in ("posonly_params", "params", "kwonly_params"):
            for index, original in enumerate(getattr(original_node.params, group)):
                param = getattr(current.params, group)[index]
                annotation = param.annotation
                if (
                    annotation is None
                    or not (isinstance(param.default, cst.Name) and param.default.value == "None")
                    or has_comment(annotation)
                    or not _cst_closed(annotation.annotation, self.names)
                ):
                    continue
                items = list(getattr(current.params, group))
                items[index] = param.with_changes(
                    annotation=annotation.with_changes(annotation=_with_none(annotation.annotation, self.style))
                )
                current = current.with_changes(params=current.params.with_changes(**{group: items}))
                fixed.append((original, param.name.value))
        # The header may not grow past 79 columns (PEP 8) unless it was already wider: no new long lines. Such a
        # signature is left whole for a person (it needs wrapping), not half-fixed.
        if not fixed or self._widest(current) > max(79, self._widest(updated_node)):
            return updated_node
        names = ", ".join(f"`{name}`" for _, name in fixed)
        verb, what = ("defaults", "its annotation") if len(fixed) == 1 else ("default", "their annotations")
        self.record(fixed[0][0], f"{names} {verb} to None: None added to {what}")
        return current


def _with_none(annotation: cst.BaseExpression, style: str) -> cst.BaseExpression:
    none = cst.Name("None")
    if isinstance(annotation, cst.Subscript) and dotted_name(annotation.value) in {"Union", "typing.Union"}:
        elements = list(annotation.slice)
        last = elements[-1]
        elements[-1] = last.with_changes(comma=cst.Comma(whitespace_after=cst.SimpleWhitespace(" ")))
        elements.append(cst.SubscriptElement(slice=cst.Index(value=none), comma=last.comma))
        return annotation.with_changes(slice=elements)
    if style == "pipe" or (isinstance(annotation, cst.BinaryOperation) and isinstance(annotation.operator, cst.BitOr)):
        return cst.BinaryOperation(left=annotation, operator=cst.BitOr(), right=none)
    wrapper = "typing.Optional" if style == "typing.Optional" else "Optional"
    return cst.Subscript(
        value=cst.parse_expression(wrapper), slice=[cst.SubscriptElement(slice=cst.Index(value=annotation))]
    )


def _add_optional_import(module: cst.Module) -> cst.Module:
    """Add `Optional` to a top-level `from typing import ...`, or a new such line after the leading imports."""
    body = list(module.body)
    for index, statement in enumerate(body):
        if not is_import_line(statement):
            continue
        assert isinstance(statement, cst.SimpleStatementLine)
        small = statement.body[0]
        if (
            len(statement.body) == 1
            and isinstance(small, cst.ImportFrom)
            and small.module is not None
            and not small.relative
            and dotted_name(small.module) == "typing"
            and not isinstance(small.names, cst.ImportStar)
            and small.lpar is None
        ):
            names = list(small.names)
            spelled = [alias.evaluated_name for alias in names]
            # Keep an alphabetised list alphabetised (isort's order); otherwise add at the end.
            at = len(names)
            if spelled == sorted(spelled, key=str.lower):
                at = next((i for i, name in enumerate(spelled) if name.lower() > "optional"), len(names))
            comma = cst.Comma(whitespace_after=cst.SimpleWhitespace(" "))
            if at == len(names):
                names[-1] = names[-1].with_changes(comma=comma)
                names.append(cst.ImportAlias(name=cst.Name("Optional")))
            else:
                names.insert(at, cst.ImportAlias(name=cst.Name("Optional"), comma=comma))
            body[index] = statement.with_changes(body=[small.with_changes(names=names)])
            return module.with_changes(body=body)
    return insert_stdlib_import(module, "from typing import Optional\n")
