"""Per-test coverage contexts for suites run with `python -m unittest`: the pytest plugin's job, done by a runner.

`coverage run SANDBOX_OUT/evolve_unittest_contexts.py <unittest arguments>` runs the suite as `python -m unittest`
would (same arguments, same output, same exit status) with a result class that switches coverage.py's context to
each test while it runs and notes its duration. A test is named as pytest names it (`tests/test_x.py::Case::test_y`),
so the mutation worker, which runs a mutant's covering tests with pytest (pytest runs TestCase classes too), can
select it; a test whose module is not a file of the tree keeps unittest's dotted id.
"""

from __future__ import annotations

from pathlib import Path

UNITTEST_RUNNER = "evolve_unittest_contexts.py"

UNITTEST_RUNNER_SOURCE = '''"""Written by Evolve: `python -m unittest` with coverage context = the running test; durations to a file."""
import json
import os
import sys
import time
import unittest

_durations = {}
_root = os.getcwd()


def _coverage():
    try:
        import coverage
    except ImportError:
        return None
    return coverage.Coverage.current()


def node_id(test):
    """`tests/test_x.py::Case::test_y` for a test method of a module file under the tree, else unittest's id."""
    module = sys.modules.get(type(test).__module__)
    path = getattr(module, "__file__", None)
    method = getattr(test, "_testMethodName", None)
    if path and method and isinstance(test, unittest.TestCase):
        relative = os.path.relpath(os.path.realpath(path), os.path.realpath(_root))
        if not relative.startswith(".."):
            return "::".join([relative.replace(os.sep, "/"), type(test).__qualname__.replace(".", "::"), method])
    return test.id()


class ContextResult(unittest.TextTestResult):
    """Switch coverage's context to each test while it runs; note how long it took."""

    def startTest(self, test):
        cov = _coverage()
        if cov is not None:
            cov.switch_context(node_id(test))
        self._evolve_started = time.perf_counter()
        super().startTest(test)

    def stopTest(self, test):
        super().stopTest(test)
        started = getattr(self, "_evolve_started", None)
        if started is not None:
            _durations[node_id(test)] = time.perf_counter() - started
        cov = _coverage()
        if cov is not None:
            cov.switch_context("")


class ContextRunner(unittest.TextTestRunner):
    """unittest's runner (verbosity, failfast, buffer from the arguments, as `-m unittest` gives them)."""

    resultclass = ContextResult


def _write_durations():
    path = os.environ.get("EVOLVE_DURATIONS_FILE")
    if not path:
        return
    try:
        with open(path, "w") as handle:
            json.dump(_durations, handle)
    except OSError:
        pass


if __name__ == "__main__":
    sys.argv[0] = "python -m unittest"
    sys.path[0] = _root  # as `python -m unittest` has it: the working directory, not this file's
    try:
        unittest.main(module=None, testRunner=ContextRunner)
    finally:
        _write_durations()
'''


def install_unittest_runner(outputs: Path) -> None:
    """Write the runner into the run's output directory (the sandbox mounts it at SANDBOX_OUT)."""
    (outputs / UNITTEST_RUNNER).write_text(UNITTEST_RUNNER_SOURCE, encoding="utf-8")
