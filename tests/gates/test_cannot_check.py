"""A gate that cannot check for a reason that is not the change's (a missing tool, a broken environment, a
tool that fails on base too) stops the run with "cannot check: ..." instead of narrowing the change."""

from __future__ import annotations

from evolve.engine import run_engine
from evolve.gate_api import MeasurementError, measurement_errored
from evolve.gating.running import cannot_check_message
from evolve.results import Errored, Failed, GateResult, Passed
from evolve.runs import RunOptions
from gates.types_gate import TypesGate
from tests.repo_factory import SAMPLE_PACKAGE, make_repo, run_git

TYPED = "def double(x: int) -> int:\n    return x * 2\n"


def test_the_flag_survives_the_report_round_trip():
    errored = Errored(gate="types", summary="mypy is not installed.", cannot_check=True)
    assert errored.to_dict()["cannot_check"] is True
    assert GateResult.from_dict(errored.to_dict()) == errored
    plain = Errored(gate="types", summary="mypy timed out.")
    assert "cannot_check" not in plain.to_dict() and GateResult.from_dict(plain.to_dict()) == plain


def test_the_message_names_each_gate_that_cannot_check_and_nothing_else():
    results = (
        Passed(gate="syntax", summary="ok"),
        Failed(gate="lint", summary="1 new violation."),
        Errored(gate="coverage", summary="The suite timed out."),
    )
    assert cannot_check_message(results) is None
    stopped = (
        *results,
        Errored(gate="types", summary="mypy could not check the files: bad plugin.", cannot_check=True),
    )
    assert cannot_check_message(stopped) == "cannot check: types: mypy could not check the files: bad plugin"
    measured = measurement_errored("tests", MeasurementError("running the tests of head failed with OSError: x"))
    assert measured.cannot_check and "cannot check: tests: The tests gate could not measure" in str(
        cannot_check_message((measured,))
    )


def test_a_checker_that_fails_on_base_too_cannot_check(make_trees):
    trees = make_trees(
        {"mypy.ini": "[mypy]\nplugins = no_such_plugin_module\n", "pkg/calc.py": TYPED},
        {"pkg/calc.py": TYPED + "\nX = 1\n"},
    )
    result = TypesGate().evaluate(trees.context())
    assert isinstance(result, Errored) and result.cannot_check, result.summary


def test_a_run_whose_type_checker_cannot_start_stops_after_one_attempt(tmp_path):
    files = dict(SAMPLE_PACKAGE)
    files["mypy.ini"] = "[mypy]\nplugins = no_such_plugin_module\n"
    repo = make_repo(tmp_path / "sample", files)
    report = run_engine(repo, RunOptions(focus="modernize"))
    assert report.status == "error"
    assert report.message.startswith("cannot check: types: mypy could not check the files"), report.message
    assert len(report.attempts) == 1 and not report.attempts[0].narrowed  # nothing was narrowed away
    assert run_git(repo, "branch", "--list", "evolve/*").strip() == ""
