"""`ast` scans shared by the Python 2 leftover codemods: which code is a Python 2 compatibility guard, and where an
`ast` node sits in the LibCST tree (so detection and transform decide from one analysis)."""

from __future__ import annotations

import ast
import re
from collections.abc import Iterable, Mapping

import libcst as cst
from libcst.metadata import MetadataWrapper, PositionProvider

from evolve.codemods.base import CodemodContext
from evolve.codemods.cst_edits import RecordingTransformer

PYTHON3 = (3, 0)
# The Python 2 builtins Python 3 removed, and the name that replaces each (the same behaviour on Python 3).
BUILTINS = {
    "basestring": "str",
    "unicode": "str",
    "long": "int",
    "xrange": "range",
    "unichr": "chr",
    "raw_input": "input",
}
# Builtins Python 3 moved into a module: the module-level import that brings each back (the same on Python 2.6+).
MOVED = {"reduce": "functools"}
# Words in a condition that make its branches Python-version-specific code (`if PY2:`, `if sys.version_info < (3,)`,
# `if six.PY3:`, `if hasattr(__builtins__, 'unicode')`): a Python 2 name there is deliberate, not a defect.
_VERSION_WORDS = re.compile(
    r"(?i)py(?:thon)?_?[23]|\b(?:version_info|hexversion|sys\.version|python_version|python_version_tuple|__builtin__|"
    r"builtins|__builtins__|six)\b"
)
_GUARD_ERRORS = frozenset({"NameError", "Exception", "BaseException"})


def _condition_is_versioned(test: ast.expr) -> bool:
    text = ast.unparse(test)
    if _VERSION_WORDS.search(text):
        return True
    return any(isinstance(n, ast.Constant) and n.value in BUILTINS for n in ast.walk(test))


def _catches(handler: ast.ExceptHandler, errors: frozenset[str]) -> bool:
    if handler.type is None:
        return True
    return any(isinstance(n, ast.Name) and n.id in errors for n in ast.walk(handler.type))


def guarded_nodes(tree: ast.AST) -> set[int]:
    """ids of the nodes inside Python 2 compatibility code: a `try` that catches NameError (or everything), and
    both branches of an `if` (or conditional expression) that tests the Python version."""
    inside: set[int] = set()
    for node in ast.walk(tree):
        parts: Iterable[ast.AST] = ()
        if isinstance(node, ast.Try) and any(_catches(h, _GUARD_ERRORS) for h in node.handlers):
            parts = (*node.body, *node.handlers, *node.orelse)
        elif isinstance(node, (ast.If, ast.IfExp, ast.While)) and _condition_is_versioned(node.test):
            parts = (node,)
        for part in parts:
            inside |= {id(n) for n in ast.walk(part)}
    return inside


def declared_python2(context_min: tuple[int, int]) -> bool:
    """Whether the project still declares a Python before 3.0."""
    return context_min < PYTHON3


def version_text(version: tuple[int, int]) -> str:
    """(2, 7) -> `2.7`."""
    return ".".join(map(str, version))


def char_columns(source: str) -> list[bytes]:
    """The source's lines as UTF-8 bytes: `ast` counts columns in bytes, LibCST in characters."""
    return [line.encode("utf-8") for line in source.splitlines()]


def char_position(lines: list[bytes], node: ast.AST) -> tuple[int, int]:
    """(line, character column) where an `ast` node starts."""
    line, column = node.lineno, node.col_offset  # type: ignore[attr-defined]
    raw = lines[line - 1] if 0 < line <= len(lines) else b""
    return line, len(raw[:column].decode("utf-8", errors="replace"))


def cst_nodes_at(
    module: cst.Module, positions: Iterable[tuple[int, int]], kind: type[cst.CSTNode] | tuple[type[cst.CSTNode], ...]
) -> dict[int, int]:
    """id(node) -> index into `positions`, for the nodes of type `kind` that start at those (line, column)s."""
    wanted = {position: index for index, position in enumerate(positions)}
    if not wanted:
        return {}
    found: dict[int, int] = {}
    where: Mapping[cst.CSTNode, object] = MetadataWrapper(module, unsafe_skip_copy=True).resolve(PositionProvider)
    for node, code_range in where.items():
        if isinstance(node, kind):
            start = code_range.start  # type: ignore[attr-defined]
            index = wanted.get((start.line, start.column))
            if index is not None:
                found[id(node)] = index
    return found


_TYPE_CHECKS = frozenset({"isinstance", "issubclass"})


def without_repeated_types(call: cst.Call, renamed: set[int]) -> cst.Call:
    """`isinstance(x, (str, str))` -> `isinstance(x, str)` after a rename made a type appear twice (only tuples
    holding a renamed name, ids in `renamed`, change)."""
    func, args = call.func, call.args
    if not (isinstance(func, cst.Name) and func.value in _TYPE_CHECKS and len(args) == 2):
        return call
    types = args[1].value
    if not isinstance(types, cst.Tuple) or not any(id(e.value) in renamed for e in types.elements):
        return call
    kept: list[cst.BaseElement] = []
    seen: set[str] = set()
    for element in types.elements:
        value = element.value
        if isinstance(value, cst.Name) and not isinstance(element, cst.StarredElement):
            if value.value in seen:
                continue
            seen.add(value.value)
        kept.append(element)
    if len(kept) == len(types.elements):
        return call
    if len(kept) == 1 and not isinstance(kept[0], cst.StarredElement):
        new_types: cst.BaseExpression = kept[0].value
    else:
        kept[-1] = kept[-1].with_changes(comma=types.elements[-1].comma)
        new_types = types.with_changes(elements=kept)
    return call.with_changes(args=[args[0], args[1].with_changes(value=new_types)])


class RespellingTransformer(RecordingTransformer):
    """A transformer that respells Python 2 names (`basestring` -> `str`) and then folds the types a respelling made
    appear twice in an `isinstance` tuple."""

    def __init__(self, codemod_id: str, context: CodemodContext) -> None:
        super().__init__(codemod_id, context)
        self.renamed: set[int] = set()  # ids of the new Name nodes

    def respell(self, original_node: cst.Name, updated_node: cst.Name, new: str) -> cst.Name:
        """`updated_node` spelled `new`, recorded as a change."""
        self.record(original_node, f"`{original_node.value}` spelled `{new}`")
        renamed = updated_node.with_changes(value=new)
        self.renamed.add(id(renamed))
        return renamed

    def leave_Call(self, original_node: cst.Call, updated_node: cst.Call) -> cst.Call:
        return without_repeated_types(updated_node, self.renamed)
