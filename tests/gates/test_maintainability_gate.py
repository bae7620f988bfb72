"""The maintainability gate's decisions on constructed scans."""

from __future__ import annotations

from gates.maintainability_gate import MI_EPSILON, MaintainabilityGate, judge_maintainability
from tests.gates.builders import file_metrics, scan_of


def test_same_or_better_mi_passes():
    base = scan_of(file_metrics("a.py", mi=70), file_metrics("b.py", mi=50))
    head = scan_of(file_metrics("a.py", mi=72), file_metrics("b.py", mi=50))
    result = judge_maintainability(base, head, ["a.py", "b.py"], floor=65)
    assert result.status == "passed"
    assert result.metrics[0].improved


def test_noise_within_epsilon_passes():
    base = scan_of(file_metrics("a.py", mi=80))
    head = scan_of(file_metrics("a.py", mi=80 - MI_EPSILON / 2))
    assert judge_maintainability(base, head, ["a.py"], floor=65).status == "passed"


def test_drop_fails_and_blames_file():
    base = scan_of(file_metrics("a.py", mi=90), file_metrics("b.py", mi=90))
    head = scan_of(file_metrics("a.py", mi=80, sloc=25), file_metrics("b.py", mi=91))
    result = judge_maintainability(base, head, ["a.py", "b.py"], floor=65)
    assert result.status == "failed"
    assert result.blame == ("a.py",)


def test_falling_below_floor_fails_even_within_epsilon():
    base = scan_of(file_metrics("a.py", mi=65.1))
    head = scan_of(file_metrics("a.py", mi=64.9, functions=[("f", 2)]))
    result = judge_maintainability(base, head, ["a.py"], floor=65)
    assert result.status == "failed"
    assert "floor" in result.details


def test_a_neutral_change_passes_whatever_the_mi_says():
    """No more lines (one of slack) and no more complexity: the MI moved only through Halstead spelling."""
    base = scan_of(file_metrics("a.py", mi=100.0, functions=[("f", 3)], sloc=40))
    head = scan_of(file_metrics("a.py", mi=65.7, functions=[("f", 3)], sloc=41))
    assert judge_maintainability(base, head, ["a.py"], floor=70).status == "passed"
    grown = scan_of(file_metrics("a.py", mi=65.7, functions=[("f", 4)], sloc=41))
    assert judge_maintainability(base, grown, ["a.py"], floor=70).status == "failed"
    longer = scan_of(file_metrics("a.py", mi=65.7, functions=[("f", 3)], sloc=42))
    assert judge_maintainability(base, longer, ["a.py"], floor=70).status == "failed"


def test_optional_to_union_syntax_on_real_code_is_neutral(tmp_path):
    """The rewrite the gate used to reject, measured by the real scanner (radon)."""
    from evolve.research import scan_repository

    base_src = "from typing import Optional\n\n" + "".join(
        f"def f{i}(a: Optional[int]) -> None:\n    x: Optional[int] = a\n    return None\n\n" for i in range(3)
    )
    head_src = "from __future__ import annotations\n\n" + "".join(
        f"def f{i}(a: int | None) -> None:\n    x: int | None = a\n    return None\n\n" for i in range(3)
    )
    scans = []
    for name, source in (("base", base_src), ("head", head_src)):
        (tmp_path / name).mkdir()
        (tmp_path / name / "a.py").write_text(source, encoding="utf-8")
        scans.append(scan_repository(tmp_path / name, use_cache=False, with_semgrep=False))
    base, head = scans
    assert head.files[0].maintainability < base.files[0].maintainability - 10  # radon's Halstead jump
    assert judge_maintainability(base, head, ["a.py"], floor=65).status == "passed"


def test_file_already_below_floor_may_stay_there():
    base = scan_of(file_metrics("a.py", mi=40))
    head = scan_of(file_metrics("a.py", mi=40))
    assert judge_maintainability(base, head, ["a.py"], floor=65).status == "passed"


def test_new_file_below_floor_fails():
    base = scan_of()
    head = scan_of(file_metrics("new.py", mi=30))
    assert judge_maintainability(base, head, ["new.py"], floor=65).blame == ("new.py",)


def test_gate_reads_floor_from_settings():
    from evolve.configuration.model import MaintainabilityGateConfig

    base, head = scan_of(), scan_of(file_metrics("new.py", mi=60))
    assert MaintainabilityGate(MaintainabilityGateConfig(floor=50)).judge(base, head, ["new.py"]).status == "passed"
    assert MaintainabilityGate().judge(base, head, ["new.py"]).status == "failed"


def test_a_lower_index_that_passes_says_by_how_much_and_which_rule_allows_it():
    neutral = judge_maintainability(
        scan_of(file_metrics("a.py", mi=7.71)), scan_of(file_metrics("a.py", mi=7.63)), ["a.py"], floor=0
    )
    assert neutral.status == "passed"
    assert "Lower but allowed: a.py MI 7.71 -> 7.63 (-0.08): a neutral change" in neutral.summary
    grown = judge_maintainability(
        scan_of(file_metrics("a.py", mi=70.0)), scan_of(file_metrics("a.py", mi=69.8, sloc=14)), ["a.py"], floor=0
    )
    assert grown.status == "passed" and "(-0.20): within the tolerance of 0.5 points" in grown.summary


def test_the_stated_drop_is_the_difference_of_the_stated_figures():
    result = judge_maintainability(
        scan_of(file_metrics("a.py", mi=34.7749)), scan_of(file_metrics("a.py", mi=34.7149)), ["a.py"], floor=0
    )
    assert "MI 34.77 -> 34.71 (-0.06)" in result.summary


def test_a_change_that_only_adds_simple_functions_may_lower_the_index_above_the_floor():
    """A private copy of a function Python removed adds lines radon weighs; the existing functions are unchanged."""
    base = scan_of(file_metrics("a.py", mi=80.0, functions=[("f", 2)], sloc=40))
    head = scan_of(file_metrics("a.py", mi=75.0, functions=[("_strtobool", 3), ("f", 2)], sloc=48))
    result = judge_maintainability(base, head, ["a.py"], floor=65)
    assert result.status == "passed" and "only adds whole functions" in result.summary
    edited = scan_of(file_metrics("a.py", mi=75.0, functions=[("_strtobool", 3), ("f", 3)], sloc=48))
    assert judge_maintainability(base, edited, ["a.py"], floor=65).status == "failed"
    below = scan_of(file_metrics("a.py", mi=60.0, functions=[("_strtobool", 3), ("f", 2)], sloc=48))
    assert judge_maintainability(base, below, ["a.py"], floor=65).status == "failed"
