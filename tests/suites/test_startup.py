"""Telling a suite that never started from one that ran with failures."""

from __future__ import annotations

from evolve.suites.runs import TestRun
from evolve.suites.startup import cannot_run_message, cannot_start_reason

PYTEST = ("/env/bin/python", "-m", "pytest", "-q")


def _run(**values) -> TestRun:
    return TestRun(**{"command": PYTEST, "returncode": 1, "timed_out": False, "duration": 1.0, **values})


def test_runs_that_started_are_not_blamed_on_startup():
    assert cannot_start_reason(None) is None
    assert cannot_start_reason(_run(returncode=0, passed=3)) is None
    assert cannot_start_reason(_run(passed=3, failed=1)) is None  # ran, with failures
    assert cannot_start_reason(_run(failed=1, failing_tests=("t::a",))) is None
    assert cannot_start_reason(_run(returncode=-9, timed_out=True)) is None
    assert cannot_start_reason(_run(returncode=5, no_tests=True)) is None  # an empty suite is ok


def test_usage_errors_collection_errors_and_missing_commands_are():
    usage = _run(
        returncode=4, output_tail="ERROR: usage: pytest [options]\npytest: error: unrecognized arguments: --cov"
    )
    assert cannot_start_reason(usage).startswith("pytest usage error; pytest: error: unrecognized arguments: --cov")
    collection = _run(
        returncode=2, errors=3, output_tail="E   ModuleNotFoundError: No module named 'yaml'\n!!! Interrupted: 3 errors"
    )
    reason = cannot_start_reason(collection)
    assert "3 collection errors" in reason and "No module named 'yaml'" in reason
    missing = TestRun(command=("tox",), returncode=127, timed_out=False, duration=0.0, output_tail="tox: not found")
    assert cannot_start_reason(missing).startswith("the test command was not found (tox)")
    unittest = TestRun(
        command=("/env/bin/python", "-m", "unittest"),
        returncode=1,
        timed_out=False,
        duration=1.0,
        errors=2,
        output_tail="ImportError: Failed to import test module: test_a",
    )
    assert "every test module failed to load" in cannot_start_reason(unittest)
    assert cannot_run_message("x") == "cannot run the tests: x"
