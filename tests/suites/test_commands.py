"""Detecting how a repository runs its tests, from each place a project may say so."""

from __future__ import annotations

import pytest

from evolve.environments.test_commands import TestCommand, detect_test_command, parse_command
from tests.gates.builders import write_files

A_TEST = {"tests/test_a.py": "def test_a():\n    assert True\n"}


def detect(tmp_path, files, configured=None):
    """Write `files` into a fresh repository and detect its test command."""
    write_files(tmp_path, files)
    return detect_test_command(tmp_path, configured)


def test_configured_command_wins(tmp_path):
    found = detect(
        tmp_path, {**A_TEST, "tox.ini": "[testenv]\ncommands = pytest tests/unit\n"}, "pytest -x 'tests/my dir'"
    )
    assert found == TestCommand("pytest", ("-x", "tests/my dir"), "configured")


def test_configured_non_python_command_runs_as_is(tmp_path):
    assert detect(tmp_path, {}, "make check") == TestCommand("other", ("make", "check"), "configured")


def test_no_tests_at_all(tmp_path):
    assert detect(tmp_path, {"pkg/mod.py": "x = 1\n", "pyproject.toml": "[project]\nname = 'p'\n"}) is None


def test_pyproject_pytest_section(tmp_path):
    found = detect(tmp_path, {**A_TEST, "pyproject.toml": "[tool.pytest.ini_options]\naddopts = '-ra'\n"})
    assert found == TestCommand("pytest", (), "pyproject.toml")


def test_pyproject_pytest_dependency(tmp_path):
    toml = "[project]\nname = 'p'\n[project.optional-dependencies]\ntest = ['pytest>=7', 'pytest-mock']\n"
    assert detect(tmp_path, {**A_TEST, "pyproject.toml": toml}).source == "pyproject.toml"


def test_tox_extracts_the_runner_not_tox(tmp_path):
    tox = """
        [tox]
        envlist = py311
        [testenv]
        deps = pytest
        commands =
            python -m pip list
            - coverage run -m pytest --cov=pkg --junitxml out.xml {posargs:tests} -k "not slow"
    """
    found = detect(tmp_path, {**A_TEST, "tox.ini": tox})
    assert found == TestCommand("pytest", ("tests", "-k", "not slow"), "tox.ini")


def test_tox_unittest(tmp_path):
    found = detect(tmp_path, {**A_TEST, "tox.ini": "[testenv]\ncommands = python -m unittest discover -s tests\n"})
    assert found == TestCommand("unittest", ("discover", "-s", "tests"), "tox.ini")


def test_setup_cfg(tmp_path):
    found = detect(tmp_path, {**A_TEST, "setup.cfg": "[metadata]\nname = p\n[tool:pytest]\ntestpaths = tests\n"})
    assert found == TestCommand("pytest", (), "setup.cfg")


def test_noxfile(tmp_path):
    noxfile = """
        import nox

        @nox.session
        def tests(session):
            session.install("-e", ".")
            session.run("pytest", "tests", "-q", *session.posargs)
    """
    found = detect(tmp_path, {**A_TEST, "noxfile.py": noxfile})
    assert found == TestCommand("pytest", ("tests", "-q"), "noxfile.py")


def test_pytest_ini(tmp_path):
    assert detect(tmp_path, {**A_TEST, "pytest.ini": "[pytest]\n"}).source == "pytest.ini"


def test_bare_tests_directory_means_pytest(tmp_path):
    assert detect(tmp_path, A_TEST) == TestCommand("pytest", (), "layout")


def test_test_files_at_top_level_mean_pytest(tmp_path):
    assert detect(tmp_path, {"test_top.py": "def test_x():\n    pass\n"}).runner == "pytest"


def test_unittest_only_layout(tmp_path):
    files = {"tests/test_u.py": "import unittest\n\nclass T(unittest.TestCase):\n    def test_x(self):\n        pass\n"}
    assert detect(tmp_path, files) == TestCommand("unittest", ("discover", "-s", "tests"), "layout")


def test_unittest_package_layout(tmp_path):
    files = {"tests/__init__.py": "", "tests/test_u.py": "import unittest\n\nclass T(unittest.TestCase):\n    pass\n"}
    assert detect(tmp_path, files) == TestCommand("unittest", ("discover",), "layout")


def test_virtualenvs_do_not_count_as_tests(tmp_path):
    assert detect(tmp_path, {".venv/lib/site-packages/x/test_x.py": "def test_x():\n    pass\n"}) is None


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["py.test", "-q"], ("pytest", ("-q",))),
        (["python3.11", "-X", "dev", "-m", "pytest", "tests"], ("pytest", ("tests",))),
        (["coverage", "run", "--parallel", "-m", "pytest", "-n", "4", "tests"], ("pytest", ("tests",))),
        (["python", "-m", "unittest", "-v"], ("unittest", ("-v",))),
        (["tox", "-e", "py"], None),
    ],
)
def test_parse_command(argv, expected):
    found = parse_command(argv, "x")
    assert (found.runner, found.args) == expected if expected else found is None


