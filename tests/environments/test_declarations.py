"""Discovery of a project's declared test environment, from file texts only."""

from __future__ import annotations

from evolve.environments.declarations import dependency_group, discover
from evolve.environments.poetry import poetry_constraint
from evolve.environments.requirements_files import read_requirement_file

PEP621 = """
[build-system]
requires = ["hatchling"]
build-backend = "hatchling.build"
[project]
name = "demo"
requires-python = ">=3.9"
[project.optional-dependencies]
test = ["pytest>=7", "pretend"]
docs = ["sphinx"]
"""


def test_dependency_groups_with_include_group_and_test_names_over_dev():
    files = {
        "pyproject.toml": """
[dependency-groups]
lint = ["ruff"]
test = ["pytest", {include-group = "typing"}, "hypothesis>=6"]
typing = ["mypy", {include-group = "test"}]
dev = ["black"]
"""
    }
    declared = discover(files)
    assert declared.requirements == ("pytest", "mypy", "hypothesis>=6")
    assert "black" not in declared.requirements and "ruff" not in declared.requirements
    assert declared.sources == ("pyproject.toml [dependency-groups] test",)
    assert not declared.install_self  # no packaging metadata
    assert declared.declares_runner


def test_dev_group_used_when_no_test_group():
    groups = {"dev": ["pytest", "PyYAML"], "docs": ["sphinx"]}
    assert discover({"pyproject.toml": '[dependency-groups]\ndev = ["pytest", "PyYAML"]\n'}).requirements == (
        "pytest",
        "PyYAML",
    )
    assert dependency_group(groups, "Dev") == ["pytest", "PyYAML"]


def test_optional_dependency_extras_install_the_project_with_them():
    declared = discover({"pyproject.toml": PEP621})
    assert declared.install_self and declared.extras == ("test",)
    assert declared.requires_python == ">=3.9"
    assert declared.files == ("pyproject.toml",)


def test_requirement_files_with_includes_inside_the_tree_only():
    files = {
        "requirements-test.txt": "-r requirements/base.txt\n-r ../../etc/passwd\npytest==8.0 --hash=sha256:abc  # pinned\n"
        "--index-url https://evil.example/simple\n-e .[tests]\n./plugins/helper\n",
        "requirements/base.txt": "attrs>=22\n-c constraints.txt\n",
        "requirements/constraints.txt": "attrs<24\n",
    }
    found = read_requirement_file(files, "requirements-test.txt")
    assert found.requirements == ("attrs>=22", "pytest==8.0", "./plugins/helper")
    assert found.constraints == ("attrs<24",)
    assert found.installs_self and found.self_extras == ("tests",)
    assert any("outside the repository" in d for d in found.dropped)
    assert any("--index-url" in d for d in found.dropped)
    declared = discover({**files, "setup.py": "from setuptools import setup\nsetup(name='x')\n"})
    assert declared.install_self and declared.extras == ("tests",)
    assert set(declared.files) >= {"setup.py", "requirements-test.txt", "requirements/base.txt"}


def test_tox_deps_extras_factors_and_references_of_the_env_that_runs_tests():
    tox = """
[tox]
envlist = py3{9,10}, lint
[base]
deps = attrs
[testenv]
deps =
    {[base]deps}
    pytest
    py39: importlib-metadata
    !py39: tomli
    -r{toxinidir}/requirements/tox.txt
    {env:EXTRA_DEP:}
extras = yaml
commands = pytest {posargs}
[testenv:lint]
deps = flake8
commands = flake8
"""
    files = {"tox.ini": tox, "requirements/tox.txt": "pretend\n", "setup.py": "setup()"}
    declared = discover(files)
    assert declared.requirements == ("attrs", "pytest", "tomli", "pretend")
    assert "flake8" not in declared.requirements
    assert declared.extras == ("yaml",)
    assert declared.sources[-1] == "tox.ini [testenv]"
    assert any("placeholder" in d for d in declared.dropped)


def test_tox_in_setup_cfg_and_legacy_pyproject_and_skip_install():
    cfg = "[metadata]\nname = x\n[tox:tox]\nenvlist = py\n[testenv]\ndeps = pretend\nskip_install = true\ncommands = python -m pytest\n"
    declared = discover({"setup.cfg": cfg})
    assert declared.requirements == ("pretend",) and not declared.install_self
    legacy = '[tool.tox]\nlegacy_tox_ini = """\n[testenv:unit]\ndeps = railroad\ncommands = pytest tests\n"""\n'
    assert discover({"pyproject.toml": legacy}).requirements == ("railroad",)


