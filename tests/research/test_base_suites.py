"""Research runs base's suite on the newest declared and oldest supported Python: failing tests, their causes
(removed standard-library names), modules installed for the tests, and the plan that fixes them first."""

from __future__ import annotations

from pathlib import Path

import pytest

from evolve.configuration.model import EvolveConfig
from evolve.environments.interpreters import Interpreter
from evolve.environments.model import EnvironmentSettings
from evolve.findings import Finding
from evolve.plan.planner import RED_SCORE, PlanningInput, make_plan
from evolve.plan.render import render_plan_table
from evolve.research.base_suites import (
    BaseSuites,
    FailingTest,
    SuiteOnPython,
    failing_tests,
    prove_head,
    research_suites,
    suite_pythons,
    with_test_settings,
)
from evolve.research.diagnosis import diagnose
from evolve.research.suite_imports import distribution_for, missing_modules, module_only_tests_import
from evolve.suites.base_results import BaseResultsCache
from evolve.suites.runs import TestRun


def _interpreter(version: tuple[int, int, int]) -> Interpreter:
    return Interpreter(f"/py/{version[0]}.{version[1]}/bin/python", version, f"/py/{version[0]}.{version[1]}")


MACHINE = tuple(_interpreter((3, minor, 0)) for minor in (13, 12, 11, 10, 9, 8))


def test_the_newest_declared_and_the_oldest_supported_python_are_chosen():
    chosen = suite_pythons(MACHINE, ">=2.7")
    assert [(i.version[:2], role) for i, role in chosen] == [((3, 13), "newest declared"), ((3, 8), "oldest supported")]
    assert [i.version[:2] for i, _ in suite_pythons(MACHINE, ">=3.9,<3.12")] == [(3, 11), (3, 9)]
    assert [i.version[:2] for i, _ in suite_pythons(MACHINE, "==3.10.*")] == [(3, 10)]
    assert suite_pythons(MACHINE, ">=3.14") == ()
    assert len(suite_pythons(MACHINE, "not a specifier")) == 2


@pytest.mark.parametrize(
    ("error", "label", "recipe"),
    [
        (
            "E   AttributeError: module 'collections' has no attribute 'Hashable'",
            "collections.Hashable",
            "collections-abc",
        ),
        (
            "ImportError: cannot import name 'Mapping' from 'collections' (/usr/lib/x.py)",
            "collections.Mapping",
            "collections-abc",
        ),
        (
            "AttributeError: 'MyTests' object has no attribute 'assertEquals'",
            "TestCase.assertEquals",
            "unittest-aliases",
        ),
        ("AttributeError: 'Thread' object has no attribute 'isAlive'", "Thread.isAlive", "removed-stdlib-names"),
        (
            "AttributeError: 'xml.etree.ElementTree.Element' object has no attribute 'getchildren'",
            "Element.getchildren",
            "removed-stdlib-names",
        ),
        ("ModuleNotFoundError: No module named 'imp'", "imp", "removed-stdlib-modules"),
        ("ModuleNotFoundError: No module named 'distutils.core'", "distutils", "removed-stdlib-modules"),
        ("ModuleNotFoundError: No module named 'cgi'", "cgi", "removed-stdlib-modules"),
        (
            "AttributeError: module 'inspect' has no attribute 'getargspec'",
            "inspect.getargspec",
            "removed-stdlib-modules",
        ),
        ("AttributeError: module 'time' has no attribute 'clock'", "time.clock", None),
        (
            "AttributeError: module 'base64' has no attribute 'decodestring'",
            "base64.decodestring",
            "removed-stdlib-names",
        ),
        (
            "ImportError: cannot import name 'SafeConfigParser' from 'configparser'",
            "configparser.SafeConfigParser",
            "removed-stdlib-names",
        ),
    ],
)
def test_a_traceback_is_traced_to_the_removed_name_and_its_recipe(tmp_path: Path, error: str, label: str, recipe):
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "a.py").write_text("x = 1\n" * 20)
    traceback = f"tests/test_a.py:3: in test\n    f()\n{tmp_path}/pkg/a.py:12: in f\n    return g()\n{error}\n"
    found = diagnose(traceback, tmp_path)
    assert found is not None and found.removed.label == label and found.recipe == recipe
    assert (found.path, found.line) == ("pkg/a.py", 12)
    assert "was removed in Python 3." in found.describe() and "pkg/a.py:12" in found.describe()


