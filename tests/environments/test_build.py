"""Real environments: uv builds them in the sandbox, the store reuses them, failures are said once."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys

import pytest

from evolve.cli import main
from evolve.configuration.model import EvolveConfig
from evolve.engine import run_engine
from evolve.environments.model import Environment, EnvironmentFailure, EnvironmentSettings, one_line_cause
from evolve.environments.prepare import prepare_environment
from evolve.runs import RunOptions
from evolve.suites.runs import run_test_suite
from tests.repo_factory import make_repo

TINY = {
    "pyproject.toml": """
        [build-system]
        requires = ["setuptools>=61"]
        build-backend = "setuptools.build_meta"
        [project]
        name = "tiny"
        version = "0.1"
        requires-python = ">=3.9"
        [dependency-groups]
        [tool.setuptools]
        packages = ["tiny"]
    """,
    "tiny/__init__.py": '"""Tiny."""\n\n\ndef answer():\n    """The answer."""\n    return 42\n',
    "requirements-test.txt": "pytest\n./helper  # a path dependency inside the tree\n",
    "helper/pyproject.toml": """
        [build-system]
        requires = ["setuptools>=61"]
        build-backend = "setuptools.build_meta"
        [project]
        name = "tiny-helper"
        version = "1.0"
        [tool.setuptools]
        py-modules = ["tiny_helper"]
    """,
    "helper/tiny_helper.py": "VALUE = 42\n",
    "tests/test_tiny.py": "import tiny_helper\nfrom tiny import answer\n\n\ndef test_answer():\n    assert answer() == tiny_helper.VALUE\n",
}


@pytest.fixture(scope="module")
def settings(tmp_path_factory) -> EnvironmentSettings:
    """One store and uv cache for this module's builds (the second build of a key is a reuse)."""
    return EnvironmentSettings(data_dir=tmp_path_factory.mktemp("evolve-data"))


