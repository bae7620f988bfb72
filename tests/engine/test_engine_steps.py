"""The engine's pure steps, without I/O: judging an attempt, the endings' reports, timings, planning from a scan."""

from dataclasses import replace
from pathlib import Path

import pytest

from evolve.codemods.base import Change
from evolve.configuration.model import EvolveConfig
from evolve.edits import FileEdit
from evolve.engine.attempt_loop import (
    ASK_AGAIN_NOTE,
    UNPROVABLE_NOTE,
    judge_attempt,
    why_the_run_cannot_judge,
    with_test_time,
)
from evolve.engine.attempts import AttemptOutcome, BaseMeasurements
from evolve.engine.finish import changed_findings
from evolve.engine.planning import CodemodCatalog, deterministic_request, plan_from_scan, plan_request
from evolve.engine.providers import CodemodProvider
from evolve.engine.reports import (
    UNPROVABLE_MESSAGE,
    branch_name,
    codemods_used,
    commit_message,
    dry_run,
    environment_failed,
    failure_message,
    failure_status,
    needs_llm,
    nothing_planned,
    success_message,
)
from evolve.engine.run import with_total_time
from evolve.engine.values import LlmStage, LoopState, Proposal, ReportBasis
from evolve.environments.model import EnvironmentFailure
from evolve.findings import Finding, RepoMetrics, ScanResult, stable_finding_id
from evolve.plan.tasks import Plan, Task
from evolve.project_rules.model import ProjectRules
from evolve.run_status import RunStatus
from evolve.runs import AttemptRecord, RunOptions, RunReport
from evolve.suites.runs import TestRun

PLAN = Plan(
    theme="correctness",
    title="Compare to None with `is`",
    tasks=(Task("codemod", "a.py", "none-comparison"),),
    score=1.0,
)
BASIS = ReportBasis("run1", "repo", "abc123", PLAN, (("research", 1.0),), ("ruff",))


def edit(path: str, codemod: str = "none-comparison") -> FileEdit:
    return FileEdit(path, "x == None\n", "x is None\n", "codemods", (Change(codemod, 1, "is None"),))


def suite_run(seconds: float) -> TestRun:
    return TestRun(command=("pytest",), returncode=0, timed_out=False, duration=seconds, passed=3)


def outcome(*results: object, edits: tuple[FileEdit, ...] = (), head_seconds: float | None = None) -> AttemptOutcome:
    from evolve.results import GateResult

    head = suite_run(head_seconds) if head_seconds is not None else None
    gate_results = tuple(r for r in results if isinstance(r, GateResult))
    return AttemptOutcome(gate_results=gate_results, diff="", changed_lines={}, head_tests=head, edits=edits)


def passed(gate: str = "tests") -> object:
    from evolve.results import Passed

    return Passed(gate=gate, summary="ok")


def failed(gate: str, blame: tuple[str, ...] = ()) -> object:
    from evolve.results import Failed

    return Failed(gate=gate, summary="no", blame=blame)


def test_a_passing_attempt_keeps_its_edits_and_adds_its_head_test_time():
    edits = (edit("a.py"),)
    state = LoopState(edits, provider_notes=("note",), head_test_seconds=2.0)
    judged = judge_attempt(state, 1, outcome(passed(), edits=edits, head_seconds=3.0), True, None)
    assert judged.verdict == "passed" and judged.ends_loop
    assert judged.state.head_test_seconds == 5.0 and judged.state.edits == edits
    (record,) = judged.state.attempts
    assert record.number == 1 and record.provider_notes == ("note",) and record.edits == edits


def test_a_failing_codemod_attempt_narrows_to_the_unblamed_files_and_forgets_the_notes():
    edits = (edit("a.py"), edit("b.py"))
    state = LoopState(edits, provider_notes=("note",))
    judged = judge_attempt(state, 1, outcome(failed("lint", ("a.py",)), edits=edits), True, None)
    assert judged.verdict == "narrowed" and not judged.ends_loop
    assert [e.path for e in judged.state.edits] == ["b.py"] and judged.state.provider_notes == ()
    (record,) = judged.state.attempts
    assert record.narrowed == ("a.py",) and "lint" in record.note and record.provider_notes == ("note",)
    assert [r.gate for r in judged.state.last_results] == ["lint"]


def test_a_failing_llm_attempt_asks_the_model_again():
    edits = (edit("a.py"),)
    judged = judge_attempt(LoopState(edits), 2, outcome(failed("tests"), edits=edits), False, None)
    assert judged.verdict == "ask-again" and judged.state.edits == edits
    assert judged.state.attempts[-1].note == ASK_AGAIN_NOTE and judged.state.attempts[-1].number == 2


def test_an_attempt_with_every_edit_left_out_is_unprovable_and_keeps_the_last_results():
    edits = (edit("b.py"), edit("a.py"))
    before = LoopState(edits, last_results=(failed("lint"),))  # type: ignore[arg-type]
    judged = judge_attempt(before, 1, outcome(edits=()), True, None)
    assert judged.verdict == "unprovable" and judged.ends_loop
    (record,) = judged.state.attempts
    assert record.narrowed == ("a.py", "b.py") and record.note == UNPROVABLE_NOTE and record.gate_results == ()
    assert judged.state.last_results == before.last_results