def test_an_ordinary_failure_has_no_diagnosis(tmp_path: Path):
    assert diagnose("tests/test_a.py:3: in test\nE   AssertionError: 1 != 2\n", tmp_path) is None
    assert diagnose("AttributeError: module 'collections' has no attribute 'frobnicate'", tmp_path) is None


def test_failing_tests_are_read_with_their_tracebacks(tmp_path: Path):
    (tmp_path / "lib.py").write_text("import collections\n" * 6)
    details = (
        "____ tests/test_a.py::test_one ____\nlib.py:5: in f\nE   AttributeError: module 'collections' has no "
        "attribute 'Mapping'\n\n____ tests/test_a.py::test_two ____\nE   assert 1 == 2"
    )
    run = TestRun(
        ("pytest",),
        1,
        False,
        1.0,
        failed=2,
        failing_tests=("tests/test_a.py::test_one", "tests/test_a.py::test_two"),
        failure_details=details,
    )
    found = failing_tests(run, tmp_path)
    assert [test.test_id for test in found] == ["tests/test_a.py::test_one", "tests/test_a.py::test_two"]
    assert found[0].diagnosis is not None and found[0].diagnosis.path == "lib.py"
    assert found[1].diagnosis is None and "assert 1 == 2" in found[1].traceback


def test_a_module_only_the_tests_import_is_named_with_its_distribution(tmp_path: Path):
    (tmp_path / "pkg").mkdir()
    (tmp_path / "tests").mkdir()
    (tmp_path / "pkg" / "__init__.py").write_text("import yaml\n")
    (tmp_path / "tests" / "test_a.py").write_text("import mock\nimport yaml\nimport pkg\nfrom dateutil import tz\n")
    paths = ["pkg/__init__.py", "tests/test_a.py"]
    output = "E   ModuleNotFoundError: No module named 'yaml'\nE   ModuleNotFoundError: No module named 'mock'\n"
    assert missing_modules(output) == ("yaml", "mock")
    assert module_only_tests_import(tmp_path, output, paths) == "mock"  # yaml: the library imports it too
    assert module_only_tests_import(tmp_path, "No module named 'pkg'", paths) is None  # the project's own
    assert distribution_for("dateutil") == "python-dateutil" and distribution_for("yaml") == "PyYAML"


def test_extra_test_requirements_and_the_python_go_into_the_tests_settings():
    config = with_test_settings(EvolveConfig(), "3.13", ["mock"])
    assert config.gates.tests.python == "3.13" and config.gates.tests.install == ["mock"]
    assert with_test_settings(config, None, ["mock"]).gates.tests.install == ["mock"]
    assert with_test_settings(EvolveConfig(), None, []) == EvolveConfig()


def _finding(rule: str, path: str, priority: float) -> Finding:
    return Finding(f"{rule}-{path}", "codemod", rule, path, 3, 3, None, "low", priority, "m")