def test_declared_environment_is_built_in_the_sandbox_reused_and_runs_the_suite(tmp_path, settings):
    repo = make_repo(tmp_path / "tiny", TINY)
    built = prepare_environment(repo, EvolveConfig(), settings)
    assert isinstance(built, Environment), built
    assert built.kind == "built" and not built.reused and built.build_seconds > 0
    assert built.sources == ("requirements-test.txt",)
    assert any(" -e /work/repo " in f" {c} " and "./helper" in c for c in built.install_commands)
    site = subprocess.run(
        [
            built.python,
            "-c",
            "import tiny_helper, pytest, coverage, json, importlib.metadata as m; "
            "print(json.dumps([tiny_helper.VALUE, m.distribution('tiny').read_text('direct_url.json')]))",
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    value, direct_url = json.loads(site.stdout)
    assert value == 42 and json.loads(direct_url) == {"url": "file:///work/repo", "dir_info": {"editable": True}}
    again = prepare_environment(repo, EvolveConfig(), settings)
    assert isinstance(again, Environment) and again.reused and again.key == built.key and again.python == built.python
    run = run_test_suite(repo, EvolveConfig(), with_coverage=True, environment=again)
    assert run.ok and run.passed == 1, run.output_tail
    assert run.coverage_percent == 100.0
    listed = main(["env", "list", "--data-dir", str(settings.data_dir), "--json"])
    assert listed == 0


def test_extension_modules_the_build_compiles_into_the_tree_reach_the_test_run(tmp_path, settings):
    files = {
        "setup.py": """
            from setuptools import Extension, setup
            setup(name="tinyc", version="0.1", packages=["tinyc"], ext_modules=[Extension("tinyc._speed", ["tinyc/_speed.c"])])
        """,
        "tinyc/__init__.py": "from tinyc._speed import answer\n",
        "tinyc/_speed.c": """
            #include <Python.h>
            static PyObject *answer(PyObject *self, PyObject *args) { return PyLong_FromLong(42); }
            static PyMethodDef methods[] = {{"answer", answer, METH_NOARGS, ""}, {NULL, NULL, 0, NULL}};
            static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_speed", NULL, -1, methods};
            PyMODINIT_FUNC PyInit__speed(void) { return PyModule_Create(&module); }
        """,
        "tests/test_speed.py": "from tinyc import answer\n\n\ndef test_compiled():\n    assert answer() == 42\n",
    }
    repo = make_repo(tmp_path / "tinyc", files)
    built = prepare_environment(repo, EvolveConfig(), settings)
    assert isinstance(built, Environment) and built.compiled_artifacts, built
    run = run_test_suite(repo, EvolveConfig(), with_coverage=False, environment=built)
    assert run.ok and run.passed == 1, run.output_tail


def test_a_failed_install_ends_the_run_with_the_resolvers_words_and_no_attempt(tmp_path, settings, capsys):
    files = {
        "pyproject.toml": '[dependency-groups]\ntest = ["pytest", "evolve-surely-missing-package-xyz==1.0"]\n',
        "pkg/__init__.py": "",
        "pkg/numbers.py": 'def is_missing(value):\n    """Whether value is missing."""\n    return value == None\n',
        "tests/test_numbers.py": "from pkg.numbers import is_missing\n\n\ndef test_missing():\n    assert is_missing(None)\n",
    }
    repo = make_repo(tmp_path / "broken-deps", files)
    report = run_engine(repo, RunOptions(focus="correctness", environment=settings))
    assert report.status == "error" and report.attempts == ()
    assert report.message.startswith("could not build the test environment: ")
    assert "evolve-surely-missing-package-xyz" in report.message and "\n" not in report.message
    assert report.environment["failure"] and report.environment["install_commands"]
    code = main(["run", str(repo), "--focus", "correctness", "--data-dir", str(settings.data_dir), "--quiet"])
    assert code == 2
    assert capsys.readouterr().err.count("could not build the test environment") == 1


def test_a_project_that_cannot_be_installed_says_uvs_reason_not_only_the_import_error(tmp_path, settings, capsys):
    files = {
        "pyproject.toml": """
            [project]
            name = "pkg"
            version = "0.1"
            requires-python = ">=3.9"
            dependencies = ["evolve-surely-missing-package-xyz==1.0"]
            [project.optional-dependencies]
            test = ["pytest"]
        """,
        "pkg/__init__.py": "import evolve_surely_missing_package_xyz  # noqa: F401\n",
        "pkg/numbers.py": 'def is_missing(value):\n    """Whether value is missing."""\n    return value == None\n',
        "tests/test_numbers.py": "from pkg.numbers import is_missing\n\n\ndef test_missing():\n    assert is_missing(None)\n",
    }
    repo = make_repo(tmp_path / "unsatisfiable", files)
    code = main(["run", str(repo), "--focus", "correctness", "--data-dir", str(settings.data_dir), "--quiet"])
    (line,) = capsys.readouterr().err.splitlines()
    assert code == 2 and line.startswith("evolve: error: cannot run the tests: ")
    assert "No module named 'evolve_surely_missing_package_xyz'" in line  # what the suite saw
    # ... and why: uv's own words, on the same line, with what to do.
    assert "the project itself could not be installed (" in line and "evolve-surely-missing-package-xyz" in line
    assert "we can conclude that" in line and "fix its declared dependencies" in line


def test_a_builders_words_become_one_line_with_the_cause():
    uv = (
        "Using Python 3.11.7 environment at: /envs/.building-1\n"
        "error: No solution found when resolving dependencies\n"
        "  cause: Because there is no version of attrs==0.0.0.1 and pkg==0.1 depends on attrs==0.0.0.1, we can\n"
        "         conclude that pkg==0.1 cannot be used.\n"
    )
    assert one_line_cause(uv) == (
        "No solution found when resolving dependencies: Because there is no version of attrs==0.0.0.1 and pkg==0.1 "
        "depends on attrs==0.0.0.1, we can conclude that pkg==0.1 cannot be used."
    )
    assert one_line_cause("x" * 600, width=50) == "x" * 49 + "…"
    assert EnvironmentFailure("error: one\ntwo").message == "could not build the test environment: one: two"


def test_a_suite_that_cannot_start_stops_after_one_attempt(tmp_path, settings):
    files = {
        "pkg/__init__.py": "",
        "pkg/numbers.py": 'def is_missing(value):\n    """Whether value is missing."""\n    return value == None\n',
        "tests/conftest.py": "import evolve_no_such_module  # noqa: F401\n",
        "tests/test_numbers.py": "from pkg.numbers import is_missing\n\n\ndef test_missing():\n    assert is_missing(None)\n",
    }
    repo = make_repo(tmp_path / "no-start", files)
    report = run_engine(repo, RunOptions(focus="correctness", environment=settings))
    assert report.status == "error" and len(report.attempts) == 1, report.message
    assert report.message.startswith("cannot run the tests: ")
    assert "evolve_no_such_module" in report.message
    assert report.environment["kind"] == "built"


def test_no_interpreter_fits_requires_python(tmp_path, settings):
    files = {
        "pyproject.toml": '[project]\nname = "future"\nrequires-python = ">=3.99"\n',
        "tests/test_a.py": "def test_a():\n    pass\n",
    }
    repo = make_repo(tmp_path / "future", files)
    found = prepare_environment(repo, EvolveConfig(), settings)
    assert isinstance(found, EnvironmentFailure)
    assert found.message.startswith("could not build the test environment: no Python on this machine satisfies")


def test_a_hostile_build_sees_no_secret_and_no_bot_file_and_its_words_are_redacted(tmp_path, settings, monkeypatch):
    secret = "s3cr3t-webhook-value-0123456789"
    monkeypatch.setenv("EVOLVE_WEBHOOK_SECRET", secret)
    bot_file = settings.data_dir / "app-private-key.pem"
    bot_file.write_text(f"-----BEGIN PRIVATE KEY----- {secret}\n")
    setup_py = f"""
        import os, sys
        try:
            open({str(bot_file)!r}).read()
            print("BOT-FILE-READABLE", file=sys.stderr)
        except OSError:
            print("BOT-FILE-NOT-READABLE", file=sys.stderr)
        print("HOSTILE-BUILD-ENV", sorted(os.environ), os.environ.get("EVOLVE_WEBHOOK_SECRET"), file=sys.stderr)
        sys.exit(1)
    """
    files = {"setup.py": setup_py, "tests/test_a.py": "def test_a():\n    assert True\n"}
    repo = make_repo(tmp_path / "hostile", files)
    built = prepare_environment(repo, EvolveConfig(), settings)
    # The project could not be built; its declared requirements (here: the runner) still were, with a note.
    assert isinstance(built, Environment), built
    note = " ".join(built.notes)
    assert "could not be installed" in note and "BOT-FILE-NOT-READABLE" in note and "HOSTILE-BUILD-ENV" in note
    assert secret not in note and "EVOLVE_WEBHOOK_SECRET" not in note
    assert run_test_suite(repo, EvolveConfig(), with_coverage=False, environment=built).passed == 1


def test_local_users_keep_control_of_the_interpreter(tmp_path, settings, capsys):
    from evolve.cli.parser import build_parser
    from evolve.environments.commands import settings_from_args

    repo = make_repo(tmp_path / "own-venv", {"tests/test_a.py": "def test_a():\n    assert True\n"})
    # The user's own (untracked) venv, made from a Python of this machine: probed in the sandbox, then used.
    base_python = os.path.realpath(sys.executable)
    subprocess.run([base_python, "-m", "venv", "--without-pip", str(repo / ".venv")], check=True)
    args = build_parser().parse_args(["run", str(repo)])
    chosen = prepare_environment(repo, EvolveConfig(), settings_from_args(args, repo))
    assert isinstance(chosen, Environment) and chosen.kind == "local", chosen
    assert "the repository's own virtualenv" in chosen.description and str(repo) not in chosen.description
    assert str(repo / ".venv") in chosen.mounts
    ran = run_test_suite(repo, EvolveConfig(), with_coverage=False, environment=chosen)
    assert "No module named pytest" in ran.output_tail  # it started in the sandbox; the user installs their runner
    forced = settings_from_args(build_parser().parse_args(["run", str(repo), "--python", sys.executable]), repo)
    assert forced.python == os.path.abspath(sys.executable) and forced.python_origin == "--python"
    assert settings_from_args(build_parser().parse_args(["run", str(repo), "--build-env"]), repo).python is None
    wrong = settings_from_args(build_parser().parse_args(["run", str(repo), "--python", "/nonexistent/python"]), repo)
    failure = prepare_environment(repo, EvolveConfig(), wrong)
    assert isinstance(failure, EnvironmentFailure) and "is not a usable Python interpreter" in failure.message


def test_env_list_and_prune_from_the_command_line(settings, capsys):
    data = ["--data-dir", str(settings.data_dir)]
    assert main(["env", "list", *data]) == 0
    listed = capsys.readouterr().out
    assert "built from:" in listed and re.search(r"^(1 environment|\d+ environments), ", listed, re.M)
    assert "environment(s)" not in listed
    assert main(["env", "prune", "no-such-key", *data]) == 2
    assert main(["env", "prune", "--all", *data]) == 0
    assert "removed" in capsys.readouterr().out
    assert main(["env", "list", *data]) == 0
    assert "no environments" in capsys.readouterr().out
