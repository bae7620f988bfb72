"""Running real test suites in the sandbox: results, coverage, the scrubbed environment, leaving no trace."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from evolve.config_loading.loading import parse_config
from evolve.configuration.model import EvolveConfig
from evolve.suites.runs import TestRun, run_test_suite
from tests.gates.builders import write_files

PACKAGE = {
    "pkg/__init__.py": "",
    "pkg/shapes.py": """
        def area(width, height):
            if width < 0 or height < 0:
                raise ValueError("negative")
            return width * height


        def unused(x):
            y = x + 1
            return y
    """,
    "tests/test_shapes.py": """
        from pkg.shapes import area


        def test_area():
            assert area(2, 3) == 6
    """,
}


def run(root: Path, config: EvolveConfig | None = None, **kwargs) -> TestRun:
    """Run the suite at `root` with the default configuration."""
    kwargs.setdefault("with_coverage", False)
    return run_test_suite(root, config or EvolveConfig(), **kwargs)


def tree_listing(root: Path) -> set[str]:
    """Every path under `root`, to prove a run leaves nothing behind."""
    return {str(p.relative_to(root)) for p in root.rglob("*")}


def test_coverage_is_measured_per_line(tmp_path):
    write_files(tmp_path, PACKAGE)
    before = tree_listing(tmp_path)
    result = run(tmp_path, with_coverage=True)
    assert result.ok and result.passed == 1 and result.failed == 0
    # Statements: 2 defs, the if, the raise, the return; and the 2 lines of `unused`'s body.
    assert result.executable_lines["pkg/shapes.py"] == [1, 2, 3, 4, 7, 8, 9]
    assert result.covered_lines["pkg/shapes.py"] == [1, 2, 4, 7]
    assert "tests/test_shapes.py" not in result.executable_lines  # tests are not measured code
    assert result.coverage_percent == pytest.approx(100 * 4 / 7)
    assert tree_listing(tmp_path) == before  # no .coverage, junit.xml, .pytest_cache or __pycache__ in the repo


def test_without_coverage_nothing_is_measured(tmp_path):
    write_files(tmp_path, PACKAGE)
    result = run(tmp_path)
    assert result.ok and result.coverage_percent is None and result.executable_lines == {}
    assert "coverage" not in result.command


def test_failures_are_reported_not_raised(tmp_path):
    write_files(
        tmp_path,
        {**PACKAGE, "tests/test_bad.py": "from pkg.shapes import area\n\n\ndef test_neg():\n    area(-1, 1)\n"},
    )
    result = run(tmp_path, with_coverage=True)
    assert not result.ok
    assert result.failing_tests == ("tests/test_bad.py::test_neg",)
    assert result.blamed_files == ("pkg/shapes.py", "tests/test_bad.py")
    assert "ValueError: negative" in result.failure_details
    assert result.coverage_percent is not None


def test_a_module_that_fails_to_import_does_not_stop_the_others(tmp_path):
    broken = {**PACKAGE, "tests/test_broken.py": "from collections import Mapping\n\ndef test_x():\n    pass\n"}
    write_files(tmp_path, broken)
    result = run(tmp_path)
    assert result.passed == 1 and result.errors == 1 and not result.ok
    assert "tests/test_broken.py" in " ".join(result.failing_tests)


def test_no_tests_collected_is_not_a_failure(tmp_path):
    write_files(tmp_path, {"tests/test_empty.py": "# nothing yet\n"})
    result = run(tmp_path)
    assert result.no_tests and result.ok and result.returncode == 5


def test_repository_without_tests_runs_nothing(tmp_path):
    write_files(tmp_path, {"pkg/mod.py": "x = 1\n"})
    result = run(tmp_path, with_coverage=True)
    assert result.no_tests and result.command == ()


def test_secrets_of_the_parent_do_not_reach_the_tests(tmp_path, monkeypatch):
    monkeypatch.setenv("GITHUB_TOKEN", "ghs_parent_value")
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-parent-value")
    monkeypatch.setenv("HOME", str(tmp_path / "parent-home"))
    write_files(
        tmp_path,
        {
            "tests/test_env.py": """
        import os


        def test_secrets_are_invisible():
            assert "GITHUB_TOKEN" not in os.environ
            assert "ANTHROPIC_API_KEY" not in os.environ
            assert not any("parent_value" in v or "parent-value" in v for v in os.environ.values())


        def test_home_is_private():
            assert not os.environ["HOME"].endswith("parent-home")
    """
        },
    )
    result = run(tmp_path)
    assert result.ok, result.failure_details
    assert result.passed == 2


def test_timeout_is_reported(tmp_path):
    write_files(tmp_path, {"tests/test_slow.py": "import time\n\n\ndef test_slow():\n    time.sleep(60)\n"})
    result = run(tmp_path, with_coverage=True, timeout=2)
    assert result.timed_out and not result.ok
    assert result.coverage_percent is None


def test_unittest_suite_with_coverage(tmp_path):
    write_files(
        tmp_path,
        {
            "pkg/__init__.py": "",
            "pkg/words.py": "def shout(text):\n    return text.upper()\n\n\ndef whisper(text):\n    return text.lower()\n",
            "tests/__init__.py": "",
            "tests/test_words.py": """
            import unittest

            from pkg.words import shout


            class ShoutTest(unittest.TestCase):
                def test_shout(self):
                    self.assertEqual(shout("a"), "A")

                def test_broken(self):
                    self.assertEqual(shout("a"), "a")
        """,
        },
    )
    result = run(tmp_path, with_coverage=True)
    assert "unittest" in result.command
    assert result.failing_tests == ("tests.test_words.ShoutTest.test_broken",)
    assert (result.passed, result.failed) == (1, 1)
    assert result.covered_lines["pkg/words.py"] == [1, 2, 5]


def test_configured_command_and_pytest_args(tmp_path):
    write_files(tmp_path, {**PACKAGE, "tests/test_other.py": "def test_fails():\n    assert False\n"})
    config = parse_config({"gates": {"tests": {"command": "pytest tests/test_shapes.py"}}})
    result = run(tmp_path, config)
    assert result.ok and result.passed == 1


def test_serialises_round_trip():
    result = TestRun(
        ("python", "-m", "pytest"),
        1,
        False,
        1.5,
        passed=2,
        failed=1,
        failing_tests=("t.py::x",),
        blamed_files=("a.py",),
        coverage_percent=50.0,
        covered_lines={"a.py": [1]},
        executable_lines={"a.py": [1, 2]},
    )
    assert TestRun.from_dict(json.loads(json.dumps(result.to_dict()))) == result


def test_exit_code_5_of_an_unknown_command_is_a_failure(tmp_path):
    config = parse_config({"gates": {"tests": {"command": "python -c 'import sys; sys.exit(5)'"}}})
    result = run(tmp_path, config)
    assert not result.no_tests and not result.ok
    assert result.failing_tests == ("<test run exited with code 5>",)
