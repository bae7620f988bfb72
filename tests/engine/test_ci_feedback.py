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
    assert ci.number == 1 and ci.narrowed == ("sample/shapes.py",) and ci.note.startswith("CI: dropped 1 file(s)")
    assert [g.gate for g in ci.gate_results] == ["ci"]
    assert passed.number == 2 and passed.passed
    assert [e.path for e in report.final_edits] == ["sample/ranges.py"]


def test_no_attempt_is_left_after_three(tmp_path):
    repo = make_repo(tmp_path / "sample", {**SAMPLE_PACKAGE, "sample/ranges.py": RANGES})
    failure = Failed("ci", "the repository's CI failed: lint", blame=("sample/ranges.py",))
    report = run_engine(repo, RunOptions(focus="modernize", ci_feedback=CiFeedback(failure, attempts_used=3)))
    assert report.status != "succeeded" and max(a.number for a in report.attempts) == 3
