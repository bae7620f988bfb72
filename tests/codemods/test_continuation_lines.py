"""Continuation lines stay lined up after an edit: the pure realignment, and the runner's edits judged by pycodestyle."""

from __future__ import annotations

from pathlib import Path

import libcst as cst
import pycodestyle
import pytest

from evolve.codemods.base import CodemodContext
from evolve.codemods.continuation_lines import realign_continuations
from evolve.codemods.registry import get_codemod
from evolve.codemods.runner import process_file


class _Collected(pycodestyle.BaseReport):
    def __init__(self, options: object) -> None:
        super().__init__(options)
        self.found: list[tuple[int, str]] = []

    def error(self, line_number, offset, text, check):  # type: ignore[no-untyped-def, override]
        code = super().error(line_number, offset, text, check)
        if code:
            self.found.append((line_number, code))
        return code


def continuation_codes(source: str) -> list[tuple[int, str]]:
    """(line, code) of pycodestyle's continuation-line checks (E12x, E13x) on `source`, flake8's default ignores
    left out."""
    style = pycodestyle.StyleGuide(quiet=True, select=["E1"], ignore=["E121", "E123", "E126"])
    report = _Collected(style.options)
    checker = pycodestyle.Checker(lines=source.splitlines(keepends=True), options=style.options, report=report)
    checker.check_all()
    return sorted(found for found in report.found if found[1].startswith(("E12", "E13")))


def test_pycodestyle_sees_what_these_tests_look_for() -> None:
    assert continuation_codes("x = foo(a,\n          b)\n") == [(2, "E127")]
    assert continuation_codes("x = foo(a,\n      b)\n") == [(2, "E128")]
    assert continuation_codes("x = foo(a,\n        b)\n") == []


@pytest.mark.parametrize(
    ("before", "edited", "expected"),
    [
        pytest.param(  # the opening got shorter: `elif (` -> `if (`
            "if a:\n    pass\nelif isinstance(x,\n                y):\n    pass\n",
            "if a:\n    pass\nif isinstance(x,\n                y):\n    pass\n",
            "if a:\n    pass\nif isinstance(x,\n              y):\n    pass\n",
            id="shorter-opening",
        ),
        pytest.param(  # the callee's name grew: every aligned line moves, nested brackets included
            "logging.warn('%s %s',\n             a, [b,\n                 c])\n",
            "logging.warning('%s %s',\n             a, [b,\n                 c])\n",
            "logging.warning('%s %s',\n                a, [b,\n                    c])\n",
            id="longer-opening",
        ),
        pytest.param(  # text earlier on the line changed length: the bracket after it moved
            "if x != None and g(a,\n                   b):\n    pass\n",
            "if x is not None and g(a,\n                   b):\n    pass\n",
            "if x is not None and g(a,\n                       b):\n    pass\n",
            id="bracket-moved",
        ),
        pytest.param(  # a line under the bracket itself, a comment line, and a closing bracket under the opener
            "super(A, self).f(\n                x)\nsuper(A, self).f(1,\n                 # why\n                 2\n                )\n",
            "super().f(\n                x)\nsuper().f(1,\n                 # why\n                 2\n                )\n",
            "super().f(\n         x)\nsuper().f(1,\n          # why\n          2\n         )\n",
            id="under-the-bracket",
        ),
        pytest.param(  # a hanging indent is an offset from the line that opened the bracket, kept as it was
            "def f():\n    if a:\n        return 1\n    else:\n        return g(\n            1,\n        )\n",
            "def f():\n    if a:\n        return 1\n    return g(\n            1,\n        )\n",
            "def f():\n    if a:\n        return 1\n    return g(\n        1,\n    )\n",
            id="hanging",
        ),
        pytest.param(  # the lines inside a string are its value: only the line after it moves
            "x = warn('''a\n     b''',\n         c)\n",
            "x = warning('''a\n     b''',\n         c)\n",
            "x = warning('''a\n     b''',\n            c)\n",
            id="string-lines-kept",
        ),
        pytest.param(
            "y = x != None and \\\n    z\n",
            "y = x is not None and \\\n    z\n",
            "y = x is not None and \\\n    z\n",
            id="backslash-offset-kept",
        ),
    ],
)
def test_realigned_as_before(before: str, edited: str, expected: str) -> None:
    assert realign_continuations(before, edited) == expected
    assert realign_continuations(before, expected) == expected


