"""The single place that runs a repository's tests, as untrusted code, optionally measuring line coverage."""

from __future__ import annotations

import json
import os
import shutil
import sys
import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from evolve.config import EvolveConfig
from evolve.path_kinds import COVERAGE_OMIT
from evolve.sandbox import CommandResult, run_untrusted
from evolve.suites.commands import TestCommand, detect_test_command
from evolve.suites.reports import (
    TestReport,
    blamed_files,
    frame_paths,
    read_junit,
    read_unittest_output,
    relative_source_path,
)

__all__ = ["TestCommand", "TestRun", "coverage_rcfile", "detect_test_command", "run_test_suite"]

PYTEST_NO_TESTS = 5  # pytest's (and, since 3.12, unittest's) exit code for "no tests collected"
DETAILS_LIMIT = 20_000
OUTPUT_TAIL_LIMIT = 4_000
REPORT_TIMEOUT = 300.0  # `coverage json` only parses files; it never needs the suite's budget


@dataclass(frozen=True)
class TestRun:
    """What one run of a repository's test suite showed. A value: picklable, JSON-ready via `to_dict`."""

    __test__ = False

    command: tuple[str, ...]
    returncode: int
    timed_out: bool
    duration: float
    passed: int = 0
    failed: int = 0
    errors: int = 0
    skipped: int = 0
    failing_tests: tuple[str, ...] = ()
    failure_details: str = ""
    blamed_files: tuple[str, ...] = ()
    no_tests: bool = False
    coverage_percent: float | None = None
    covered_lines: dict[str, list[int]] = field(default_factory=dict, hash=False)
    executable_lines: dict[str, list[int]] = field(default_factory=dict, hash=False)
    output_tail: str = ""

    @property
    def ok(self) -> bool:
        """Whether the suite finished in time without failures (an empty suite counts as ok)."""
        return not self.timed_out and (self.returncode == 0 or self.no_tests)

    def to_dict(self) -> dict[str, Any]:
        """Serialise to a JSON-ready dict."""
        return asdict(self)

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> TestRun:
        """Rebuild from :meth:`to_dict` output."""
        values = dict(raw)
        for key in ("command", "failing_tests", "blamed_files"):
            values[key] = tuple(values.get(key, ()))
        return cls(**values)


def run_test_suite(
    root: Path,
    config: EvolveConfig,
    *,
    with_coverage: bool,
    timeout: float | None = None,
    python: str = sys.executable,
) -> TestRun:
    """Run the tests of `root` in the sandbox. Never raises for failing, crashing or hanging tests."""
    root = Path(root)
    command = detect_test_command(root, config.gates.tests.command)
    if command is None:
        return TestRun(
            command=(),
            returncode=0,
            timed_out=False,
            duration=0.0,
            no_tests=True,
            output_tail="No tests found (no test files, tests directory or conftest.py).",
        )
    budget = float(timeout if timeout is not None else config.gates.tests.timeout)
    workdir = Path(tempfile.mkdtemp(prefix="evolve-testrun-"))
    try:
        return _run_in(root, command, workdir, budget, with_coverage, python, config)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def coverage_rcfile(root: Path, data_file: Path) -> str:
    """Our coverage configuration: line coverage of the repository's own code, data kept outside the repo."""
    omit = "\n    ".join(COVERAGE_OMIT)
    return (
        "[run]\n"
        "branch = False\n"
        f"source =\n    {os.path.realpath(root)}\n"
        f"data_file = {data_file}\n"
        f"omit =\n    {omit}\n"
        "[report]\n"
        "ignore_errors = True\n"
        "[json]\n"
        "show_contexts = False\n"
    )


def _argv(command: TestCommand, python: str, workdir: Path, rcfile: Path | None) -> list[str]:
    if command.runner == "other":
        return list(command.args)
    prefix = [python, "-m", "coverage", "run", f"--rcfile={rcfile}"] if rcfile else [python]
    if command.runner == "pytest":
        return [
            *prefix,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            f"--junitxml={workdir / 'junit.xml'}",
            *command.args,
        ]
    return [*prefix, "-m", "unittest", *command.args]


