"""`basestring`, `unicode`, `long`, `xrange`, `unichr`, `raw_input` -> `str`, `str`, `int`, `range`, `chr`, `input`;
`reduce` gets `from functools import reduce`.

Python 3 removed these builtins: a use that no compatibility code guards raises NameError when it runs. Changed:
a load of one of these names where the module binds it nowhere (no shim `basestring = str`, no parameter or import
of that name, no star import) and the use is not inside Python 2 compatibility code (a `try` that catches
NameError, a branch of an `if PY2:` / `sys.version_info` / `six.PY3` test). `isinstance(x, (str, unicode))` keeps
one `str`.

Where the project still declares Python 2, only `xrange` -> `range` (the same items, indexing and length on Python 2,
where it builds a list) and the `functools` import of `reduce` (there since 2.6) are made; the other names mean something else there (`str` is bytes), so those uses are
declined with that reason.
"""

from __future__ import annotations

import ast

import libcst as cst

from evolve.codemods.ast_scan import bound_names, walk_with_symbol
from evolve.codemods.base import Change, Codemod, CodemodContext, CodemodMetadata, Declined, Example, Occurrence
from evolve.codemods.cst_edits import run_transformer
from evolve.codemods.imports import insert_stdlib_import
from evolve.codemods.python2_scan import (
    BUILTINS,
    MOVED,
    RespellingTransformer,
    char_columns,
    char_position,
    cst_nodes_at,
    declared_python2,
    guarded_nodes,
    version_text,
)

ID = "python2-builtins"
# What means the same on Python 2: `range` there builds a list with the same items; functools has `reduce` since 2.6.
SAME_ON_PYTHON2 = frozenset({"xrange", *MOVED})
REMOVED = frozenset({*BUILTINS, *MOVED})


def unguarded_uses(tree: ast.Module) -> list[tuple[ast.Name, str | None]]:
    """Loads of removed builtins the module binds nowhere, outside Python 2 compatibility code, with their symbol."""
    bound, star = bound_names(tree)
    if star:
        return []
    names = REMOVED - bound
    if not names:
        return []
    guarded = guarded_nodes(tree)
    return [
        (node, symbol)
        for node, symbol in walk_with_symbol(tree)
        if isinstance(node, ast.Name)
        and node.id in names
        and isinstance(node.ctx, ast.Load)
        and id(node) not in guarded
    ]


def _renamed(tree: ast.Module, context: CodemodContext) -> list[tuple[ast.Name, str | None]]:
    uses = unguarded_uses(tree)
    if declared_python2(context.min_python):
        return [(node, symbol) for node, symbol in uses if node.id in SAME_ON_PYTHON2]
    return uses


