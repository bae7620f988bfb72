"""What a gate plugin implements and uses: the `Gate` base class, its `GateContext`, and the shared measurements.

Scans and test runs are computed lazily, once per tree, whatever the number of gates that read them.
"""

from __future__ import annotations

import traceback
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar, Generic, Literal, TypeVar, cast

from pydantic import BaseModel

from evolve.plugins import NoSettings
from evolve.results import Errored, GateResult

if TYPE_CHECKING:
    from evolve.configuration.model import EvolveConfig
    from evolve.environments.model import Environment
    from evolve.findings import ScanResult
    from evolve.project_rules.model import ProjectRules
    from evolve.suites.runs import TestRun

Which = Literal["base", "head"]
# Measurements that cost extra and are taken only when an enabled gate reads them. "coverage" is line coverage
# (head's limited to the changed library modules when that is all the change touches); "full-coverage" asks for
# every file of head measured; "test-contexts" which tests run each line (per-test coverage contexts, pytest).
Measurement = Literal["coverage", "full-coverage", "semgrep", "test-contexts"]
T = TypeVar("T")
SettingsT = TypeVar("SettingsT", bound=BaseModel)


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
    """The Errored result of a gate that could not get its measurements: Evolve's failure, not the change's."""
    return Errored(
        gate=gate,
        summary=f"The {gate} gate could not measure: {error}."[:300],
        details=error.details,
        cannot_check=True,
    )


def _call(function: Callable[[Which], T], which: Which, doing: str) -> T:
    try:
        return function(which)
    except MeasurementError:
        raise
    except Exception as error:
        details = "".join(traceback.format_exception(error))
        raise MeasurementError(f"{doing} {which} failed with {type(error).__name__}: {error}", details) from error


@dataclass
class GateContext:
    """What a gate sees: the base and head trees, what changed, the config, and shared lazy measurements.

    Scans and test runs are computed once per tree and shared by every gate through the callables below.
    """

    base: Path
    head: Path
    changed_files: tuple[str, ...]
    config: EvolveConfig
    # path -> changed line numbers in head (1-based), for plugins. The coverage gate counts changed lines with
    # evolve/proof/executed_lines.py from the trees, as the report does.
    changed_lines: dict[str, tuple[int, ...]] = field(default_factory=dict)
    scan: Callable[[Literal["base", "head"]], ScanResult] | None = None
    run_tests: Callable[[Literal["base", "head"]], TestRun] | None = None
    # The project's own tool settings, read once per run from base (None: read on first use).
    rules: ProjectRules | None = None
    # The environment each tree's code runs in (the project's own, built by uv); absent: Evolve's interpreter.
    environments: Mapping[Which, Environment] = field(default_factory=dict)
    # False when every edit changes only docstrings, comments, layout or annotations: head runs the statements
    # base runs, so its coverage is base's and head's suite runs without the coverage tracer.
    code_changed: bool = True

    def tree(self, which: Literal["base", "head"]) -> Path:
        """The root of the named tree."""
        return self.base if which == "base" else self.head

    def project_rules(self) -> ProjectRules:
        """The project's rules (ruff, flake8, mypy, pyright ... settings), read from base at most once."""
        if self.rules is None:
            from evolve.project_rules import read_project_rules

            self.rules = read_project_rules(self.base)
        return self.rules

    def environment(self, which: Which) -> Environment | None:
        """The environment the tree's code and the project's own tools run in, or None (Evolve's own)."""
        return self.environments.get(which)


class Gate(ABC, Generic[SettingsT]):
    """Base class of gates. Subclasses set `name`, `description` and `Settings`, and implement `evaluate`.

    `Settings` is the gate's typed settings model (pydantic): the user writes them as `gates.<name>: {...}`
    and they are validated against this model when the configuration loads.
    """

    name: ClassVar[str]
    description: ClassVar[str]
    Settings: ClassVar[type[BaseModel]] = NoSettings
    # True for a gate that reads no shared measurement (scans, test runs) and only runs its own tools: it is
    # evaluated in a thread beside the other gates, so its subprocesses overlap the test runs.
    independent: ClassVar[bool] = False
    # True for a gate that judges only a change the other gates let through (the mutation gate): evaluated after
    # them, and skipped when one of them did not pass.
    after_others: ClassVar[bool] = False

    def __init__(self, settings: SettingsT | None = None) -> None:
        self.settings: SettingsT = settings if settings is not None else cast("SettingsT", self.Settings())

    def measures(self) -> frozenset[Measurement]:
        """The optional measurements this gate reads: coverage in the test runs, semgrep in the scans."""
        return frozenset()

    @abstractmethod
    def evaluate(self, context: GateContext) -> GateResult:
        """Compare base and head; return Passed, Failed, Skipped or Errored. Never raise."""
