"""How gates obtain the shared measurements of a GateContext, and a builder of contexts that compute them once."""

from __future__ import annotations

import functools
import traceback
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Literal, TypeVar

from evolve.config import EvolveConfig
from evolve.findings import ScanResult
from evolve.suites.runs import TestRun, run_test_suite
from gates.base import Errored, GateContext

if TYPE_CHECKING:
    from gates.base import GateResult

Which = Literal["base", "head"]
T = TypeVar("T")


class MeasurementError(Exception):
    """A scan or test run a gate needs is not available or failed to compute."""

    def __init__(self, message: str, details: str = "") -> None:
        super().__init__(message)
        self.details = details


def fetch_scan(context: GateContext, which: Which) -> ScanResult:
    """The scan of one tree, computed once and shared; raises MeasurementError when unavailable."""
    if context.scan is None:
        raise MeasurementError("no scan of the trees was provided to the gates")
    return _call(context.scan, which, "scanning")


def fetch_test_run(context: GateContext, which: Which) -> TestRun:
    """The test run of one tree, computed once and shared; raises MeasurementError when unavailable."""
    if context.run_tests is None:
        raise MeasurementError("no test runner was provided to the gates")
    return _call(context.run_tests, which, "running the tests of")


def measurement_errored(gate: str, error: MeasurementError) -> GateResult:
    """The Errored result of a gate that could not get its measurements."""
    return Errored(gate=gate, summary=f"The {gate} gate could not measure: {error}."[:300], details=error.details)


def _call(function: Callable[[Which], T], which: Which, doing: str) -> T:
    try:
        return function(which)
    except MeasurementError:
        raise
    except Exception as error:
        details = "".join(traceback.format_exception(error))
        raise MeasurementError(f"{doing} {which} failed with {type(error).__name__}: {error}", details) from error


def build_context(
    base: Path,
    head: Path,
    changed_files: Sequence[str],
    config: EvolveConfig,
    *,
    changed_lines: Mapping[str, Sequence[int]] | None = None,
    with_coverage: bool | None = None,
    with_semgrep: bool | None = None,
) -> GateContext:
    """A GateContext whose scans (of the changed files) and test runs are computed lazily, once per tree.

    Coverage is measured when the coverage gate is enabled, so the tests and coverage gates share one run.
    """
    trees = {"base": Path(base), "head": Path(head)}
    paths = tuple(changed_files)
    if with_coverage is None:
        with_coverage = "coverage" in config.gates.enabled and config.gates.coverage.enabled
    if with_semgrep is None:
        with_semgrep = "security" in config.gates.enabled and config.gates.security.enabled

    @functools.cache
    def scan(which: Which) -> ScanResult:
        from evolve.research import scan_repository  # research is optional for gates that never scan

        present = [path for path in paths if (trees[which] / path).is_file()]  # deleted files have nothing to scan
        return scan_repository(trees[which], config, paths=present, with_semgrep=bool(with_semgrep))

    @functools.cache
    def run_tests(which: Which) -> TestRun:
        return run_test_suite(trees[which], config, with_coverage=bool(with_coverage))

    return GateContext(
        base=trees["base"],
        head=trees["head"],
        changed_files=paths,
        config=config,
        changed_lines={path: tuple(lines) for path, lines in (changed_lines or {}).items()},
        scan=scan,
        run_tests=run_tests,
    )
