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
    head = scan_of(file_metrics("a.py", mi=80), file_metrics("b.py", mi=91))
    result = judge_maintainability(base, head, ["a.py", "b.py"], floor=65)
    assert result.status == "failed"
    assert result.blame == ("a.py",)


def test_falling_below_floor_fails_even_within_epsilon():
    base = scan_of(file_metrics("a.py", mi=65.1))
    head = scan_of(file_metrics("a.py", mi=64.9))
    result = judge_maintainability(base, head, ["a.py"], floor=65)
    assert result.status == "failed"
    assert "floor" in result.details


def test_file_already_below_floor_may_stay_there():
    base = scan_of(file_metrics("a.py", mi=40))
    head = scan_of(file_metrics("a.py", mi=40))
    assert judge_maintainability(base, head, ["a.py"], floor=65).status == "passed"


def test_new_file_below_floor_fails():
    base = scan_of()
    head = scan_of(file_metrics("new.py", mi=30))
    assert judge_maintainability(base, head, ["new.py"], floor=65).blame == ("new.py",)


def test_gate_reads_floor_from_settings():
    from evolve.config import MaintainabilityGateConfig

    base, head = scan_of(), scan_of(file_metrics("new.py", mi=60))
    assert MaintainabilityGate(MaintainabilityGateConfig(floor=50)).judge(base, head, ["new.py"]).status == "passed"
    assert MaintainabilityGate().judge(base, head, ["new.py"]).status == "failed"