def test_unparsable_configured_command_says_which_setting(tmp_path):
    with pytest.raises(ValueError, match="gates.tests.command"):
        detect_test_command(tmp_path, "pytest 'unclosed")


def test_tox_placeholders_substituted_or_the_command_dropped(tmp_path):
    tox = """
        [base]
        pytest_args = -p no:randomly
        [testenv]
        commands =
            pytest {envsitepackagesdir}/pkg
            {envpython} -m pytest {toxinidir}/tests --basetemp={envtmpdir} {[base]pytest_args} {posargs:-q} --rootdir {envdir}
    """
    found = detect(tmp_path, {**A_TEST, "tox.ini": tox})
    # the first line tests the installed copy (unknowable outside tox): dropped; the second one is mapped
    assert found == TestCommand("pytest", ("./tests", "-p", "no:randomly", "-q"), "tox.ini")


def test_tox_in_setup_cfg_and_pyproject_legacy_ini(tmp_path):
    cfg = "[tox:tox]\nenvlist = py\n[testenv]\ncommands = python -m pytest {posargs:tests/unit}\n"
    assert detect(tmp_path / "a", {**A_TEST, "setup.cfg": cfg}) == TestCommand("pytest", ("tests/unit",), "setup.cfg")
    legacy = '[tool.tox]\nlegacy_tox_ini = """\n[testenv]\ncommands = {envpython} -m unittest discover -s tests\n"""\n'
    found = detect(tmp_path / "b", {**A_TEST, "pyproject.toml": legacy})
    assert found == TestCommand("unittest", ("discover", "-s", "tests"), "pyproject.toml")


def test_hatch_script_with_args_placeholder(tmp_path):
    toml = '[tool.hatch.envs.default.scripts]\ntest = "pytest {args:tests} -x"\n[tool.pytest.ini_options]\n'
    assert detect(tmp_path, {**A_TEST, "pyproject.toml": toml}) == TestCommand(
        "pytest", ("tests", "-x"), "pyproject.toml"
    )


def test_unittest_files_named_after_the_module_get_their_pattern(tmp_path):
    # prettytable 0.7.2 ships `prettytable_test.py`: `unittest discover`'s default `test*.py` finds 0 tests.
    files = {
        "prettytable_test.py": "import unittest\n\nclass T(unittest.TestCase):\n    def test_x(self):\n        pass\n"
    }
    assert detect(tmp_path, files) == TestCommand("unittest", ("discover", "-p", "*_test.py"), "layout")


def test_unittest_files_matching_the_default_pattern_keep_it(tmp_path):
    files = {
        "test_a.py": "import unittest\n\nclass T(unittest.TestCase):\n    pass\n",
        "b_test.py": "import unittest\n\nclass U(unittest.TestCase):\n    pass\n",
    }
    assert detect(tmp_path, files) == TestCommand("unittest", ("discover",), "layout")


def test_pytest_collects_a_tests_module(tmp_path):
    # voluptuous 0.10.5 keeps its nose-style test functions in `voluptuous/tests/tests.py`.
    files = {"pkg/__init__.py": "", "pkg/tests/__init__.py": "", "pkg/tests/tests.py": "def test_x():\n    pass\n"}
    found = detect(tmp_path, files)
    assert found == TestCommand("pytest", ("-o", "python_files=test_*.py *_test.py tests.py"), "layout")


def test_a_legacy_pytest_section_in_setup_cfg_runs_with_its_collection_settings(tmp_path):
    # Whoosh 2.7.4: pytest 7+ refuses to start on `[pytest]` in setup.cfg.
    setup_cfg = (
        "[wheel]\nuniversal = 1\n\n[pytest]\naddopts = -rs --tb=native\nnorecursedirs = .hg .tox _build\n"
        "python_files = test_*.py\npep8ignore =\n\t*.py E121\n"
    )
    found = detect(tmp_path, {**A_TEST, "setup.cfg": setup_cfg})
    assert found == TestCommand(
        "pytest",
        ("-c", "/dev/null", "--rootdir", ".", "-o", "python_files=test_*.py", "-o", "norecursedirs=.hg .tox _build"),
        "setup.cfg [pytest]",
    )
    # pytest reads pytest.ini first: the old section is never looked at.
    assert detect(tmp_path, {"pytest.ini": "[pytest]\n"}) == TestCommand("pytest", (), "pytest.ini")