def test_a_rewrite_that_fixes_failing_tests_outranks_everything_and_reaches_test_modules():
    findings = (
        _finding("requests-timeout", "pkg/net.py", 0.9),
        _finding("collections-abc", "tests/test_compat.py", 0.2),
        _finding("object-base", "pkg/a.py", 0.05),
    )
    themes = {"requests-timeout": "security", "collections-abc": "deprecations", "object-base": "modernize"}
    red = {("collections-abc", "tests/test_compat.py"): ("3.13.0: tests/test_compat.py::test_x",)}
    plan = make_plan(PlanningInput(findings=findings, codemod_themes=themes, red=red))
    assert plan.theme == "deprecations" and plan.files == ("tests/test_compat.py",)
    assert plan.red_tests == ("3.13.0: tests/test_compat.py::test_x",) and plan.score > RED_SCORE
    assert plan.title == "Fix 1 test failing on Python 3.13.0"
    # Without the failing test, the test module stays out of the default scope.
    plain = make_plan(PlanningInput(findings=findings, codemod_themes=themes))
    assert plain.theme == "security" and plain.red_tests == ()


def test_a_fix_the_plan_cannot_make_is_said_with_the_reason():
    red = {("collections-abc", "pkg/a.py"): ("3.13.0: t",)}
    themes = {"collections-abc": "deprecations"}
    plan = make_plan(PlanningInput(findings=(), codemod_themes=themes, red=red))
    assert any("collections-abc found nothing it can rewrite in pkg/a.py" in note for note in plan.notes)
    disabled = make_plan(PlanningInput(findings=(), codemod_themes=themes, red=red, enabled_codemods=frozenset()))
    assert any("disabled by the configuration" in note for note in disabled.notes)
    focused = make_plan(
        PlanningInput(
            findings=(_finding("collections-abc", "pkg/a.py", 0.2),), codemod_themes=themes, red=red, focus="x"
        )
    )
    assert any("unknown focus" in note for note in focused.notes)


def test_base_suites_say_what_they_saw_and_what_no_recipe_fixes(tmp_path: Path):
    (tmp_path / "a.py").write_text("import formatter\n")
    traceback = f"{tmp_path}/a.py:1: in <module>\nE   ModuleNotFoundError: No module named 'formatter'"
    test = FailingTest("tests/test_a.py::test_x", traceback, diagnose(traceback, tmp_path))
    suites = BaseSuites(
        (
            SuiteOnPython("3.13.0", "newest declared", ran=True, passed=4, errors=1, failing=(test,)),
            SuiteOnPython("3.8.18", "oldest supported", note="could not build the test environment: x"),
        ),
    )
    assert suites.red_fixes() == {}
    assert suites.unfixable() == (
        "tests/test_a.py::test_x on Python 3.13.0: formatter was removed in Python 3.10 (use nothing: vendor the "
        "module), at a.py:1; "
        "no recipe rewrites it safely",
    )
    text = "\n".join(suites.lines())
    assert "Python 3.13.0 (newest declared): 4 passed, 0 failed, 1 errors" in text
    assert "Python 3.8.18 (oldest supported): did not run: could not build" in text
    plan = make_plan(PlanningInput(findings=()))
    assert "Base's test suite:" not in render_plan_table(plan)


PROJECT = {
    "setup.py": "from setuptools import setup\nsetup(name='tagger', version='1.0', packages=['tagger'])\n",
    "tagger/__init__.py": "import collections\n\n\ndef is_tag(tag):\n    return isinstance(tag, collections.Hashable)\n",
    "tests/test_tagger.py": (
        "import unittest\n\nimport mock\n\nfrom tagger import is_tag\n\n\nclass T(unittest.TestCase):\n"
        "    def test_is_tag(self):\n        self.assertTrue(is_tag('a'))\n\n"
        "    def test_mock(self):\n        self.assertTrue(mock.Mock())\n"
    ),
}
FIXED = "import collections.abc\n\n\ndef is_tag(tag):\n    return isinstance(tag, collections.abc.Hashable)\n"


