"""A gate judged from the base and head scans of the changed files: subclasses implement one pure `judge`."""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Sequence
from typing import TypeVar

from pydantic import BaseModel

from evolve.findings import ScanResult
from evolve.gate_api import Gate, GateContext, MeasurementError, fetch_scan, measurement_errored
from evolve.results import GateResult
from gates.changed_code import python_paths

SettingsT = TypeVar("SettingsT", bound=BaseModel)


class ScanGate(Gate[SettingsT]):
    """Fetches the shared scans of base and head and hands them to :meth:`judge`."""

    def skipped(self) -> GateResult | None:
        """A Skipped result when the settings turn this gate off; None to run it."""
        return None

    def evaluate(self, context: GateContext) -> GateResult:
        """Scan both trees (once, shared with other gates) and judge the changed Python files."""
        early = self.skipped()
        if early is not None:
            return early
        try:
            base = fetch_scan(context, "base")
            head = fetch_scan(context, "head")
        except MeasurementError as error:
            return measurement_errored(self.name, error)
        return self.judge(base, head, python_paths(context.changed_files))

    @abstractmethod
    def judge(self, base: ScanResult, head: ScanResult, paths: Sequence[str]) -> GateResult:
        """Decide from the two scans, restricted to `paths`."""
