"""The attempt loop: run the gates on the edits, judge the attempt (pure), then stop, narrow or ask again.

Each attempt is one call to `evolve.engine.attempts.run_attempt` (the I/O); `judge_attempt` decides from its outcome
what the next state is, without touching anything. A check between attempts (cancellation, a deadline) belongs
at the top of the loop in `run_attempts`, where no attempt is half done.
"""

from __future__ import annotations

import time
from dataclasses import replace

from evolve.edits import FileEdit
from evolve.engine.attempts import AttemptOutcome, AttemptTrees, BaseMeasurements, run_attempt
from evolve.engine.narrowing import narrow_edits
from evolve.environments.model import Environment
from evolve.findings import ScanResult
from evolve.runs import AttemptFeedback, AttemptRecord
from evolve.suites.startup import cannot_run_message, cannot_start_reason

from .mutant_tests import merged_verdicts
from .proposal import TestProving, propose
from .values import Drafted, Judged, LoopEnd, LoopState, Measured, Proposal, ReportBasis, RunSetup

UNPROVABLE_NOTE = "every change was left out: no test executes it and nothing proves it equivalent"
ASK_AGAIN_NOTE = "failing gates' evidence goes back to the model"


def _recorded(state: LoopState, record: AttemptRecord) -> LoopState:
    return replace(state, attempts=(*state.attempts, record))


def _files(edits: tuple[FileEdit, ...]) -> tuple[str, ...]:
    return tuple(sorted({e.path for e in edits}))


def with_install_failure(cannot_start: str | None, environment: Environment | None) -> str | None:
    """Why base's suite cannot start, with the cause behind it when the project itself could not be installed
    (uv's words: an unsatisfiable dependency is why `No module named …` follows)."""
    if cannot_start is None or environment is None or not environment.install_failure:
        return cannot_start
    return (
        f"{cannot_start}; the project itself could not be installed ({environment.install_failure}): fix its "
        "declared dependencies, or pass --python an interpreter that has them"
    )


def stop_reason(result: AttemptOutcome, cannot_start: str | None) -> str | None:
    """Why the run must stop whatever the edits: base's suite cannot start, or a gate's tool cannot check (missing,
    broken environment). No change can be proven then, and narrowing would only hide that."""
    return cannot_run_message(cannot_start) if cannot_start is not None else result.cannot_check


def judge_attempt(
    state: LoopState, number: int, result: AttemptOutcome, codemod_plan: bool, cannot_start: str | None
) -> Judged:
    """What attempt `number` means for the run: base's suite cannot start or a gate cannot check, every edit was
    unprovable, the gates passed, or they failed (narrow a codemod plan; ask the model again with the evidence)."""
    proof = result.proof.to_dict() if result.proof is not None else {}
    stopped = stop_reason(result, cannot_start)
    if stopped is not None:
        record = AttemptRecord(number, result.edits or state.edits, result.gate_results, proof=proof)
        return Judged("cannot-check", _recorded(state, record), stopped)
    if not result.edits:
        record = AttemptRecord(number, state.edits, (), _files(state.edits), UNPROVABLE_NOTE, proof=proof)
        return Judged("unprovable", _recorded(state, record))
    head_seconds = result.head_tests.duration if result.head_tests is not None else 0.0
    tried = replace(
        state,
        edits=result.edits,
        last_results=result.gate_results,
        head_test_seconds=state.head_test_seconds + head_seconds,
    )
    if all(r.ok for r in result.gate_results):
        record = AttemptRecord(
            number, tried.edits, result.gate_results, provider_notes=tried.provider_notes, proof=proof
        )
        return Judged("passed", _recorded(tried, record))
    return _judge_failure(tried, AttemptRecord(number, tried.edits, result.gate_results, proof=proof), codemod_plan)


def _judge_failure(tried: LoopState, record: AttemptRecord, codemod_plan: bool) -> Judged:
    """Gates failed: a codemod plan drops the blamed edits; an LLM plan sends the evidence back to the model."""
    notes = tried.provider_notes
    if codemod_plan:
        narrowed = narrow_edits(tried.edits, record.gate_results)
        record = replace(record, narrowed=narrowed.dropped, note=narrowed.note, provider_notes=notes)
        return Judged("narrowed", replace(_recorded(tried, record), edits=narrowed.kept, provider_notes=()))
    return Judged("ask-again", _recorded(tried, replace(record, note=ASK_AGAIN_NOTE, provider_notes=notes)))


def with_test_time(basis: ReportBasis, judged: Judged, measured: BaseMeasurements) -> ReportBasis:
    """The basis with the `tests` timing (base's run plus every head run so far), once an attempt tried edits."""
    if judged.verdict in ("cannot-check", "unprovable"):
        return basis
    base_seconds = measured.tests.duration if measured.tests is not None else 0.0
    return basis.timed("tests", judged.state.head_test_seconds + base_seconds)