def test_research_runs_base_on_two_pythons_installs_mock_and_head_is_proven(tmp_path_factory: pytest.TempPathFactory):
    """Real environments (uv), real sandboxed suites: the newest and oldest Python on this machine."""
    tmp_path = tmp_path_factory.mktemp("project")
    for path, text in PROJECT.items():
        (tmp_path / path).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / path).write_text(text)
    settings = EnvironmentSettings(data_dir=tmp_path_factory.mktemp("evolve-data"))
    cache = BaseResultsCache(tmp_path_factory.mktemp("cache"))
    suites = research_suites(tmp_path, "a" * 40, EvolveConfig(), settings, cache=cache)
    assert suites.installed == ("mock",) and "declare mock" in suites.notes[0]
    newest = suites.runs[0]
    assert newest.ran and newest.role == "newest declared" and newest.passed == 1
    assert tuple(newest.python.split(".")[:2]) >= ("3", "10")
    assert [test.test_id for test in newest.failing] == ["test_tagger.T.test_is_tag"]
    fixes = suites.red_fixes()  # the gates' Python (3.10+) fails it too when it is another one
    assert list(fixes) == [("collections-abc", "tagger/__init__.py")]
    assert f"{newest.python}: test_tagger.T.test_is_tag" in fixes[("collections-abc", "tagger/__init__.py")]
    oldest = [run for run in suites.runs if run.role == "oldest supported"]
    if oldest and oldest[0].python < "3.10":  # 3.8 and 3.9 still have collections.Hashable
        assert oldest[0].ran and oldest[0].failing == () and oldest[0].passed == 2
    again = research_suites(tmp_path, "a" * 40, EvolveConfig(), settings, cache=cache)
    assert all(run.from_cache for run in again.runs) and again.runs[0].failing == newest.failing

    (tmp_path / "tagger" / "__init__.py").write_text(FIXED)
    proof = prove_head(tmp_path, EvolveConfig(), settings, suites)
    assert proof.regressions == () and f"{newest.python}: test_tagger.T.test_is_tag" in proof.fixed
    assert f"1 test that fails on Python {newest.python} on base passes with this change" in "\n".join(proof.lines)

    (tmp_path / "tests" / "test_tagger.py").write_text(PROJECT["tests/test_tagger.py"].replace("mock.Mock()", "False"))
    broken = prove_head(tmp_path, EvolveConfig(), settings, suites)
    assert any(test.endswith("test_tagger.T.test_mock") for test in broken.regressions)


def test_a_python_left_when_the_time_for_base_suites_is_spent_is_not_run_and_says_so(
    tmp_path_factory: pytest.TempPathFactory,
):
    tmp_path = tmp_path_factory.mktemp("project")
    for path, text in PROJECT.items():
        (tmp_path / path).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / path).write_text(text)
    settings = EnvironmentSettings(data_dir=tmp_path_factory.mktemp("evolve-data"))
    suites = research_suites(tmp_path, "b" * 40, EvolveConfig(), settings, budget=0.001)
    assert suites.runs and not any(run.ran for run in suites.runs)
    assert all(
        "the time for base's suites (0.001 s, EVOLVE_BASE_SUITES_SECONDS) was spent" in run.note for run in suites.runs
    )
    assert "did not run: not run: the time" not in "\n".join(suites.lines())


def test_docs_importing_a_module_do_not_make_it_the_librarys(tmp_path: Path):
    (tmp_path / "docs").mkdir()
    (tmp_path / "tests").mkdir()
    (tmp_path / "docs" / "conf.py").write_text("import pkg_resources\n")
    (tmp_path / "tests" / "conftest.py").write_text("import pkg_resources\n")
    paths = ["docs/conf.py", "tests/conftest.py"]
    assert module_only_tests_import(tmp_path, "No module named 'pkg_resources'", paths) == "pkg_resources"
    assert distribution_for("pkg_resources") == "setuptools<81"  # the last setuptools that ships it


