"""A red test caused by a Python 2 name is traced to its recipe, and a focused codemod's own refusals are said."""

from __future__ import annotations

from pathlib import Path

import pytest

from evolve.findings import Finding
from evolve.plan.planner import RED_SCORE, PlanningInput, make_plan
from evolve.research.declines import focus_declines
from evolve.research.diagnosis import diagnose


@pytest.mark.parametrize(
    ("error", "label", "recipe"),
    [
        ("NameError: name 'xrange' is not defined", "builtins.xrange", "python2-builtins"),
        ("E   NameError: global name 'basestring' is not defined", "builtins.basestring", "python2-builtins"),
        ("AttributeError: 'dict' object has no attribute 'iteritems'", "dict.iteritems", "dict-iter-methods"),
        (
            "AttributeError: 'collections.OrderedDict' object has no attribute 'has_key'",
            "dict.has_key",
            "dict-iter-methods",
        ),
    ],
)
def test_a_python_2_name_in_a_traceback_is_traced_to_its_recipe(tmp_path: Path, error: str, label: str, recipe):
    (tmp_path / "test").mkdir()
    (tmp_path / "test" / "common.py").write_text("x = 1\n" * 40)
    traceback = f"test/test_input.py:9: in test_dict_like\n    assert_in(x, y)\n{tmp_path}/test/common.py:28: in assert_in\n{error}\n"
    found = diagnose(traceback, tmp_path)
    assert found is not None and found.removed.label == label
    assert found.recipe == recipe
    assert (found.path, found.line) == ("test/common.py", 28)
    assert "was removed in Python 3.0" in found.describe()


def test_a_name_error_that_is_not_a_python_2_builtin_has_no_diagnosis(tmp_path: Path):
    assert diagnose("NameError: name 'undefined_thing' is not defined\n", tmp_path) is None
    assert diagnose("AttributeError: 'Thing' object has no attribute 'iteritems'\n", tmp_path) is None


def test_the_red_python_2_recipe_outranks_everything_even_in_a_test_helper():
    findings = (
        Finding("a", "codemod", "requests-timeout", "pkg/net.py", 3, 3, None, "high", 0.9, "m"),
        Finding("b", "codemod", "python2-builtins", "test/common.py", 28, 28, None, "high", 0.6, "m"),
    )
    themes = {"requests-timeout": "security", "python2-builtins": "deprecations"}
    red = {("python2-builtins", "test/common.py"): ("3.8.18: test/test_input.py::test_dict_like",)}
    plan = make_plan(PlanningInput(findings=findings, codemod_themes=themes, red=red))
    assert plan.theme == "deprecations" and plan.files == ("test/common.py",) and plan.score > RED_SCORE


def test_a_focused_codemod_names_each_place_it_declines_and_why(tmp_path: Path):
    (tmp_path / "setup.py").write_text("from setuptools import setup\nsetup(python_requires='>=2.7')\n")
    (tmp_path / "a.py").write_text("def f(x):\n    return isinstance(x, basestring), xrange(3)\n")
    notes = focus_declines(tmp_path, "python2-builtins", ["a.py"])
    assert notes == (
        "python2-builtins declines a.py:2: `basestring` left alone: the project declares Python 2.7, where `str` "
        "is not the same",
    )
    (tmp_path / "b.py").write_text("import pickle\nwith open('m.pkl') as f:\n    f.readline()\n    pickle.load(f)\n")
    assert focus_declines(tmp_path, "open-binary-mode", ["b.py"]) == (
        "open-binary-mode declines b.py:2: `open` left in text mode: `f`: its `.readline` is used (line 3)",
    )
    # A Python 3 only rewrite still says the declared Python is why.
    (tmp_path / "c.py").write_text("class C:\n    def __unicode__(self):\n        return 'c'\n")
    assert focus_declines(tmp_path, "unicode-method", ["c.py"])[0].startswith(
        "unicode-method declines: the project declares Python 2.7"
    )
