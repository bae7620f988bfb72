"""The complexity gate: pure decisions on constructed scans, and the gate on real trees."""

from __future__ import annotations

from gates.complexity_gate import ComplexityGate, complexity_regressions, judge_complexity
from tests.gates.builders import file_metrics, scan_of


def test_unchanged_complexity_passes():
    scan = scan_of(file_metrics("a.py", functions=[("f", 3), ("g", 12)]))
    result = judge_complexity(scan, scan, ["a.py"], threshold=10)
    assert result.status == "passed"
    assert result.metrics[0].base == result.metrics[0].head == 7.5


def test_lower_complexity_passes_and_reports_improvement():
    base = scan_of(file_metrics("a.py", functions=[("f", 14)]))
    head = scan_of(file_metrics("a.py", functions=[("f", 6), ("_helper", 4)]))
    result = judge_complexity(base, head, ["a.py"], threshold=10)
    assert result.status == "passed"
    assert result.metrics[0].improved


def test_function_above_threshold_getting_worse_fails_and_blames_file():
    base = scan_of(file_metrics("a.py", functions=[("f", 12), ("g", 1)]), file_metrics("b.py", functions=[("h", 2)]))
    head = scan_of(file_metrics("a.py", functions=[("f", 13)]), file_metrics("b.py", functions=[("h", 1), ("i", 1)]))
    result = judge_complexity(base, head, ["a.py", "b.py"], threshold=10)
    assert result.status == "failed"
    assert "a.py" in result.blame
    assert "f" in result.summary


def test_function_crossing_threshold_fails():
    base = scan_of(file_metrics("a.py", functions=[("f", 10), ("g", 30)]))
    head = scan_of(file_metrics("a.py", functions=[("f", 11), ("g", 20)]))
    regressions = complexity_regressions(base, head, ["a.py"], threshold=10)
    assert [(r.qualname, r.reason) for r in regressions] == [("f", "crosses the threshold")]
    assert judge_complexity(base, head, ["a.py"], threshold=10).status == "failed"


def test_new_function_above_threshold_fails():
    base = scan_of(file_metrics("a.py", functions=[("f", 2)]))
    head = scan_of(file_metrics("a.py", functions=[("f", 2), ("big", 15)]))
    regressions = complexity_regressions(base, head, ["a.py"], threshold=10)
    assert [(r.qualname, r.base, r.head) for r in regressions] == [("big", None, 15)]


def test_higher_average_fails_even_below_threshold():
    base = scan_of(file_metrics("a.py", functions=[("f", 2)]), file_metrics("b.py", functions=[("g", 2)]))
    head = scan_of(file_metrics("a.py", functions=[("f", 4)]), file_metrics("b.py", functions=[("g", 2)]))
    result = judge_complexity(base, head, ["a.py", "b.py"], threshold=10)
    assert result.status == "failed"
    assert result.blame == ("a.py",)
    assert "average" in result.summary.lower()
    assert "a.py" in result.details


def test_a_guard_is_tolerated_but_two_branches_or_crossing_the_threshold_are_not():
    """A bug fix such as `if x is None: x = []` adds one branch to a function that stays simple."""
    base = scan_of(file_metrics("a.py", functions=[("f", 2), ("g", 3)]))
    guarded = scan_of(file_metrics("a.py", functions=[("f", 3), ("g", 3)]))
    assert judge_complexity(base, guarded, ["a.py"], threshold=10).status == "passed"
    two = scan_of(file_metrics("a.py", functions=[("f", 4), ("g", 3)]))
    assert judge_complexity(base, two, ["a.py"], threshold=10).status == "failed"
    added = scan_of(file_metrics("a.py", functions=[("f", 3), ("g", 3), ("h", 5)]))
    assert judge_complexity(base, added, ["a.py"], threshold=10).status == "failed"
    edge = scan_of(file_metrics("a.py", functions=[("f", 10), ("g", 3)]))
    assert (
        judge_complexity(scan_of(file_metrics("a.py", functions=[("f", 9), ("g", 3)])), edge, ["a.py"], 9).status
        == "failed"
    )


def test_only_changed_files_are_judged():
    base = scan_of(file_metrics("a.py", functions=[("f", 2)]), file_metrics("other.py", functions=[("g", 2)]))
    head = scan_of(file_metrics("a.py", functions=[("f", 2)]), file_metrics("other.py", functions=[("g", 40)]))
    assert judge_complexity(base, head, ["a.py"], threshold=10).status == "passed"


def test_same_named_functions_are_matched_in_order():
    base = scan_of(file_metrics("a.py", functions=[("prop", 1), ("prop", 12)]))
    head = scan_of(file_metrics("a.py", functions=[("prop", 1), ("prop", 12)]))
    assert complexity_regressions(base, head, ["a.py"], threshold=10) == []


def test_gate_uses_threshold_from_settings():
    from evolve.configuration.model import ComplexityGateConfig

    base = scan_of(file_metrics("a.py", functions=[("f", 4)]))
    head = scan_of(file_metrics("a.py", functions=[("f", 4), ("g", 4)]))
    assert ComplexityGate(ComplexityGateConfig(threshold=3)).judge(base, head, ["a.py"]).status == "failed"
    assert ComplexityGate().judge(base, head, ["a.py"]).status == "passed"


def test_a_change_that_only_adds_simple_functions_is_judged_by_them_not_by_the_average():
    """A private copy of a function Python removed (`strtobool`): the existing code stays as it was."""
    base = scan_of(file_metrics("a.py", functions=[("f", 1), ("g", 2)]))
    head = scan_of(file_metrics("a.py", functions=[("_strtobool", 3), ("f", 1), ("g", 2)]))
    result = judge_complexity(base, head, ["a.py"], threshold=10)
    assert result.status == "passed" and "only adds whole functions" in result.summary
    changed = scan_of(file_metrics("a.py", functions=[("_strtobool", 3), ("f", 2), ("g", 2)]))
    assert judge_complexity(base, changed, ["a.py"], threshold=10).status == "failed"
    big = scan_of(file_metrics("a.py", functions=[("_copy", 12), ("f", 1), ("g", 2)]))
    assert judge_complexity(base, big, ["a.py"], threshold=10).status == "failed"