def test_a_suite_that_cannot_start_on_base_ends_the_loop_before_anything_else():
    edits = (edit("a.py"),)
    judged = judge_attempt(LoopState(edits), 1, outcome(passed(), edits=edits), True, "the test command was not found")
    assert judged.verdict == "cannot-check" and "the test command was not found" in judged.message
    assert with_test_time(BASIS, judged, BaseMeasurements()) == BASIS  # no edits were tried: no test timing


def test_a_plan_that_fixes_why_base_cannot_start_is_judged_once_heads_suite_starts():
    # cachetools 2.0.1 on Python 3.11: every test module fails to import (`collections.MutableMapping`).
    red_base = TestRun(
        command=("pytest",),
        returncode=2,
        timed_out=False,
        duration=1.0,
        errors=9,
        output_tail="E   AttributeError: module 'collections' has no attribute 'MutableMapping'\n!!! Interrupted: 9 errors",
    )
    measured = BaseMeasurements(tests=red_base)
    red_plan = ReportBasis("run1", "repo", "abc123", replace(PLAN, red_tests=("3.11: tests/test_cache.py",)))
    starts = outcome(passed(), edits=(edit("a.py"),), head_seconds=2.0)
    assert why_the_run_cannot_judge(red_plan, starts, measured) is None
    still_red = AttemptOutcome((), "", {}, head_tests=red_base, edits=(edit("a.py"),))
    assert "9 collection errors" in (why_the_run_cannot_judge(red_plan, still_red, measured) or "")
    assert "9 collection errors" in (why_the_run_cannot_judge(BASIS, starts, measured) or "")  # plan fixes no red test
    assert why_the_run_cannot_judge(BASIS, starts, BaseMeasurements(tests=suite_run(1.0))) is None


def test_a_gate_that_cannot_check_ends_the_loop_instead_of_narrowing():
    from evolve.results import Errored

    edits = (edit("a.py"), edit("b.py"))
    broken = Errored(gate="types", summary="mypy is not installed.", blame=("a.py",), cannot_check=True)
    judged = judge_attempt(LoopState(edits), 1, outcome(broken, edits=edits), True, None)
    assert judged.verdict == "cannot-check" and judged.ends_loop and "types: mypy is not installed" in judged.message
    assert judged.state.attempts[0].edits == edits and judged.state.attempts[0].narrowed == ()


def test_test_time_is_base_plus_every_head_run():
    edits = (edit("a.py"),)
    judged = judge_attempt(
        LoopState(edits, head_test_seconds=1.0), 1, outcome(passed(), edits=edits, head_seconds=2.0), True, None
    )
    measured = BaseMeasurements(tests=suite_run(4.0))
    assert dict(with_test_time(BASIS, judged, measured).timings)["tests"] == 7.0


def test_timings_keep_their_first_order_and_accumulate():
    basis = BASIS.timed("edits", 2.0).add_time("gates", 1.0).add_time("gates", 0.5).timed("research", 3.0)
    assert basis.timings == (("research", 3.0), ("edits", 2.0), ("gates", 1.5))
    assert BASIS.timings == (("research", 1.0),)  # values are never changed in place
    report = basis.report(RunStatus.FAILED, "m")
    assert report.timings == {"research": 3.0, "edits": 2.0, "gates": 1.5} and report.rules == ("ruff",)


def test_total_time_and_overhead_exclude_the_test_runs():
    report = with_total_time(RunReport("r", RunStatus.FAILED, "repo", None, None, timings={"tests": 4.0}), 10.0)
    assert report.duration_seconds == 10.0 and report.timings == {"tests": 4.0, "total": 10.0, "overhead": 6.0}


@pytest.mark.parametrize(
    ("state", "message", "status"),
    [
        (
            LoopState((), provider_notes=("skipped x.py: binary",)),
            "The plan produced no edits: skipped x.py: binary.",
            "failed",
        ),
        (LoopState(()), "The plan produced no edits: every candidate was left unchanged.", "failed"),
        (
            LoopState((), attempts=(AttemptRecord(1, (), (), proof={"hunks": [{}]}),)),
            UNPROVABLE_MESSAGE,
            "nothing-to-do",
        ),
    ],
)
def test_why_nothing_was_committed(state, message, status):
    assert failure_message(state) == message and failure_status(state) == status


def test_failing_gates_are_named_in_the_failure_message():
    state = LoopState(
        (),
        attempts=(AttemptRecord(1, (), ()), AttemptRecord(2, (), ())),
        last_results=(failed("tests"), failed("lint"), passed("syntax")),  # type: ignore[arg-type]
    )
    assert (
        failure_message(state)
        == "No change passed every gate in 2 attempts (last failing: lint, tests); nothing was committed."
    )
    assert failure_status(state) == RunStatus.FAILED


