"""Mutation gate: would the tests notice a mistake in the lines the change touches?

Mutants are made only on changed lines that the tests run (per-test coverage contexts of the trees' own runs) and
that are not arid, a few per line; each runs against the tests that run its line, in the sandbox, within a budget.
Base's lines that the change replaces get the same treatment, so the gate can tell a change that leaves its lines
less tested from one that only keeps base's gaps. It fails only when the change lowers the score of the lines it
touches (with more survivors than base had), or when the project sets a threshold and the score is below it.
Survivors of a behaviour-preserving change are review guidance, listed in the PR.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from evolve.gate_api import Gate, GateContext, Measurement, MeasurementError, fetch_test_run, measurement_errored
from evolve.mutation.evidence import ChangeEvidence, counts_line, measure_change, survivor_line
from evolve.mutation.generation import Candidates, MutationLimits
from evolve.mutation.operators import OPERATORS
from evolve.mutation.results import MutationRun
from evolve.mutation.runner import RunSettings, run_mutants
from evolve.results import Failed, GateResult, Metric, Passed, Skipped
from evolve.suites.test_contexts import TestContexts
from evolve.wording import plural
from gates.changed_code import EPSILON, number

Operator = Literal["comparison", "boolean", "condition", "return", "call", "constant"]
MIN_BUDGET = 30.0
BUDGET_PER_SUITE = 1.5  # the target: the gate adds at most 1.5x one suite run
MAX_SURVIVORS_LISTED = 50


class MutationSettings(BaseModel):
    """`gates.mutation: {budget_seconds, threshold, ...}`."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    enabled: bool = True
    # Wall time for running the mutants; None: 1.5x base's suite run, at least 30 s.
    budget_seconds: float | None = Field(None, gt=0, le=7200)
    # The lowest mutation score (%) of the changed lines the project accepts; None: only "not lower than base".
    threshold: float | None = Field(None, ge=0, le=100)
    per_line: int = Field(2, ge=1, le=6)  # mutants per changed line, one per operator
    max_mutants: int = Field(60, ge=1, le=2000)  # mutants per change
    operators: tuple[Operator, ...] = OPERATORS  # type: ignore[assignment]
    workers: int = Field(0, ge=0, le=64)  # parallel mutants; 0: one per core
    compare_base: bool = True  # also mutate the base lines the change replaces, to compare scores


class MutationGate(Gate[MutationSettings]):
    """Mutants of the covered, non-arid changed lines are killed by their covering tests as well as base's were."""

    name = "mutation"
    description = "The tests notice mistakes in the changed lines (diff-based mutation testing)."
    after_others = True

    Settings = MutationSettings

    def measures(self) -> frozenset[Measurement]:
        """Coverage with per-test contexts on both trees."""
        return frozenset({"coverage", "test-contexts"}) if self.settings.enabled else frozenset()

    def evaluate(self, context: GateContext) -> GateResult:
        """Run head's (and base's) mutants and compare."""
        if not self.settings.enabled:
            return Skipped(gate=self.name, summary="The mutation gate is disabled in the configuration.")
        if not context.code_changed:
            return Skipped(gate=self.name, summary="No executable statement changed: nothing to mutate.")
        try:
            head_run = fetch_test_run(context, "head")
            base_run = fetch_test_run(context, "base") if self.settings.compare_base else None
        except MeasurementError as error:
            return measurement_errored(self.name, error)
        head_contexts = TestContexts.from_dict(head_run.test_contexts)
        if head_contexts is None:
            return Skipped(
                gate=self.name,
                summary="No per-test coverage was recorded (the suite does not run under pytest, or it timed out): "
                "no mutant can be matched to its tests.",
            )
        base_contexts = TestContexts.from_dict(base_run.test_contexts) if base_run is not None else None
        budget = self.settings.budget_seconds or max(MIN_BUDGET, BUDGET_PER_SUITE * (base_run or head_run).duration)
        limits = MutationLimits(self.settings.per_line, self.settings.max_mutants, tuple(self.settings.operators))
        workers = self.settings.workers or max(1, os.cpu_count() or 1)

        def run(which: str, candidates: Candidates, parallel: int) -> MutationRun:
            tree = context.tree("head" if which == "head" else "base")
            return run_mutants(
                tree,
                candidates.mutants,
                context.config,
                settings=RunSettings(budget_seconds=budget, workers=parallel),
                environment=context.environment("head" if which == "head" else "base"),
            )

        evidence = measure_change(
            {"head": Path(context.head), "base": Path(context.base)},
            context.changed_lines,
            {"head": head_contexts, "base": base_contexts},
            limits,
            run,
            workers,
        )
        return judge_mutation(evidence, self.settings)


def judge_mutation(evidence: ChangeEvidence, settings: MutationSettings) -> GateResult:
    """The gate's verdict on the evidence (pure)."""
    head, candidates = evidence.head, evidence.head_candidates
    if not candidates.mutants:
        reason = (
            f"{plural(candidates.uncovered_lines, 'changed line')} with possible mutants "
            f"{'runs' if candidates.uncovered_lines == 1 else 'run'} under no test"
            if candidates.uncovered_lines
            else "no changed line holds a mutable, non-arid expression"
        )
        return Skipped(gate="mutation", summary=f"Nothing to mutate: {reason}.")
    if not head.clean_ok:
        return Skipped(gate="mutation", summary=f"No mutant verdict: {head.problem}."[:300], details=head.problem)
    base = evidence.base if evidence.base is not None and evidence.base.generated else None
    metrics = (Metric("mutation score (changed lines)", base.score if base else None, head.score, "higher", "%"),)
    details = _details(evidence)
    summary = (
        f"{head.generated} mutant(s) of the changed lines: {head.count('killed')} killed, "
        f"{head.count('survived')} survived, {head.count('timeout')} timed out"
        + (f", {head.count('not-run')} not run (budget)" if head.count("not-run") else "")
        + f"; score {number(head.score)}%"
        + (f" (base's lines {number(base.score)}%)" if base is not None else "")
        + "."
    )
    blame = tuple(sorted({mutant.path for mutant in head.survivors}))
    problems = []
    if settings.threshold is not None and head.score is not None and head.score < settings.threshold - EPSILON:
        problems.append(
            f"the mutation score {number(head.score)}% is below the threshold {number(settings.threshold)}%"
        )
    if (
        base is not None
        and base.score is not None
        and head.score is not None
        and head.score < base.score - EPSILON
        and len(head.survivors) > len(base.survivors)
    ):
        problems.append(
            f"the change lowers the mutation score of its lines from {number(base.score)}% to {number(head.score)}%"
        )
    if problems:
        text = "; ".join(problems)
        return Failed(
            gate="mutation",
            summary=text[0].upper() + text[1:] + ". " + summary,
            metrics=metrics,
            blame=blame,
            details=details,
        )
    return Passed(gate="mutation", summary=summary, metrics=metrics, details=details)


def _details(evidence: ChangeEvidence) -> str:
    head = evidence.head
    lines = [counts_line("head", head)]
    if evidence.base is not None and evidence.base.generated:
        lines.append(counts_line("base", evidence.base))
    lines.extend(survivor_line(head, index) for index in range(min(len(head.survivors), MAX_SURVIVORS_LISTED)))
    if len(head.survivors) > MAX_SURVIVORS_LISTED:
        lines.append(f"... and {len(head.survivors) - MAX_SURVIVORS_LISTED} more survivors")
    return "\n".join(lines)
