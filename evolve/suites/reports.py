"""Reading what a test run reported: pytest's JUnit XML, unittest's text, and the files tracebacks point at."""

from __future__ import annotations

import os
import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field, replace
from pathlib import Path

from evolve.sandbox.spec import SANDBOX_REPO
from evolve.suites.runner_counts import RunnerCounts

# "pkg/mod.py:12: in f" / "tests/test_a.py:5: AssertionError" (pytest) and 'File "x.py", line 3' (Python).
_PYTEST_FRAME = re.compile(r"^(?P<path>[^\s:<>][^:\n<>]*?\.py):(?P<line>\d+):", re.M)
_PYTHON_FRAME = re.compile(r'File "(?P<path>[^"\n]+\.py)", line (?P<line>\d+)')
_UNITTEST_HEADER = re.compile(r"^(?P<kind>FAIL|ERROR): (?P<name>\S+) \((?P<where>[^)]*)\)", re.M)
_UNITTEST_RAN = re.compile(r"^Ran (?P<count>\d+) tests? in ", re.M)
_UNITTEST_RESULT = re.compile(r"^(?:OK|FAILED)(?: \((?P<parts>[^)]*)\))?\s*$", re.M)
_SEPARATOR = "=" * 70
_NOT_SOURCE_PARTS = {".venv", "venv", "env", ".tox", ".nox", "site-packages", "dist-packages", ".eggs", "build"}


@dataclass(frozen=True)
class TestFailure:
    """One failing or erroring test: its id, the evidence, and the test's own file when known."""

    __test__ = False

    test_id: str
    text: str
    path: str | None = None


@dataclass(frozen=True)
class TestReport:
    """Counts and failures of one test run, as the runner reported them."""

    __test__ = False

    tests: int
    failed: int
    errors: int
    skipped: int
    failures: tuple[TestFailure, ...] = ()
    xfailed: int = 0  # expected failures
    xpassed: int = 0  # unexpected successes
    subtests_passed: int = 0
    subtests_failed: int = 0
    subtests_skipped: int = 0
    reported_passed: int | None = None  # the runner's own count of passed tests, when it stated one
    # Test file -> qualified names (`Class.test_x`, parameters dropped) of its tests that passed.
    passed_tests: dict[str, tuple[str, ...]] = field(default_factory=dict, hash=False)

    @property
    def passed(self) -> int:
        """Tests that passed: the runner's count, else those that neither failed, errored, were skipped, xfailed
        nor xpassed."""
        if self.reported_passed is not None:
            return self.reported_passed
        return max(self.tests - self.failed - self.errors - self.skipped - self.xfailed - self.xpassed, 0)


def with_runner_counts(report: TestReport | None, counts: RunnerCounts | None) -> TestReport | None:
    """The report with pytest's own summary counts (which JUnit XML folds together), when the plugin wrote them."""
    if counts is None:
        return report
    base = report if report is not None else TestReport(0, 0, 0, 0)
    return replace(
        base,
        tests=counts.passed + counts.failed + counts.skipped + counts.xfailed + counts.xpassed,
        failed=counts.failed,
        errors=counts.errors,
        skipped=counts.skipped,
        xfailed=counts.xfailed,
        xpassed=counts.xpassed,
        subtests_passed=counts.subtests_passed,
        subtests_failed=counts.subtests_failed,
        subtests_skipped=counts.subtests_skipped,
        reported_passed=counts.passed,
    )


def read_junit(xml_text: str, root: Path) -> TestReport | None:
    """Parse pytest's JUnit XML; None when it is not readable XML."""
    try:
        document = ET.fromstring(xml_text)
    except ET.ParseError:
        return None
    suites = [document] if document.tag == "testsuite" else document.findall("testsuite")
    totals = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
    failures: list[TestFailure] = []
    xfailed = 0
    passed: dict[str, set[str]] = {}
    for suite in suites:
        for key in totals:
            totals[key] += _int(suite.get(key))
        for case in suite.iter("testcase"):
            problems = [child for child in case if child.tag in ("failure", "error")]
            skips = [child for child in case if child.tag == "skipped"]
            xfailed += sum(1 for skip in skips if skip.get("type") == "pytest.xfail")
            if not problems:
                if not skips:
                    _record_passed(case, root, passed)
                continue
            test_id, path = _junit_test_id(case, root)
            text = "\n".join(_problem_text(problem) for problem in problems)
            failures.append(TestFailure(test_id, text, path))
    return TestReport(
        totals["tests"],
        totals["failures"],
        totals["errors"],
        max(totals["skipped"] - xfailed, 0),
        tuple(failures),
        xfailed=xfailed,
        passed_tests={path: tuple(sorted(names)) for path, names in sorted(passed.items())},
    )