def test_endings_before_the_attempts():
    empty = Plan("none", "", (), 0.0, notes=("no findings",))
    report = nothing_planned(BASIS, empty, LlmStage(notes=("LLM off",)))
    assert report.status == RunStatus.NOTHING_TO_DO and report.message == "Nothing to do: no findings."
    assert report.llm == {"notes": ["LLM off"]} and nothing_planned(BASIS, empty, LlmStage()).llm == {}
    assert needs_llm(BASIS).message == "The plan needs the LLM stage, which is not configured."
    failure = EnvironmentFailure("pip install failed")
    built = environment_failed(BASIS, failure)
    assert built.status == RunStatus.ERROR and built.message == failure.message and built.rules == ()
    assert environment_failed(BASIS, None).message == "could not build the test environment"


def test_a_dry_run_reports_the_diff_and_the_codemods_used():
    edits = (edit("a.py"),)
    proposal = Proposal(PLAN, True, CodemodProvider((3, 10)), edits, ("n",))
    catalog = {"none-comparison": {"id": "none-comparison"}, "other": {"id": "other"}}
    report = dry_run(BASIS, proposal, catalog, {})
    assert report.status == RunStatus.DRY_RUN and report.diff == edits[0].diff()
    assert report.codemods == ({"id": "none-comparison"},) and report.attempts[0].provider_notes == ("n",)
    assert codemods_used((edit("a.py", "uninstalled"),), catalog) == ()


def test_commit_message_branch_name_and_success_message():
    edits = (edit("a.py"), edit("b.py", "not-in"))
    message = commit_message(PLAN, edits, 2, "run1")
    assert message.splitlines()[0] == "evolve: compare to None with `is`"
    assert "2 files changed, 2 findings resolved" in message and "Codemods: none-comparison, not-in." in message
    assert message.endswith("Evolve-Run: run1\n")
    name = branch_name(RunOptions(), PLAN, "abc")
    assert name.startswith("evolve/correctness-") and name == branch_name(RunOptions(), PLAN, "abc")
    assert name != branch_name(RunOptions(), PLAN, "abd")
    assert branch_name(RunOptions(branch_name="mine"), PLAN, "abc") == "mine"
    assert success_message(edits, "evolve/x", "") == "Evolve made 2 changes in 2 files that pass every gate."
    assert success_message(edits, "evolve/x-2", "taken").endswith("Note: taken; the change is on `evolve/x-2` instead.")


def finding(rule: str, path: str) -> Finding:
    return Finding(
        stable_finding_id("codemod", rule, path, None, "1"), "codemod", rule, path, 1, 1, None, "low", 0.5, rule
    )


def scan(*findings: Finding) -> ScanResult:
    totals = RepoMetrics(1, 1, 1, 1, 1.0, 1, 100.0, 100.0, len(findings), 0)
    return ScanResult(str(Path("/nonexistent")), (), findings, (), totals)


CATALOG = CodemodCatalog(
    themes={"none-comparison": "correctness", "object-base": "modernize"},
    lint_codes={"none-comparison": ("E711",), "object-base": ()},
    enabled=frozenset({"none-comparison", "object-base"}),
)


def test_the_plan_comes_from_the_scan_the_rules_and_the_options():
    found = scan(finding("none-comparison", "a.py"), finding("object-base", "b.py"))
    request = plan_request(EvolveConfig(), RunOptions(focus="modernize"), False)
    plan = plan_from_scan(found, request, CATALOG, ProjectRules())
    assert plan.theme == "modernize" and [t.path for t in plan.tasks] == ["b.py"]
    blocked = plan_request(EvolveConfig(), RunOptions(blocked_codemods=frozenset({"object-base"})), False)
    assert {t.codemod for t in plan_from_scan(found, blocked, CATALOG, ProjectRules()).tasks} == {"none-comparison"}


def test_the_deterministic_fallback_drops_an_llm_only_focus():
    llm_focus = plan_request(EvolveConfig(), RunOptions(focus="docstrings"), True)
    assert (
        deterministic_request(llm_focus, CATALOG).focus is None and not deterministic_request(llm_focus, CATALOG).llm_on
    )
    codemod_focus = plan_request(EvolveConfig(), RunOptions(focus="object-base"), True)
    assert deterministic_request(codemod_focus, CATALOG).focus == "object-base"


def test_changed_findings_are_resolved_and_new_ids():
    a, b, c = finding("none-comparison", "a.py"), finding("none-comparison", "b.py"), finding("object-base", "c.py")
    assert changed_findings(scan(a, b), scan(b, c)) == ((a.id,), (c.id,))


def test_a_head_whose_change_broke_its_environment_fails_its_tests_with_the_builders_words():
    from evolve.engine.attempts import broken_head_run

    run = broken_head_run(EnvironmentFailure("pip could not resolve foo==9"))
    assert not run.ok and run.failing_tests == ("<head's test environment>",)
    assert "pip could not resolve foo==9" in run.failure_details and run.output_tail == run.failure_details
