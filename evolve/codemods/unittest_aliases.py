"""`self.assertEquals(...)`, `self.failUnless(...)`, ... -> the names unittest kept (the aliases are gone in 3.12).

Python 3.12 removed the deprecated `TestCase` aliases (`assertEquals`, `assertNotEquals`, `assert_`,
`failUnless*`, `failIf*`, `assertAlmostEquals`, `assertRegexpMatches`, `assertRaisesRegexp`, ...): a suite
that uses them fails with AttributeError there. The modern names exist since Python 3.2 and take the same
arguments. Only `self.<alias>` inside a class that is a `TestCase` changes (a base named `...TestCase`, such
as `unittest.TestCase`, `IsolatedAsyncioTestCase` or `django.test.TestCase`, or a class of the same module
that derives from one); an alias the module defines itself is left alone.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable

import libcst as cst

from evolve.codemods.ast_scan import walk_with_symbol
from evolve.codemods.base import Change, Codemod, CodemodContext, CodemodMetadata, Example, Occurrence
from evolve.codemods.cst_edits import (
    RecordingTransformer,
    dotted_name,
    iter_nodes,
    run_transformer,
    shift_continuation_lines,
)

ID = "unittest-aliases"
ALIASES = {
    "assertEquals": "assertEqual",
    "assertNotEquals": "assertNotEqual",
    "assert_": "assertTrue",
    "failUnless": "assertTrue",
    "failIf": "assertFalse",
    "failUnlessEqual": "assertEqual",
    "failIfEqual": "assertNotEqual",
    "assertAlmostEquals": "assertAlmostEqual",
    "assertNotAlmostEquals": "assertNotAlmostEqual",
    "failUnlessAlmostEqual": "assertAlmostEqual",
    "failIfAlmostEqual": "assertNotAlmostEqual",
    "failUnlessRaises": "assertRaises",
    "assertRegexpMatches": "assertRegex",
    "assertNotRegexpMatches": "assertNotRegex",
    "assertRaisesRegexp": "assertRaisesRegex",
}

# The modern names of these arrived in Python 3.2: on a project that still supports Python 2 they stay.
_PY32_NAMES = frozenset({"assertRegexpMatches", "assertNotRegexpMatches", "assertRaisesRegexp"})


def _renamable(context: CodemodContext) -> frozenset[str]:
    return frozenset(ALIASES) - (_PY32_NAMES if context.min_python < (3, 2) else frozenset())


def _test_case_classes(classes: Iterable[tuple[str, list[str]]]) -> set[str]:
    """Names of the classes (name, dotted base names), in source order, that are TestCases."""
    found: set[str] = set()
    for name, bases in classes:
        if any(base.rsplit(".", 1)[-1].endswith("TestCase") or base in found for base in bases):
            found.add(name)
    return found


def _ast_dotted(node: ast.expr) -> str:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        base = _ast_dotted(node.value)
        return f"{base}.{node.attr}" if base else ""
    return ""


def _defined_aliases(names: Iterable[str]) -> set[str]:
    return {name for name in names if name in ALIASES}


class UnittestAliases(Codemod):
    """Use the TestCase method names that still exist: the deprecated aliases were removed in Python 3.12."""

    metadata = CodemodMetadata(
        id=ID,
        title="Replace unittest's removed assertion aliases",
        theme="deprecations",
        rationale="Python 3.12 removed `assertEquals`, `failUnless`, `assertRegexpMatches` and the other "
        "deprecated TestCase aliases: on 3.12 and later those tests fail with AttributeError.",
        risk="low",
        lint_codes=("UP005",),
        benefit="defect",
        min_target_python=(2, 7),
        also_in_kinds=("tests",),
        review_guidance="Each alias was the same method under an older name (`assertEquals is assertEqual`), so "
        "the tests check exactly what they checked before. Only `self.<alias>` inside TestCase classes changes.",
        references=(
            "https://docs.python.org/3/whatsnew/3.12.html#removed",
            "https://docs.python.org/3/library/unittest.html#deprecated-aliases",
        ),
    )
    examples = (
        Example(
            "import unittest\n\nclass T(unittest.TestCase):\n    def test(self):\n        self.assertEquals(f(), 1)\n",
            "import unittest\n\nclass T(unittest.TestCase):\n    def test(self):\n        self.assertEqual(f(), 1)\n",
        ),
        Example(
            "from django.test import TestCase\n\nclass V(TestCase):\n    def test(self):\n"
            "        self.failUnless(ok)\n        self.assertRaisesRegexp(ValueError, 'bad', g)\n",
            "from django.test import TestCase\n\nclass V(TestCase):\n    def test(self):\n"
            "        self.assertTrue(ok)\n        self.assertRaisesRegex(ValueError, 'bad', g)\n",
        ),
        Example(
            "import unittest\n\nclass Base(unittest.TestCase):\n    pass\n\nclass T(Base):\n"
            "    def test(self):\n        self.assertRegexpMatches(text, '^a')\n",
            "import unittest\n\nclass Base(unittest.TestCase):\n    pass\n\nclass T(Base):\n"
            "    def test(self):\n        self.assertRegex(text, '^a')\n",
        ),
    )
    valid = (
        "class Checker:\n    def check(self):\n        self.assertEquals(1, 1)\n",  # not a TestCase
        "import unittest\n\nclass T(unittest.TestCase):\n    def assertEquals(self, a, b):\n        pass\n\n"
        "    def test(self):\n        self.assertEquals(1, 1)\n",  # the module defines the alias itself
        "import unittest\n\nclass T(unittest.TestCase):\n    def test(self):\n        other.assertEquals(1, 1)\n",
        "import unittest\n\nclass T(unittest.TestCase):\n    def test(self):\n        self.assertEqual(1, 1)\n",
        "import unittest\n\nclass T(unittest.TestCase):\n    def test(self):\n"
        "        self.assertEquals(1, 1)  # noqa: UP005\n",
    )

    def detect(self, tree: ast.Module, source: str, context: CodemodContext) -> list[Occurrence]:
        """Find `self.<alias>` in classes that derive from a TestCase."""
        if not any(alias in source for alias in ALIASES):
            return []
        classes = [n for n in ast.walk(tree) if isinstance(n, ast.ClassDef)]
        classes.sort(key=lambda n: n.lineno)
        cases = _test_case_classes((n.name, [_ast_dotted(b) for b in n.bases]) for n in classes)
        if not cases:
            return []
        defined = _defined_aliases(
            n.name for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))
        ) | _defined_aliases(n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store))
        qualified = {
            f"{symbol}.{node.name}" if symbol else node.name
            for node, symbol in walk_with_symbol(tree)
            if isinstance(node, ast.ClassDef)
        }
        found = []
        renamable = _renamable(context)
        for node, symbol in walk_with_symbol(tree):
            if not (
                isinstance(node, ast.Attribute)
                and node.attr in renamable
                and node.attr not in defined
                and isinstance(node.value, ast.Name)
                and node.value.id == "self"
            ):
                continue
            parts = (symbol or "").split(".")
            owners = [".".join(parts[:end]) for end in range(len(parts), 0, -1)]
            owner = next((name for name in owners if name in qualified), None)
            if owner is not None and owner.rsplit(".", 1)[-1] in cases:
                found.append(
                    Occurrence(node.lineno, node.end_lineno or node.lineno, symbol, f"removed alias `{node.attr}`")
                )
        return found

    def transform(self, module: cst.Module, context: CodemodContext) -> tuple[cst.Module, list[Change]]:
        """Rename the aliases on `self` inside TestCase classes."""
        classes = [n for n in iter_nodes(module) if isinstance(n, cst.ClassDef)]
        cases = _test_case_classes((n.name.value, [dotted_name(b.value) for b in n.bases]) for n in classes)
        defined = _defined_aliases(n.name.value for n in iter_nodes(module) if isinstance(n, cst.FunctionDef))
        defined |= _defined_aliases(
            n.target.value
            for n in iter_nodes(module)
            if isinstance(n, (cst.AssignTarget, cst.AnnAssign)) and isinstance(n.target, cst.Name)
        )
        defined |= set(ALIASES) - _renamable(context)
        return run_transformer(module, _Transformer(ID, context, cases, defined))


class _Transformer(RecordingTransformer):
    def __init__(self, codemod_id: str, context: CodemodContext, cases: set[str], defined: set[str]) -> None:
        super().__init__(codemod_id, context)
        self.cases, self.defined = cases, defined
        self.classes: list[str] = []

    def visit_ClassDef(self, node: cst.ClassDef) -> None:
        self.classes.append(node.name.value)

    def leave_ClassDef(self, original_node: cst.ClassDef, updated_node: cst.ClassDef) -> cst.ClassDef:
        self.classes.pop()
        return updated_node

    def leave_Attribute(self, original_node: cst.Attribute, updated_node: cst.Attribute) -> cst.Attribute:
        name = updated_node.attr.value
        if (
            name not in ALIASES
            or name in self.defined
            or not self.classes
            or self.classes[-1] not in self.cases
            or not (isinstance(updated_node.value, cst.Name) and updated_node.value.value == "self")
        ):
            return updated_node
        self.record(original_node, f"removed alias `{name}` renamed `{ALIASES[name]}`")
        return updated_node.with_changes(attr=cst.Name(ALIASES[name]))

    def leave_Call(self, original_node: cst.Call, updated_node: cst.Call) -> cst.Call:
        before, after = original_node.func, updated_node.func
        if isinstance(before, cst.Attribute) and isinstance(after, cst.Attribute):
            return shift_continuation_lines(updated_node, len(after.attr.value) - len(before.attr.value))
        return updated_node