def _record_passed(case: ET.Element, root: Path, passed: dict[str, set[str]]) -> None:
    """Note a passing test case under its file, as `Class.test_name` without parameters."""
    test_id, path = _junit_test_id(case, root)
    if path is None or not test_id.startswith(path + "::"):
        return
    name = ".".join(test_id[len(path) + 2 :].split("::")).split("[", 1)[0]
    passed.setdefault(path, set()).add(name)


def read_unittest_output(text: str) -> TestReport | None:
    """Parse the summary and failure blocks `python -m unittest` prints; None when there is no summary."""
    ran = _UNITTEST_RAN.search(text)
    if ran is None:
        return None
    counts = {"failures": 0, "errors": 0, "skipped": 0, "expected failures": 0, "unexpected successes": 0}
    results = list(_UNITTEST_RESULT.finditer(text))
    result = results[-1] if results else None  # the last summary line is the run's
    if result is not None and result.group("parts"):
        for part in result.group("parts").split(","):
            key, _, value = part.strip().partition("=")
            if key in counts:
                counts[key] = _int(value)
    failures = []
    for block in text.split(_SEPARATOR)[1:]:
        header = _UNITTEST_HEADER.search(block)
        if header is None:
            continue
        name, where = header.group("name"), header.group("where")
        test_id = where if where.endswith("." + name) else f"{where}.{name}"
        body = block.split("-" * 70, 1)[-1].split("\nRan ", 1)[0].strip()
        failures.append(TestFailure(test_id, body))
    return TestReport(
        int(ran.group("count")),
        counts["failures"],
        counts["errors"],
        counts["skipped"],
        tuple(failures),
        xfailed=counts["expected failures"],
        xpassed=counts["unexpected successes"],
    )


def frame_paths(text: str, root: Path) -> list[str]:
    """Repository files (relative paths, in order of appearance) named by traceback frames in `text`."""
    found: list[str] = []
    for pattern in (_PYTEST_FRAME, _PYTHON_FRAME):
        for match in pattern.finditer(text):
            relative = relative_source_path(match.group("path"), root)
            if relative is not None and relative not in found:
                found.append(relative)
    return found


def blamed_files(failures: tuple[TestFailure, ...], root: Path) -> tuple[str, ...]:
    """The failing tests' own files plus every repository file their tracebacks pass through, sorted."""
    files: set[str] = set()
    for failure in failures:
        if failure.path:
            files.add(failure.path)
        files.update(frame_paths(failure.text, root))
    return tuple(sorted(files))


def relative_source_path(raw: str, root: Path) -> str | None:
    """`raw` as a path relative to `root` when it is an existing source file of the repository, else None.

    Paths the sandbox reported under its copy of the tree (SANDBOX_REPO) count as paths under `root`."""
    real_root = os.path.realpath(root)
    if raw == SANDBOX_REPO or raw.startswith(SANDBOX_REPO + "/"):
        raw = raw[len(SANDBOX_REPO) :].lstrip("/")
    candidate = raw if os.path.isabs(raw) else os.path.join(real_root, raw)
    real = os.path.realpath(candidate)
    if not real.startswith(real_root + os.sep) or not os.path.isfile(real):
        return None
    relative = os.path.relpath(real, real_root).replace(os.sep, "/")
    if _NOT_SOURCE_PARTS.intersection(relative.split("/")):
        return None
    return relative


def _junit_test_id(case: ET.Element, root: Path) -> tuple[str, str | None]:
    """Rebuild pytest's node id (`path.py::Class::name`) from JUnit's dotted classname."""
    name = case.get("name", "")
    classname = case.get("classname", "")
    if case.get("file"):  # xunit1 reports the file directly
        path = relative_source_path(case.get("file", ""), root)
        if path is not None:
            rest = classname.split(".")[len(path[:-3].split("/")) :]
            return "::".join([path, *rest, name]), path
    if not classname:  # a collection error: the name is the module's dotted path
        module = _dotted_to_file(name.split("."), root)
        return (module[0], module[0]) if module else (name, None)
    parts = classname.split(".")
    found = _dotted_to_file(parts, root)
    if found is None:
        return f"{classname}::{name}", None
    path, rest = found[0], parts[found[1] :]
    return "::".join([path, *rest, name]), path


def _dotted_to_file(parts: list[str], root: Path) -> tuple[str, int] | None:
    for size in range(len(parts), 0, -1):
        candidate = "/".join(parts[:size]) + ".py"
        if (root / candidate).is_file():
            return candidate, size
    return None


def _problem_text(problem: ET.Element) -> str:
    message = problem.get("message", "")
    body = (problem.text or "").strip()
    return body if body else message


def _int(value: str | None) -> int:
    try:
        return int(value or 0)
    except ValueError:
        return 0