def test_nox_session_install_arguments_are_parsed_never_imported():
    noxfile = """
import nox
import os
os.system("touch /tmp/pwned")
DEPS = ["pretend", "freezegun"]

@nox.session(python=["3.11"])
def lint(session):
    session.install("ruff")
    session.run("ruff", "check")

@nox.session
def tests(session):
    session.install("-e", ".[test]")
    session.install(*DEPS, "-r", "requirements-nox.txt")
    session.run("pytest", *session.posargs)
"""
    files = {"noxfile.py": noxfile, "requirements-nox.txt": "PyYAML\n", "pyproject.toml": PEP621}
    declared = discover(files)
    assert declared.requirements == ("pretend", "freezegun", "PyYAML")
    assert set(declared.extras) == {"test"}
    assert "noxfile.py session tests" in declared.sources


def test_hatch_envs_and_poetry_groups():
    hatch = (
        PEP621 + '[tool.hatch.envs.default]\ndependencies = ["coverage[toml]", "pytest-mock"]\nfeatures = ["docs"]\n'
    )
    declared = discover({"pyproject.toml": hatch})
    assert declared.requirements == ("coverage[toml]", "pytest-mock")
    assert set(declared.extras) == {"test", "docs"}
    poetry = """
[tool.poetry]
name = "p"
[tool.poetry.dependencies]
python = "^3.8"
[tool.poetry.group.test.dependencies]
pytest = "^7.2"
pretend = "*"
helper = {path = "libs/helper"}
yaml = {version = "~6.0", extras = ["c"]}
[tool.poetry.dev-dependencies]
black = "22.1"
"""
    declared = discover({"pyproject.toml": poetry})
    assert declared.requirements == ("pytest>=7.2,<8", "pretend", "./libs/helper", "yaml[c]>=6.0,<6.1", "black==22.1")
    assert declared.requires_python == ">=3.8,<4" and declared.install_self
    assert poetry_constraint("^0.2.3") == ">=0.2.3,<0.3"


def test_setup_cfg_and_setup_py_extras_and_tests_require():
    cfg = "[metadata]\nname = x\n[options]\npython_requires = >=3.7\n[options.extras_require]\ntesting = pytest\n"
    declared = discover({"setup.cfg": cfg})
    assert declared.extras == ("testing",) and declared.requires_python == ">=3.7"
    setup_py = "from setuptools import setup\nsetup(name='x', python_requires='>=3.8', tests_require=['mock'], extras_require={'tests': ['pytest'], **other})\n"
    declared = discover({"setup.py": setup_py})
    assert declared.requirements == ("mock",) and declared.requires_python == ">=3.8"


def test_invalid_requirements_and_option_injection_are_dropped():
    declared = discover(
        {"pyproject.toml": '[dependency-groups]\ntest = ["--index-url=http://evil", "ok-pkg", "not valid!!"]\n'}
    )
    assert declared.requirements == ("ok-pkg",)
    assert len(declared.dropped) == 2


def test_ci_output_plugins_are_left_out():
    # sqlparse 0.2.4: tox's deps name pytest-travis-fold, which stops today's pytest at startup (`py.builtin`).
    tox = "[testenv]\ndeps =\n    pytest\n    pytest-cov\n    pytest-travis-fold\ncommands = pytest tests\n"
    declared = discover({"tox.ini": tox})
    assert "pytest-travis-fold" not in declared.requirements and "pytest" in declared.requirements
    assert any("pytest-travis-fold" in why and "CI service" in why for why in declared.dropped)


def test_broken_files_declare_nothing():
    declared = discover({"pyproject.toml": "[[[", "tox.ini": "no section", "noxfile.py": "def (:"})
    assert declared.requirements == () and not declared.install_self


def test_pytest_plugins_the_configuration_cannot_start_without():
    pyproject = '[tool.pytest.ini_options]\naddopts = "--cov=parse --cov-report=term -n 2 --doctest-modules"\nrequired_plugins = "pytest-mock>=3"\n'
    assert discover({"pyproject.toml": pyproject}).pytest_plugins == ("pytest-mock>=3", "pytest-cov", "pytest-xdist")
    cfg = "[tool:pytest]\naddopts = --timeout=30\n"
    assert discover({"setup.cfg": cfg}).pytest_plugins == ("pytest-timeout",)
    assert discover({"pytest.ini": "[pytest]\naddopts = -ra\n"}).pytest_plugins == ()


def test_an_extra_that_lists_the_runner_is_used_when_none_is_named_for_tests():
    pyproject = '[project]\nname = "idna"\n[project.optional-dependencies]\nall = ["ruff", "pytest>=8", "hypothesis"]\ncli = ["click"]\n'
    assert discover({"pyproject.toml": pyproject}).extras == ("all",)
    groups = '[dependency-groups]\nci = ["pytest", "pretend"]\nlint = ["ruff"]\n'
    assert discover({"pyproject.toml": groups}).requirements == ("pytest", "pretend")