class Python2Builtins(Codemod):
    """Spell the builtins Python 3 removed by their Python 3 names."""

    metadata = CodemodMetadata(
        id=ID,
        title="Replace Python 2 builtins that Python 3 removed",
        theme="deprecations",
        rationale="`basestring`, `unicode`, `long`, `xrange`, `unichr` and `raw_input` do not exist on Python 3: "
        "code that reaches one of them raises NameError.",
        risk="low",
        benefit="defect",
        # pylint's python3 checker messages (W1602, W1612, W1608, W1638, W1635, W1609): a project that disables one
        # is not given this rewrite. ruff reports these names only as F821, undefined name.
        lint_codes=(
            "pylint:basestring-builtin",
            "pylint:unicode-builtin",
            "pylint:long-builtin",
            "pylint:xrange-builtin",
            "pylint:unichr-builtin",
            "pylint:raw_input-builtin",
        ),
        min_target_python=(2, 0),  # which names apply is decided per declared Python (SAME_ON_PYTHON2)
        review_guidance="Each new name is what the old one became in Python 3. Uses inside compatibility code "
        "(try/except NameError, `if PY2:` branches) and names the module defines itself are left alone; "
        "`python2-shims` removes that dead code where the project is Python 3 only.",
        references=(
            "https://docs.python.org/3/whatsnew/3.0.html#builtins",
            "https://docs.python.org/3/howto/pyporting.html",
        ),
    )
    examples = (
        Example(
            "def label(value):\n    if isinstance(value, basestring):\n        return value\n    return unicode(value)\n",
            "def label(value):\n    if isinstance(value, str):\n        return value\n    return str(value)\n",
        ),
        Example(
            "for i in xrange(3):\n    name = raw_input('name: ')\n    print(unichr(65 + i), long(name))\n",
            "for i in range(3):\n    name = input('name: ')\n    print(chr(65 + i), int(name))\n",
        ),
        Example(
            "ok = isinstance(s, (str, unicode))\nnum = isinstance(n, (int, long, float))\n",
            "ok = isinstance(s, str)\nnum = isinstance(n, (int, float))\n",
        ),
        Example(
            "def assert_in(result, expected_set):\n    nums = xrange(1, len(expected_set) + 1)\n"
            "    return list(zip(nums, expected_set))\n",
            "def assert_in(result, expected_set):\n    nums = range(1, len(expected_set) + 1)\n"
            "    return list(zip(nums, expected_set))\n",
            context=(("min_python", (2, 7)),),
        ),
        Example(
            '"""Smoothing."""\nfrom math import log\n\n\ndef total(pairs):\n'
            "    return reduce(lambda x, y: x + y, pairs)\n",
            '"""Smoothing."""\nfrom functools import reduce\nfrom math import log\n\n\ndef total(pairs):\n'
            "    return reduce(lambda x, y: x + y, pairs)\n",
        ),
    )
    valid = (
        "try:\n    basestring\nexcept NameError:\n    basestring = str\nisinstance(x, basestring)\n",
        "import sys\nif sys.version_info[0] == 2:\n    text = unicode(x)\nelse:\n    text = str(x)\n",
        "def f(unicode=False):\n    return unicode\n",  # a parameter of that name
        "from six.moves import xrange\nfor i in xrange(3):\n    pass\n",
        "from compat import *\nx = unicode(y)\n",  # a star import may bind it
        "text = obj.unicode\nsix.text_type(x)\n",
        "if PY2:\n    string_types = basestring,\nelse:\n    string_types = str,\n",
    )

    def detect(self, tree: ast.Module, source: str, context: CodemodContext) -> list[Occurrence]:
        """Find unguarded loads of the removed builtins."""
        if not any(name in source for name in REMOVED):
            return []
        return [
            Occurrence(node.lineno, node.end_lineno or node.lineno, symbol, f"`{node.id}` is not a builtin on Python 3")
            for node, symbol in _renamed(tree, context)
        ]

    def declines(self, tree: ast.Module, source: str, context: CodemodContext) -> list[Declined]:
        """Under a declared Python 2, the names whose Python 3 spelling means something else there."""
        if not declared_python2(context.min_python) or not any(name in source for name in REMOVED):
            return []
        return [
            Declined(
                node.lineno,
                node.id,
                f"the project declares Python {version_text(context.min_python)}, where `{BUILTINS[node.id]}` is "
                "not the same",
            )
            for node, _ in unguarded_uses(tree)
            if node.id not in SAME_ON_PYTHON2
        ]

    def transform(self, module: cst.Module, context: CodemodContext) -> tuple[cst.Module, list[Change]]:
        """Rename what `detect` found, and drop a type that a rename made a duplicate in `isinstance` tuples."""
        if not any(name in module.code for name in REMOVED):
            return module, []
        uses = _renamed(ast.parse(module.code), context)
        if not uses:
            return module, []
        lines = char_columns(module.code)
        targets = cst_nodes_at(module, [char_position(lines, node) for node, _ in uses], cst.Name)
        transformer = _Transformer(ID, context, set(targets))
        new_module, changes = run_transformer(module, transformer)
        for name in sorted(transformer.imports):
            new_module = insert_stdlib_import(new_module, f"from {MOVED[name]} import {name}\n")
        return new_module, changes


class _Transformer(RespellingTransformer):
    def __init__(self, codemod_id: str, context: CodemodContext, targets: set[int]) -> None:
        super().__init__(codemod_id, context)
        self.targets = targets
        self.imports: set[str] = set()  # moved builtins to import

    def leave_Name(self, original_node: cst.Name, updated_node: cst.Name) -> cst.Name:
        if id(original_node) not in self.targets:
            return updated_node
        if original_node.value in MOVED:
            if original_node.value not in self.imports:
                self.imports.add(original_node.value)
                module = MOVED[original_node.value]
                self.record(original_node, f"`{original_node.value}` imported from `{module}`")
            return updated_node
        return self.respell(original_node, updated_node, BUILTINS[original_node.value])
