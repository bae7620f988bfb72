"""Gates that read no shared measurement (lint, types) run beside the others; results keep the configured order."""

from __future__ import annotations

import threading

from evolve.configuration.model import EvolveConfig
from evolve.gate_api import Gate, GateContext
from evolve.gating.running import evaluate_gates
from evolve.results import Failed, GateResult, Passed
from gates.lint_gate import LintGate
from gates.types_gate import TypesGate

started = threading.Event()
released = threading.Event()


class WaitsForTheChecker(Gate):
    """Stands for the tests gate: it blocks (on a test run) while an independent gate's check is under way."""

    name = "waits"
    description = "waits until the independent gate has started"

    def evaluate(self, context: GateContext) -> GateResult:
        seen = started.wait(timeout=60)
        released.set()
        return Passed(gate=self.name, summary="ok") if seen else Failed(gate=self.name, summary="ran alone")


class Checker(Gate):
    name = "checker"
    description = "an independent check"
    independent = True

    def evaluate(self, context: GateContext) -> GateResult:
        started.set()
        return (
            Passed(gate=self.name, summary="ok") if released.wait(timeout=60) else Failed(gate=self.name, summary="x")
        )


class Crashes(Gate):
    name = "crashes"
    description = "raises"
    independent = True

    def evaluate(self, context: GateContext) -> GateResult:
        raise RuntimeError("boom")


def test_independent_gates_overlap_the_others_and_results_keep_their_order(tmp_path):
    context = GateContext(tmp_path, tmp_path, (), EvolveConfig())
    results = evaluate_gates([WaitsForTheChecker(), Crashes(), Checker()], context)
    assert [r.gate for r in results] == ["waits", "crashes", "checker"]
    assert results[0].status == "passed" and results[2].status == "passed"  # they ran at the same time
    assert results[1].status == "errored" and "RuntimeError: boom" in results[1].summary
    assert LintGate.independent and TypesGate.independent


scan_judged = threading.Event()


class SuitesGate(Gate):
    """Stands for the tests gate: it waits on the suites, which end only after the scan gate has judged."""

    name = "tests"
    description = "waits for the suites"

    def evaluate(self, context: GateContext) -> GateResult:
        judged_first = scan_judged.wait(timeout=60)
        return Passed(gate=self.name, summary="ok") if judged_first else Failed(gate=self.name, summary="waited alone")


class ReadsCoverage(Gate):
    name = "reads-coverage"
    description = "reads the test runs: judges after the tests gate, in its thread"

    def measures(self):
        return frozenset({"coverage"})

    def evaluate(self, context: GateContext) -> GateResult:
        return Passed(gate=self.name, summary="ok") if scan_judged.is_set() else Failed(gate=self.name, summary="x")


class ReadsScans(Gate):
    name = "reads-scans"
    description = "reads only scans: judges without waiting for the suites"

    def evaluate(self, context: GateContext) -> GateResult:
        scan_judged.set()
        return Passed(gate=self.name, summary="ok")


def test_gates_reading_only_scans_judge_while_the_suites_run(tmp_path):
    context = GateContext(tmp_path, tmp_path, (), EvolveConfig())
    results = evaluate_gates([SuitesGate(), ReadsCoverage(), ReadsScans()], context)
    assert [r.gate for r in results] == ["tests", "reads-coverage", "reads-scans"]
    assert [r.status for r in results] == ["passed", "passed", "passed"]
