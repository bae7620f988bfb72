"""Real environments: uv builds them in the sandbox, the store reuses them, failures are said once."""

from __future__ import annotations

import json
import subprocess

import pytest

from evolve.cli import main
from evolve.config import EvolveConfig
from evolve.engine import run_engine
from evolve.environments.model import Environment, EnvironmentFailure, EnvironmentSettings
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
    assert "evolve-surely-missing-package-xyz" in report.message
    assert report.environment["failure"] and report.environment["install_commands"]
    code = main(["run", str(repo), "--focus", "correctness", "--data-dir", str(settings.data_dir), "--quiet"])
    assert code == 2
    assert capsys.readouterr().err.count("could not build the test environment") == 1


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