@pytest.mark.parametrize(
    ("before", "edited"),
    [
        pytest.param("x = warn(a,\n\t b)\n", "x = warning(a,\n\t b)\n", id="tabs"),
        pytest.param(  # an unchanged statement is never touched, however it is laid out
            "x = foo(a,\n          b)\ny = warn(1)\n",
            "x = foo(a,\n          b)\ny = warning(1)\n",
            id="unchanged-statement",
        ),
        pytest.param("x = (\n", "x = ((\n", id="does-not-tokenize"),
    ],
)
def test_left_as_the_edit_wrote_it(before: str, edited: str) -> None:
    assert realign_continuations(before, edited) == edited


CASES = {
    "redundant-else": "def f(x, y):\n    if x:\n        return 1\n    elif isinstance(x,\n                    y):\n"
    "        return 2\n    else:\n        return g(x,\n                 y)\n",
    "super-call": "class A(B):\n    def __init__(self, a, b):\n        super(A, self).__init__(a,\n"
    "                                b)\n",
    "none-comparison": "def f(x, a, b):\n    if x != None and g(a,\n                       b):\n        pass\n",
    "type-comparison": "def f(x, a, b):\n    if type(x) == int and g(a,\n                            b):\n        pass\n",
    "logging-warn": "import logging\nlogging.warn('%s %s',\n             1, 2)\n",
    "unittest-aliases": "import unittest\nclass T(unittest.TestCase):\n    def test(self):\n"
    "        self.assertEquals(1,\n                          1)\n",
}


@pytest.mark.parametrize("codemod_id", sorted(CASES))
def test_codemod_edits_pass_pycodestyle_continuation_checks(tmp_path: Path, codemod_id: str) -> None:
    source = CASES[codemod_id]
    (tmp_path / "m.py").write_text(source)
    codemod = get_codemod(codemod_id)
    context = CodemodContext(path="m.py", min_python=(3, 10))
    outcome = process_file(tmp_path, "m.py", [codemod], context)
    assert outcome.edit is not None and not outcome.errors
    assert continuation_codes(source) == []
    assert continuation_codes(outcome.edit.after) == []


def test_without_the_realignment_pycodestyle_would_object() -> None:
    """The fixture is one where the transform alone leaves a misaligned line (E127), so the test above means something."""
    source = CASES["redundant-else"]
    transformed, _ = get_codemod("redundant-else").transform(cst.parse_module(source), CodemodContext(path="m.py"))
    assert [code for _, code in continuation_codes(transformed.code)] == ["E127"]
    assert continuation_codes(realign_continuations(source, transformed.code)) == []


def test_an_elif_whose_test_would_sit_on_the_body_stays_an_elif(tmp_path: Path) -> None:
    """`elif (a and` / `b):` as `if (a and` / `b):` would put `b` at the body's indentation (E129): left alone."""
    source = (
        "def f(x, y):\n    if x:\n        return 1\n    elif (x and\n          y):\n        return 2\n    return 3\n"
    )
    (tmp_path / "m.py").write_text(source)
    outcome = process_file(tmp_path, "m.py", [get_codemod("redundant-else")], CodemodContext(path="m.py"))
    assert outcome.edit is None
    hanging = "def f(x, y):\n    if x:\n        return 1\n    elif (\n        x and y\n    ):\n        return 2\n    return 3\n"
    (tmp_path / "m.py").write_text(hanging)
    outcome = process_file(tmp_path, "m.py", [get_codemod("redundant-else")], CodemodContext(path="m.py"))
    assert outcome.edit is not None and "    if (\n" in outcome.edit.after
    assert continuation_codes(outcome.edit.after) == []
