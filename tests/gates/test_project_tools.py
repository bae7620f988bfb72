"""The types and lint gates run the project's own mypy and flake8 (from the environment Evolve built for it),
see its installed packages, fall back to Evolve's install and say so, and run pyright when it can."""

from __future__ import annotations

import shutil

import pytest

from evolve.configuration.model import EvolveConfig
from evolve.environments.model import Environment, EnvironmentSettings
from evolve.environments.prepare import prepare_environment
from evolve.project_rules.model import MypyRules
from evolve.project_rules.project_tools import PyrightUnavailable, choose_pyright, choose_python_tool
from evolve.project_rules.types_run import TypeCheck, run_mypy
from evolve.results import Errored
from gates.lint_gate import LintGate
from gates.types_gate import CheckerRun, TypesGate, judge_types

# tomli is typed (py.typed): `tomli.loads(b"...")` is an arg-type error only for a mypy that sees it installed.
USES_TOMLI = "import tomli\n\n\ndef settings(text: str) -> dict:\n    return tomli.loads(text)\n"
MISUSES_TOMLI = USES_TOMLI.replace("tomli.loads(text)", 'tomli.loads(text.encode("utf-8"))')
MYPY_INI = "[mypy]\nfiles = pkg\n"


def _environment(make_trees, settings, requirements: str, base: dict[str, str], head: dict[str, str]):
    files = {"requirements-test.txt": requirements, "tests/test_nothing.py": "def test_x():\n    pass\n", **base}
    trees = make_trees(files, head)
    built = prepare_environment(trees.base, EvolveConfig(), settings)
    assert isinstance(built, Environment), built
    return trees, built


@pytest.fixture(scope="module")
def settings(tmp_path_factory) -> EnvironmentSettings:
    return EnvironmentSettings(data_dir=tmp_path_factory.mktemp("evolve-data"))


def test_the_projects_own_mypy_runs_and_sees_its_installed_packages(make_trees, settings):
    trees, built = _environment(
        make_trees,
        settings,
        "pytest\nmypy\ntomli\n",
        {"mypy.ini": MYPY_INI, "pkg/__init__.py": "", "pkg/conf.py": USES_TOMLI},
        {"pkg/conf.py": MISUSES_TOMLI},
    )
    install = choose_python_tool("mypy", built)
    assert install is not None and install.from_project and install.python == built.python
    result = TypesGate().evaluate(trees.context(environments={"base": built, "head": built}))
    assert result.status == "failed", result.summary
    assert "arg-type" in result.details and result.blame == ("pkg/conf.py",)
    assert f"the project's mypy {install.version}" in result.summary


def test_evolves_mypy_is_the_fallback_said_so_and_still_sees_the_projects_packages(make_trees, settings):
    trees, built = _environment(
        make_trees,
        settings,
        "pytest\ntomli\n",
        {"mypy.ini": MYPY_INI, "pkg/__init__.py": "", "pkg/conf.py": USES_TOMLI},
        {"pkg/conf.py": MISUSES_TOMLI},
    )
    result = TypesGate().evaluate(trees.context(environments={"base": built, "head": built}))
    assert result.status == "failed", result.summary
    assert "arg-type" in result.details  # tomli's types came from the project's site-packages
    assert "Evolve's mypy" in result.summary
    assert "the project's environment does not install mypy" in result.details


def test_the_projects_flake8_runs_with_the_plugins_its_environment_installs(make_trees, settings):
    base = "def add(item, items=None):\n    return [*(items or []), item]\n"
    trees, built = _environment(
        make_trees,
        settings,
        "pytest\nflake8\nflake8-bugbear\n",
        {"setup.cfg": "[flake8]\nmax-line-length = 100\n", "pkg/__init__.py": "", "pkg/core.py": base},
        {"pkg/core.py": "def add(item, items=[]):\n    return [*items, item]\n"},
    )
    result = LintGate().evaluate(trees.context(environments={"base": built, "head": built}))
    assert result.status == "failed", result.summary
    assert "B006" in result.details  # flake8-bugbear: installed only in the project's environment
    assert "the project's flake8" in result.summary


