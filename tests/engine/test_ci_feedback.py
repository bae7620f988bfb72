"""A run that redoes a change the repository's CI failed (the App's `ci-retry`): the real engine drops the files the
CI blames before its first attempt, and its attempts continue the count already spent (three in all)."""

from evolve.engine import run_engine
from evolve.results import Failed
from evolve.runs import CiFeedback, RunOptions
from tests.repo_factory import SAMPLE_PACKAGE, make_repo

RANGES = '''
"""Ranges."""


class Range(object):
    """A range."""

    def __init__(self, low, high):
        self.low = low
        self.high = high
'''


def test_ci_blamed_files_are_dropped_and_attempts_continue_the_count(tmp_path):
    repo = make_repo(tmp_path / "sample", {**SAMPLE_PACKAGE, "sample/ranges.py": RANGES})
    failure = Failed("ci", "the repository's CI failed: tests (3.8)", blame=("sample/shapes.py",), details="FAILED")
    report = run_engine(repo, RunOptions(focus="modernize", ci_feedback=CiFeedback(failure, attempts_used=1)))
    assert report.status == "succeeded", report.message
    ci, passed = report.attempts[0], report.attempts[-1]
    assert ci.number == 1 and ci.narrowed == ("sample/shapes.py",) and ci.note.startswith("CI: dropped 1 file blamed")
    assert [g.gate for g in ci.gate_results] == ["ci"]
    assert passed.number == 2 and passed.passed
    assert [e.path for e in report.final_edits] == ["sample/ranges.py"]


def test_no_attempt_is_left_after_three(tmp_path):
    repo = make_repo(tmp_path / "sample", {**SAMPLE_PACKAGE, "sample/ranges.py": RANGES})
    failure = Failed("ci", "the repository's CI failed: lint", blame=("sample/ranges.py",))
    report = run_engine(repo, RunOptions(focus="modernize", ci_feedback=CiFeedback(failure, attempts_used=3)))
    assert report.status != "succeeded" and max(a.number for a in report.attempts) == 3


class RecordingModel:
    """Stands in for the LLM provider: records the feedback it is asked with and proposes one edit."""

    def __init__(self) -> None:
        self.feedback = []

    def propose(self, workspace, plan, feedback=None, findings=()):
        from evolve.edits import FileEdit, ProviderOutcome

        self.feedback.append(feedback)
        return ProviderOutcome("llm", (FileEdit("pkg/a.py", "x = 1\n", "x = 2\n", "llm"),), ("asked again",))


def test_with_the_llm_stage_the_model_gets_the_ci_failure_and_its_log(tmp_path):
    from evolve.edits import FileEdit
    from evolve.engine.attempt_loop import after_ci_failure
    from evolve.engine.values import LoopState, Proposal, RunSetup
    from evolve.findings import ScanResult
    from evolve.llm.prompts import feedback_section
    from evolve.plan.tasks import Plan

    failure = Failed("ci", "the repository's CI failed: tests", blame=("pkg/a.py",), details="FAILED test_a - boom")
    setup = RunSetup(
        None, "0" * 40, "r", tmp_path, tmp_path / "head", RunOptions(ci_feedback=CiFeedback(failure, 1)), None
    )  # type: ignore[arg-type]
    model = RecordingModel()
    edit = FileEdit("pkg/a.py", "x = 1\n", "x = 3\n", "llm")
    proposal = Proposal(Plan(theme="docs", title="t", score=1.0, tasks=()), False, model, (edit,))  # type: ignore[arg-type]
    scan = ScanResult(str(tmp_path), (), (), (), None)  # type: ignore[arg-type]
    proposal, state = after_ci_failure(setup, proposal, LoopState((edit,)), scan)

    (feedback,) = model.feedback
    assert feedback.attempt == 1 and feedback.gate_results == (failure,) and feedback.previous_edits == (edit,)
    prompt = feedback_section(feedback)
    assert "FAILED test_a - boom" in prompt and "files blamed: pkg/a.py" in prompt  # fenced as untrusted there
    assert state.edits == proposal.edits and state.edits[0].after == "x = 2\n"
    assert state.attempts[0].note.startswith("CI: ") and state.attempts[0].number == 1