def _run_in(
    root: Path,
    command: TestCommand,
    workdir: Path,
    budget: float,
    with_coverage: bool,
    python: str,
    config: EvolveConfig,
) -> TestRun:
    measure = with_coverage and command.runner != "other"
    rcfile = None
    if measure:
        rcfile = workdir / "coveragerc"
        rcfile.write_text(coverage_rcfile(root, workdir / "coverage.data"), encoding="utf-8")
    argv = _argv(command, python, workdir, rcfile)
    result = run_untrusted(
        argv,
        cwd=root,
        timeout=budget,
        env=import_path_environment(root),
        isolate_network=not config.gates.tests.allow_network,
    )
    report = _read_report(command, result, workdir, root)
    coverage = _measure(root, rcfile, workdir, python) if measure and not result.timed_out else None
    return _assemble(command, argv, result, report, coverage, root)


def import_path_environment(root: Path) -> dict[str, str]:
    """PYTHONPATH so the checkout's own code is imported without installing it (`src/` layouts too)."""
    entries = [root / "src"] if (root / "src").is_dir() else []
    entries.append(root)
    return {"PYTHONPATH": os.pathsep.join(str(entry) for entry in entries)}


def _read_report(command: TestCommand, result: CommandResult, workdir: Path, root: Path) -> TestReport | None:
    junit = workdir / "junit.xml"
    if command.runner == "pytest" and junit.is_file():
        return read_junit(junit.read_text(encoding="utf-8", errors="replace"), root)
    if command.runner == "unittest":
        return read_unittest_output(result.stderr + "\n" + result.stdout)
    return None


LineMap = dict[str, list[int]]


def _measure(root: Path, rcfile: Path | None, workdir: Path, python: str) -> tuple[LineMap, LineMap] | None:
    """Turn the coverage data into per-file covered and executable lines, keyed by repository path."""
    data_file, report_file = workdir / "coverage.data", workdir / "coverage.json"
    if not data_file.exists():
        return None
    argv = [
        python,
        "-m",
        "coverage",
        "json",
        f"--rcfile={rcfile}",
        f"--data-file={data_file}",
        "-o",
        str(report_file),
        "-q",
    ]
    run_untrusted(argv, cwd=root, timeout=REPORT_TIMEOUT)
    try:
        document = json.loads(report_file.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    covered: LineMap = {}
    executable: LineMap = {}
    for name, lines in sorted(document.get("files", {}).items()):
        path = relative_source_path(name, root)
        if path is None:
            continue
        executed = sorted(set(lines.get("executed_lines", ())))
        covered[path] = executed
        executable[path] = sorted(set(executed) | set(lines.get("missing_lines", ())))
    return covered, executable


def _assemble(
    command: TestCommand,
    argv: list[str],
    result: CommandResult,
    report: TestReport | None,
    coverage: tuple[LineMap, LineMap] | None,
    root: Path,
) -> TestRun:
    output = (result.stdout + ("\n" if result.stdout and result.stderr else "") + result.stderr).strip()
    tail = output[-OUTPUT_TAIL_LIMIT:]
    # Exit code 5 means "no tests collected" only from runners we know; `make test` may use it for anything.
    no_tests = (result.returncode == PYTEST_NO_TESTS and command.runner != "other") or (
        report is not None and report.tests == 0 and result.returncode == 0
    )
    failures = report.failures if report else ()
    failing = tuple(f.test_id for f in failures)
    details = "\n\n".join(f"____ {f.test_id} ____\n{f.text}" for f in failures)
    if not failing and not result.timed_out and result.returncode != 0 and not no_tests:
        # The runner failed without naming a test (usage error, crash, missing plugin): one synthetic id,
        # so base and head can still be compared.
        failing = (f"<test run exited with code {result.returncode}>",)
        details = tail
    if len(details) > DETAILS_LIMIT:
        details = details[:DETAILS_LIMIT] + "\n…(truncated)…"
    covered, executable = coverage if coverage else ({}, {})
    total = sum(len(lines) for lines in executable.values())
    percent = (100.0 * sum(len(lines) for lines in covered.values()) / total if total else 100.0) if coverage else None
    return TestRun(
        command=tuple(argv),
        returncode=result.returncode,
        timed_out=result.timed_out,
        duration=result.duration,
        passed=report.passed if report else 0,
        failed=report.failed if report else 0,
        errors=report.errors if report else 0,
        skipped=report.skipped if report else 0,
        failing_tests=failing,
        failure_details=details,
        blamed_files=blamed_files(failures, root) if failures else tuple(sorted(frame_paths(details, root))),
        no_tests=no_tests and not failing,
        coverage_percent=percent,
        covered_lines=covered,
        executable_lines=executable,
        output_tail=tail,
    )
