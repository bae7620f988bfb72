"""Per-test coverage contexts: which tests run each line, recorded with a pytest or unittest suite's coverage run.

A small pytest plugin (its source below, written into the run's output directory like the progress plugin) switches
coverage.py's context to each test's node id while that test runs, as pytest-cov's `--cov-context=test` does; the
coverage JSON (`show_contexts`) then names, for every executed line, the tests that ran it. The plugin also writes
each test's duration. A unittest suite gets the same from Evolve's unittest runner (evolve/suites/unittest_contexts.py),
its tests named as pytest names them. Both files come from repository code: parsed as bounded data, used to choose which tests
run against a mutant, never trusted for more.

The map is kept with the test run (`TestRun.test_contexts`) in a compact form, so base's cached run carries it:
`{"tests": [node ids], "durations": [seconds], "lines": {path: {"line": [test indexes]}}}`.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

CONTEXTS_PLUGIN = "evolve_contexts_plugin"
DURATIONS_FILE = "test_durations.json"
MAX_TESTS = 100_000
MAX_TEST_ID = 500
DURATIONS_LIMIT = 16 * 1024**2

CONTEXTS_PLUGIN_SOURCE = '''"""Written by Evolve: coverage context = the running test's node id; durations to EVOLVE_DURATIONS_FILE."""
import json
import os
import time

import pytest

_durations = {}


def _coverage():
    try:
        import coverage
    except ImportError:
        return None
    return coverage.Coverage.current()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item, nextitem):
    cov = _coverage()
    if cov is not None:
        cov.switch_context(item.nodeid)
    started = time.perf_counter()
    yield
    _durations[item.nodeid] = time.perf_counter() - started
    if cov is not None:
        cov.switch_context("")


def pytest_sessionfinish(session, exitstatus):
    path = os.environ.get("EVOLVE_DURATIONS_FILE")
    if not path:
        return
    try:
        with open(path, "w") as handle:
            json.dump(_durations, handle)
    except OSError:
        pass
'''


def install_contexts_plugin(outputs: Path) -> None:
    """Write the plugin module into the run's output directory (put on the sandboxed PYTHONPATH)."""
    (outputs / f"{CONTEXTS_PLUGIN}.py").write_text(CONTEXTS_PLUGIN_SOURCE, encoding="utf-8")


@dataclass(frozen=True)
class TestContexts:
    """Which tests ran each line: test node ids, their durations, and per file, line -> indexes into `tests`."""

    __test__ = False

    tests: tuple[str, ...] = ()
    durations: tuple[float, ...] = ()
    lines: Mapping[str, Mapping[int, tuple[int, ...]]] = field(default_factory=dict, hash=False)

    def tests_of(self, path: str, line: int) -> tuple[str, ...]:
        """The node ids of the tests that ran `line` of `path` (empty: no test ran it)."""
        return tuple(self.tests[index] for index in self.lines.get(path, {}).get(line, ()))

    def duration_of(self, tests: Sequence[str]) -> float:
        """The summed duration of `tests` on the recorded run (unknown ones count 0)."""
        known = dict(zip(self.tests, self.durations))
        return sum(known.get(test, 0.0) for test in tests)

    def to_dict(self) -> dict[str, Any]:
        """The compact JSON form kept in `TestRun.test_contexts`."""
        return {
            "tests": list(self.tests),
            "durations": list(self.durations),
            "lines": {
                path: {str(line): list(indexes) for line, indexes in sorted(by_line.items())}
                for path, by_line in sorted(self.lines.items())
            },
        }

    @classmethod
    def from_dict(cls, raw: object) -> TestContexts | None:
        """Read the compact form back (from a run or the cache); None when absent or malformed."""
        if not isinstance(raw, dict):
            return None
        tests, durations, lines = raw.get("tests"), raw.get("durations"), raw.get("lines")
        if not isinstance(tests, list) or not isinstance(lines, dict):
            return None
        if not isinstance(durations, list) or len(durations) != len(tests):
            durations = [0.0] * len(tests)
        parsed: dict[str, dict[int, tuple[int, ...]]] = {}
        for path, by_line in lines.items():
            if not isinstance(path, str) or not isinstance(by_line, dict):
                continue
            parsed[path] = {
                int(line): tuple(i for i in indexes if isinstance(i, int) and 0 <= i < len(tests))
                for line, indexes in by_line.items()
                if isinstance(line, str) and line.isdigit() and isinstance(indexes, list)
            }
        return cls(
            tuple(str(test) for test in tests),
            tuple(float(d) if isinstance(d, (int, float)) else 0.0 for d in durations),
            parsed,
        )


def contexts_from_coverage(
    files: Mapping[str, Any], relative: Mapping[str, str], durations: Mapping[str, float]
) -> TestContexts:
    """Build the map from coverage JSON's `files` (each with `contexts`: line -> context names), keeping the files
    in `relative` (coverage's name -> repository path). The empty context (import time, between tests) is dropped:
    a line only it ran is run by no test."""
    index: dict[str, int] = {}
    lines: dict[str, dict[int, tuple[int, ...]]] = {}
    for name, path in sorted(relative.items()):
        report = files.get(name)
        contexts = report.get("contexts") if isinstance(report, dict) else None
        if not isinstance(contexts, dict):
            continue
        by_line: dict[int, tuple[int, ...]] = {}
        for line, names in contexts.items():
            if not (isinstance(line, str) and line.isdigit() and isinstance(names, list)):
                continue
            ids = []
            for context in names:
                if not isinstance(context, str) or not context or len(context) > MAX_TEST_ID:
                    continue
                test = context.split("|", 1)[0]  # pytest-cov's "<node id>|run" spelling too
                if test not in index:
                    if len(index) >= MAX_TESTS:
                        continue
                    index[test] = len(index)
                ids.append(index[test])
            if ids:
                by_line[int(line)] = tuple(sorted(set(ids)))
        if by_line:
            lines[path] = by_line
    tests = tuple(index)
    return TestContexts(tests, tuple(float(durations.get(test, 0.0)) for test in tests), lines)


def read_durations(raw: bytes | None) -> dict[str, float]:
    """The plugin's durations file (untrusted): node id -> seconds, anything malformed dropped."""
    try:
        document = json.loads(raw) if raw else {}
    except ValueError:
        return {}
    if not isinstance(document, dict):
        return {}
    return {
        str(test): float(seconds)
        for test, seconds in list(document.items())[:MAX_TESTS]
        if isinstance(seconds, (int, float)) and 0 <= seconds < 1e6
    }
