"""The coverage gate: pure decisions on constructed runs, and real measured suites."""

from __future__ import annotations

from evolve.changed_lines import ChangedLines
from evolve.configuration.model import EvolveConfig
from evolve.gating.running import build_context
from evolve.proof.behaviour import changed_lines_of_edits
from gates.coverage_gate import CoverageGate, CoverageSettings, judge_coverage
from gates.tests_gate import TestsGate
from tests.gates.builders import make_run

SETTINGS = CoverageSettings()
NOTHING = ChangedLines(0, 0, True)


def measured(percent: float, covered=None, executable=None):
    """A passing run with the given total coverage and per-file lines."""
    return make_run(coverage_percent=percent, covered_lines=covered or {}, executable_lines=executable or {})


def test_same_coverage_passes():
    result = judge_coverage(measured(80.0), measured(80.0), NOTHING, SETTINGS)
    assert result.status == "passed"
    assert (result.metrics[0].base, result.metrics[0].head) == (80.0, 80.0)


def test_drop_within_tolerance_passes():
    assert judge_coverage(measured(80.0), measured(79.95), NOTHING, CoverageSettings(tolerance=0.1)).status == "passed"


def test_a_drop_within_tolerance_says_by_how_much_and_why_it_is_allowed():
    result = judge_coverage(measured(80.0), measured(79.95), NOTHING, CoverageSettings(tolerance=0.1))
    assert "down 0.05 points, within the tolerance of 0.10 points set by gates.coverage.tolerance" in result.summary


def test_drop_beyond_tolerance_fails_and_blames_changed_files_that_lost_coverage():
    base = measured(80.0, {"a.py": [1, 2], "b.py": [1]}, {"a.py": [1, 2], "b.py": [1]})
    head = measured(70.0, {"a.py": [1], "b.py": [1]}, {"a.py": [1, 2, 3], "b.py": [1]})
    result = judge_coverage(base, head, NOTHING, SETTINGS, ("a.py", "b.py"))
    assert result.status == "failed"
    assert result.blame == ("a.py",)
    assert "80.0%" in result.summary and "70.0%" in result.summary


def test_changed_lines_below_floor_fail_with_the_reports_figure():
    before = "def f(x):\n    return x\n\n\ndef g(x):\n    return -x\n"
    after = before.replace("return -x", "return 0 - x").replace("return x", "return +x")
    base = measured(50.0, {"a.py": [1, 2, 5]}, {"a.py": [1, 2, 5, 6]})
    changed = changed_lines_of_edits([("a.py", before, after)], base)
    assert (changed.executed, changed.executable) == (2, 4)  # f's line ran (removed + added), g's did not
    result = judge_coverage(base, measured(50.0), changed, CoverageSettings(changed_lines_floor=80))
    assert result.status == "failed" and result.blame == ("a.py",)
    assert result.summary == "The tests execute 50% of the changed lines that need executing (2 of 4; floor 80.0%)."
    assert "a.py: no test runs the changed line 6 (base)" in result.details


def test_changed_lines_floor_ignored_when_nothing_executable_changed():
    before = "from __future__ import annotations\n\n\ndef f(x: int) -> int:\n    return x\n"
    after = before.replace("x: int", "x: float")
    base = measured(50.0, {"a.py": [1, 4]}, {"a.py": [1, 4, 5]})
    changed = changed_lines_of_edits([("a.py", before, after)], base)
    assert (changed.executable, changed.percent) == (0, None)
    result = judge_coverage(base, measured(50.0), changed, CoverageSettings(changed_lines_floor=80))
    assert result.status == "passed"
    assert "none needs executing" in result.summary and "n/a" not in result.summary


def test_unmeasured_or_disabled_is_skipped_and_timeout_errored():
    assert judge_coverage(None, make_run(), NOTHING, SETTINGS).status == "skipped"
    assert judge_coverage(None, make_run(no_tests=True), NOTHING, SETTINGS).status == "skipped"
    assert judge_coverage(None, make_run(timed_out=True), NOTHING, SETTINGS).status == "errored"
    assert CoverageGate(CoverageSettings(enabled=False)).evaluate(None).status == "skipped"  # type: ignore[arg-type]


LIB = {
    "pkg/__init__.py": "",
    "pkg/calc.py": "def add(a, b):\n    return a + b\n",
    "tests/test_calc.py": "from pkg.calc import add\n\n\ndef test_add():\n    assert add(1, 2) == 3\n",
}


def test_real_uncovered_addition_fails_and_shares_the_head_run_with_the_tests_gate(make_trees):
    addition = (
        "def add(a, b):\n    return a + b\n\n\ndef div(a, b):\n    if b == 0:\n        return None\n    return a / b\n"
    )
    trees = make_trees(LIB, {"pkg/calc.py": addition})
    calls = []
    context = build_context(
        trees.base, trees.head, trees.changed_files, EvolveConfig(), changed_lines=trees.changed_lines
    )
    counted = context.run_tests
    context.run_tests = lambda which: calls.append(which) or counted(which)
    assert TestsGate().evaluate(context).status == "passed"
    result = CoverageGate(CoverageSettings(changed_lines_floor=50)).evaluate(context)
    assert result.status == "failed", result.summary
    assert (result.metrics[0].base, result.metrics[0].head) == (100.0, 50.0)  # 2 of 2 lines, then 3 of 6
    # Of the 4 changed lines that need executing (div's def line counts when its body runs), none ran.
    assert result.metrics[1].head == 0.0
    assert result.blame == ("pkg/calc.py",)
    assert context.run_tests("head") is counted("head")  # one shared head run
    assert sorted(set(calls)) == ["base", "head"]


def test_real_covered_addition_passes(make_trees):
    trees = make_trees(
        LIB,
        {
            "pkg/calc.py": "def add(a, b):\n    return a + b\n\n\ndef neg(a):\n    return -a\n",
            "tests/test_neg.py": "from pkg.calc import neg\n\n\ndef test_neg():\n    assert neg(1) == -1\n",
        },
    )
    context = build_context(
        trees.base, trees.head, trees.changed_files, EvolveConfig(), changed_lines=trees.changed_lines
    )
    result = CoverageGate(CoverageSettings(changed_lines_floor=100)).evaluate(context)
    assert result.status == "passed", result.summary
    assert result.metrics[1].head == 100.0