def test_base_that_cannot_start_counts_what_fails_on_base_elsewhere():
    from evolve.engine.attempts import with_known_failing

    interrupted = TestRun(("python", "-m", "pytest"), 2, False, 1.0, errors=2, failing_tests=("test/test_a.py",))
    merged = with_known_failing(interrupted, frozenset({"test/test_b.py::test_x"}))
    assert merged.failing_tests == ("test/test_a.py", "test/test_b.py::test_x")
    ran = TestRun(("python", "-m", "pytest"), 1, False, 1.0, passed=3, failed=1, failing_tests=("t::a",))
    assert with_known_failing(ran, frozenset({"t::b"})) is ran


def test_a_focused_codemod_that_declines_says_why_and_where(tmp_path: Path):
    from evolve.research.declines import focus_declines

    (tmp_path / "setup.py").write_text("from setuptools import setup\nsetup(python_requires='>=2.7')\n")
    (tmp_path / "a.py").write_text("class A(object):\n    pass\n")
    notes = focus_declines(tmp_path, "object-base", ["a.py"])
    assert len(notes) == 1 and notes[0].startswith("object-base declines: the project declares Python 2.7")
    assert "a.py:1" in notes[0]
    assert focus_declines(tmp_path, "collections-abc", ["a.py"]) == ()  # it writes the Python 2 form instead


def test_a_recipe_that_leaves_a_use_alone_names_the_line_the_reason_and_the_drop_in(tmp_path: Path):
    from evolve.research.declines import recipe_declines

    (tmp_path / "setup.py").write_text("from setuptools import setup\nsetup(python_requires='>=2.7')\n")
    (tmp_path / "compat.py").write_text(
        "from cgi import parse_header\nimport cgi\n\n\nclass Storage(cgi.FieldStorage):\n    pass\nMini = cgi.MiniFieldStorage\n"
    )
    (tmp_path / "fine.py").write_text("import shlex\n")
    notes = recipe_declines(tmp_path, ["removed-stdlib-modules"], ["compat.py", "fine.py"])
    assert notes == (
        "removed-stdlib-modules leaves compat.py alone: `cgi.FieldStorage` (line 5), `cgi.MiniFieldStorage` (line 7): "
        "`cgi` was removed in Python 3.13 and this has no standard-library replacement; `legacy-cgi` on PyPI is a "
        'copy of the module: declare `legacy-cgi; python_version >= "3.13"`',
    )
    assert recipe_declines(tmp_path, ["deprecations"], ["compat.py"]) == notes  # the theme names it too
    (tmp_path / "many.py").write_text("import asyncore\n" + "asyncore.loop()\n" * 7)
    (many,) = recipe_declines(tmp_path, ["removed-stdlib-modules"], ["many.py"])
    assert many.startswith("removed-stdlib-modules leaves many.py alone: `asyncore.loop` (line 2), ")
    assert "`asyncore.loop` (line 6) and 2 more: `asyncore` was removed in Python 3.12" in many
    assert recipe_declines(tmp_path, ["collections-abc"], ["compat.py"]) == ()


def test_a_removed_name_used_inside_an_installed_package_is_blamed_on_it(tmp_path: Path):
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "test_signals.py").write_text("import gc\n" * 10)
    traceback = (
        f"{tmp_path}/tests/test_signals.py:7: in <module>\n    from nose.tools import assert_raises\n"
        "/env/lib/python3.13/site-packages/nose/importer.py:12: in <module>\n    from imp import find_module\n"
        "E   ModuleNotFoundError: No module named 'imp'\n"
    )
    found = diagnose(traceback, tmp_path)
    assert found is not None and found.dependency == "nose" and found.path is None
    assert "inside the installed package nose" in found.describe()


def test_an_optional_library_import_leaves_the_module_to_the_tests(tmp_path: Path):
    (tmp_path / "pkg").mkdir()
    (tmp_path / "tests").mkdir()
    (tmp_path / "pkg" / "__main__.py").write_text("try:\n    import yaml\nexcept ImportError:\n    yaml = None\n")
    (tmp_path / "tests" / "__init__.py").write_text("import yaml\n")
    paths = ["pkg/__main__.py", "tests/__init__.py"]
    assert module_only_tests_import(tmp_path, "No module named 'yaml'", paths) == "yaml"
    (tmp_path / "pkg" / "__main__.py").write_text("import yaml\n")
    assert module_only_tests_import(tmp_path, "No module named 'yaml'", paths) is None