def test_without_an_environment_evolves_tools_run_and_the_detail_says_why(make_trees):
    trees = make_trees(
        {"setup.cfg": "[flake8]\nmax-line-length = 100\n", "pkg/core.py": "X = 1\n"},
        {"pkg/core.py": "X = 1 \n"},
    )
    result = LintGate().evaluate(trees.context())
    assert result.status == "failed" and "W291" in result.details
    assert "no project environment was prepared for this run" in result.details


PYRIGHT_CONFIG = '{"include": ["pkg"]}\n'
TYPED = (
    "def double(x: int) -> int:\n    return x * 2\n\n\ndef label(n: int) -> str:\n    return 'n=' + str(double(n))\n"
)


@pytest.mark.skipif(shutil.which("node") is None, reason="pyright needs Node.js (.ci/run installs nodejs)")
def test_pyright_runs_when_the_project_configures_it(make_trees):
    chosen = choose_pyright(None)
    assert not isinstance(chosen, PyrightUnavailable), chosen.reason  # Evolve's dev install bundles pyright
    trees = make_trees(
        {"pyrightconfig.json": PYRIGHT_CONFIG, "pkg/__init__.py": "", "pkg/calc.py": TYPED},
        {"pkg/calc.py": TYPED.replace("'n=' + str(double(n))", "'n=' + double(n)")},
    )
    result = TypesGate().evaluate(trees.context())
    assert result.status == "failed", result.summary
    assert "pyright reportOperatorIssue in pkg/calc.py" in result.summary
    assert "pyright (pyrightconfig.json, Evolve's pyright" in result.summary


@pytest.mark.skipif(shutil.which("node") is None, reason="pyright needs Node.js (.ci/run installs nodejs)")
def test_pyright_and_mypy_both_configured_both_run(make_trees):
    trees = make_trees(
        {"pyrightconfig.json": PYRIGHT_CONFIG, "mypy.ini": "[mypy]\n", "pkg/__init__.py": "", "pkg/calc.py": TYPED},
        {"pkg/calc.py": '"""Calc."""\n\n' + TYPED},
    )
    result = TypesGate().evaluate(trees.context())
    assert result.status == "passed", result.summary
    assert "mypy (mypy.ini" in result.summary and "pyright (pyrightconfig.json" in result.summary


def test_a_missing_checker_is_cannot_check_not_evidence_against_the_edit(tmp_path):
    missing = run_mypy(tmp_path, ["pkg/calc.py"], MypyRules(source="mypy.ini"), install=None)
    assert missing.unavailable
    result = judge_types([CheckerRun("mypy (mypy.ini)", TypeCheck(()), missing)], [], [])
    assert isinstance(result, Errored) and result.cannot_check
    assert "installed neither in the project's environment nor in Evolve's" in result.summary


@pytest.mark.skipif(shutil.which("node") is None, reason="pyright needs Node.js (.ci/run installs nodejs)")
def test_evolves_pyright_resolves_imports_in_the_projects_environment(make_trees, settings):
    trees, built = _environment(
        make_trees,
        settings,
        "pytest\ntomli\n",
        {"pyrightconfig.json": PYRIGHT_CONFIG, "pkg/__init__.py": "", "pkg/conf.py": USES_TOMLI},
        {"pkg/conf.py": MISUSES_TOMLI},
    )
    result = TypesGate().evaluate(trees.context(environments={"base": built, "head": built}))
    assert result.status == "failed", result.summary
    assert "reportArgumentType" in result.details  # tomli's signature came from the project's site-packages
    assert "the project's environment does not install pyright" in result.details


def test_a_project_whose_mypy_runs_in_parallel_is_still_checked(tmp_path):
    # humanize 4.17 sets `num_workers = 4`: with the cache off that was "Cache must be enabled in parallel mode".
    (tmp_path / "pyproject.toml").write_text("[tool.mypy]\nstrict = true\nnum_workers = 4\n")
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "calc.py").write_text("def label(n: int) -> str:\n    return n\n")
    install = choose_python_tool("mypy", None)
    assert install is not None
    result = run_mypy(tmp_path, ["pkg/calc.py"], MypyRules(source="pyproject.toml"), install=install)
    assert result.error is None, result.error
    assert [(v.path, v.code) for v in result.violations] == [("pkg/calc.py", "return-value")]