def _attempt(setup: RunSetup, edits: tuple[FileEdit, ...], measured: BaseMeasurements) -> tuple[AttemptOutcome, float]:
    """Apply `edits` to a fresh head and run the gates; the outcome and the seconds it took."""
    clock = time.monotonic()
    trees = AttemptTrees(setup.base, setup.head, setup.base_sha, setup.repository.git_dir)
    result = run_attempt(trees, edits, setup.config, measured, setup.progress)
    return result, time.monotonic() - clock


def fixes_why_base_cannot_start(basis: ReportBasis, result: AttemptOutcome) -> bool:
    """Base's suite cannot start, the plan fixes what research traced the failures to, and head's suite starts:
    then the gates judge the change (the run does not stop at "cannot run the tests")."""
    plan = basis.plan
    head = result.head_tests
    return bool(plan is not None and plan.red_tests and head is not None and cannot_start_reason(head) is None)


def why_the_run_cannot_judge(basis: ReportBasis, result: AttemptOutcome, measured: BaseMeasurements) -> str | None:
    """Why base's suite cannot start (with the install failure behind it), or None: it starts, or the plan fixes
    what stopped it and head's suite starts, so the gates judge the change."""
    if cannot_start_reason(measured.tests) is None or fixes_why_base_cannot_start(basis, result):
        return None
    return with_install_failure(cannot_start_reason(measured.tests), measured.environment)


def after_ci_failure(
    setup: RunSetup, proposal: Proposal, state: LoopState, scan: ScanResult
) -> tuple[Proposal, LoopState]:
    """The first edits of a run that redoes a change the repository's CI failed: a codemod plan drops the files
    the CI blames (bisects when it names none); an LLM plan gets the failure as evidence, like a failed gate's."""
    ci = setup.options.ci_feedback
    if ci is None:
        return proposal, state
    if proposal.codemod_plan:
        narrowed = narrow_edits(state.edits, (ci.result,))
        record = AttemptRecord(ci.attempts_used, state.edits, (ci.result,), narrowed.dropped, f"CI: {narrowed.note}")
        return proposal, replace(_recorded(state, record), edits=narrowed.kept)
    feedback = AttemptFeedback(ci.attempts_used, (ci.result,), state.edits)
    proposal = propose(proposal, setup.base, feedback, scan, setup.rules, TestProving(setup.config))
    record = AttemptRecord(ci.attempts_used, state.edits, (ci.result,), note=f"CI: {ASK_AGAIN_NOTE}")
    state = replace(_recorded(state, record), edits=proposal.edits, provider_notes=proposal.notes)
    return proposal, replace(state, test_verdicts=merged_verdicts(state.test_verdicts, proposal.test_verdicts))


def run_attempts(setup: RunSetup, drafted: Drafted, built: Measured, scan: ScanResult) -> LoopEnd:
    """Up to `config.attempts` attempts, until one passes every gate, the edits run out or the run must end.

    A run redoing a change CI failed continues the count: its attempts are numbered after those already spent.
    """
    proposal = drafted.proposal
    state = LoopState(proposal.edits, proposal.notes, test_verdicts=proposal.test_verdicts)
    proposal, state = after_ci_failure(setup, proposal, state, scan)
    basis = built.basis
    most = setup.config.attempts
    first = setup.options.ci_feedback.attempts_used + 1 if setup.options.ci_feedback else 1
    for number in range(first, most + 1):
        if not state.edits:
            break
        setup.say(f"attempt {number}: gates", number, most)
        result, seconds = _attempt(setup, state.edits, built.measured)
        cannot_start = why_the_run_cannot_judge(basis, result, built.measured)
        judged = judge_attempt(state, number, result, proposal.codemod_plan, cannot_start)
        basis = with_test_time(basis.add_time("gates", seconds), judged, built.measured)
        state = judged.state
        if judged.ends_loop:
            passed = result if judged.verdict == "passed" else None
            return LoopEnd(state, basis, judged.verdict, passed, judged.message)
        if judged.verdict == "ask-again" and number < most:
            feedback = AttemptFeedback(number, result.gate_results, state.edits)
            proving = TestProving(setup.config, built.measured.environment)
            proposal = propose(proposal, setup.base, feedback, scan, setup.rules, proving)
            verdicts = merged_verdicts(state.test_verdicts, proposal.test_verdicts)
            state = replace(state, edits=proposal.edits, provider_notes=proposal.notes, test_verdicts=verdicts)
    return LoopEnd(state, basis)