def test_every_failing_test_counts_even_past_the_capped_tracebacks(tmp_path: Path):
    details = "____ t::a ____\nE   assert 0"
    run = TestRun(("pytest",), 1, False, 1.0, failed=3, failing_tests=("t::a", "t::b", "t::c"), failure_details=details)
    found = failing_tests(run, tmp_path)
    assert [test.test_id for test in found] == ["t::a", "t::b", "t::c"]
    assert "assert 0" in found[0].traceback and found[2].traceback == ""


def test_the_same_removed_name_elsewhere_ships_with_the_red_fix():
    findings = (
        _finding("collections-abc", "pkg/headers.py", 0.6),
        _finding("collections-abc", "pkg/cookies.py", 0.6),
        _finding("requests-timeout", "pkg/net.py", 0.9),
    )
    themes = {"collections-abc": "deprecations", "requests-timeout": "security"}
    red = {("collections-abc", "pkg/headers.py"): ("3.11.7: tests/test_a.py",)}
    plan = make_plan(PlanningInput(findings=findings, codemod_themes=themes, red=red))
    assert plan.files == ("pkg/cookies.py", "pkg/headers.py") and plan.theme == "deprecations"


def test_another_removal_in_the_failing_file_ships_with_the_red_fix():
    """A module stops importing at its first removed name: the traceback names only that one."""
    findings = (
        _finding("removed-stdlib-modules", "bottle.py", 0.6),
        _finding("collections-abc", "bottle.py", 0.3),
        _finding("collections-abc", "other.py", 0.3),
        _finding("logging-warn", "other.py", 0.9),
    )
    themes = {
        "removed-stdlib-modules": "deprecations",
        "collections-abc": "deprecations",
        "logging-warn": "deprecations",
    }
    red = {("removed-stdlib-modules", "bottle.py"): ("3.11.7: test_a",)}
    plan = make_plan(PlanningInput(findings=findings, codemod_themes=themes, red=red))
    assert {(t.codemod, t.path) for t in plan.tasks} >= {
        ("removed-stdlib-modules", "bottle.py"),
        ("collections-abc", "bottle.py"),
    }
    assert [t.codemod for t in plan.tasks][:2] == ["removed-stdlib-modules", "collections-abc"]


def test_a_red_recipe_also_reaches_test_modules_while_other_recipes_stay_out():
    findings = (
        _finding("collections-abc", "pkg/headers.py", 0.6),
        _finding("collections-abc", "tests/test_range.py", 0.6),
        _finding("removed-stdlib-names", "tests/test_other.py", 0.6),
    )
    themes = {"collections-abc": "deprecations", "removed-stdlib-names": "deprecations"}
    red = {("collections-abc", "pkg/headers.py"): ("3.11.7: tests/test_a.py",)}
    plan = make_plan(PlanningInput(findings=findings, codemod_themes=themes, red=red))
    assert plan.files == ("pkg/headers.py", "tests/test_range.py")


def test_a_module_that_failed_to_load_is_named_as_a_module_not_counted_as_a_test():
    from evolve.wording import tests_text

    # tabulate 0.8.2 on 3.13: five modules failed to import and seven CLI tests failed; 132 tests pass with the fix
    ids = ["test/test_api.py", "test/test_cli.py::test_script_sep_option", "test/test_input.py"]
    assert tests_text(ids) == "1 test and 2 test modules"
    assert tests_text(["test_tagger.T.test_is_tag"]) == "1 test"  # unittest ids have no `::`
    assert tests_text(["test/test_api.py"]) == "1 test module"
