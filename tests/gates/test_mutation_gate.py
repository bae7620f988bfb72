"""The mutation gate on real trees (real suites, real sandboxed mutants) and its verdicts on constructed evidence."""

from __future__ import annotations

from evolve.configuration.model import EvolveConfig
from evolve.gating.running import build_context, evaluate_gates
from evolve.mutation.evidence import ChangeEvidence, read_details
from evolve.mutation.generation import Candidates, Mutant
from evolve.mutation.operators import Mutation
from evolve.mutation.results import MutantResult, MutationRun
from evolve.reports.mutation_section import render_mutation_section
from evolve.results import Failed, Passed
from evolve.testing.gates import assert_gate, run_gate
from gates.mutation_gate import MutationGate, MutationSettings, judge_mutation
from gates.tests_gate import TestsGate

BASE = {
    "pkg/__init__.py": "",
    "pkg/calc.py": """
        def double(x):
            return x * 2


        def clamp(x, high=10):
            if x > high:
                return high
            return x
    """,
    "tests/test_calc.py": """
        from pkg.calc import clamp, double


        def test_double():
            assert double(3) == 6


        def test_clamp():
            assert clamp(50) == 10
            assert clamp(5) == 5
    """,
}


def test_a_behaviour_preserving_change_keeps_base_gaps_and_passes(make_trees):
    trees = make_trees(BASE, {"pkg/calc.py": BASE["pkg/calc.py"].replace("if x > high:", "if high < x:")})
    result = run_gate(MutationGate(MutationSettings(budget_seconds=240)), trees)
    assert_gate(result, "passed", summary_contains="score")
    counts, survivors = read_details(result.details)
    assert counts["head"].generated == counts["base"].generated == 2
    # `high < x` and `high <= x` agree on every value the tests use (clamp(10) is never asked): base had the same gap.
    assert [(s.location, s.before, s.after) for s in survivors] == [("pkg/calc.py:6", "<", "<=")]
    section = render_mutation_section([result])
    assert "no test distinguishes `<` from `<=` at `pkg/calc.py:6`" in section
    assert "| changed (head) | 2 | 1 | 1 | 0 | 0 | 50.0% |" in section and "replaced (base)" in section


def test_a_change_that_leaves_its_lines_less_tested_fails(make_trees):
    worse = BASE["pkg/calc.py"].replace("return x * 2", "return x + x if x > 0 else 0")
    trees = make_trees(BASE, {"pkg/calc.py": worse})
    result = run_gate(MutationGate(MutationSettings(budget_seconds=240)), trees)
    assert_gate(result, "failed", summary_contains="lowers the mutation score", blame=["pkg/calc.py"])
    assert result.metrics[0].base == 100.0 and result.metrics[0].head is not None and result.metrics[0].head < 100


def test_the_gate_judges_only_changes_the_other_gates_let_through(make_trees):
    broken = BASE["pkg/calc.py"].replace("return x * 2", "return x * 3")
    trees = make_trees(BASE, {"pkg/calc.py": broken})
    context = build_context(
        trees.base,
        trees.head,
        trees.changed_files,
        EvolveConfig(),
        changed_lines=trees.changed_lines,
        measures={"coverage", "test-contexts"},
    )
    tests, mutation = evaluate_gates([TestsGate(), MutationGate()], context)
    assert tests.status == "failed"
    assert mutation.status == "skipped" and "did not pass tests" in mutation.summary


def _evidence(head: list[str], base: list[str] | None) -> ChangeEvidence:
    def run(verdicts: list[str]) -> MutationRun:
        results = []
        for index, verdict in enumerate(verdicts):
            mutation = Mutation(
                "comparison", index + 1, index + 1, (index + 1, 4), (index + 1, 9), "(a <= b)", "<", "<="
            )
            results.append(MutantResult(Mutant(index, "pkg/m.py", mutation, ("t::a",)), verdict))  # type: ignore[arg-type]
        return MutationRun(tuple(results), 1.0)

    head_run = run(head)
    return ChangeEvidence(head_run, Candidates(tuple(r.mutant for r in head_run.results)), run(base) if base else None)


def test_verdicts_threshold_and_lowering():
    settings = MutationSettings()
    same = judge_mutation(_evidence(["killed", "survived"], ["killed", "survived"]), settings)
    assert isinstance(same, Passed) and "score 50.0% (base's lines 50.0%)" in same.summary
    lower = judge_mutation(_evidence(["killed", "survived", "survived"], ["killed", "survived"]), settings)
    assert isinstance(lower, Failed) and "from 50.0% to 33.3%" in lower.summary
    fewer_lines = judge_mutation(_evidence(["survived"], ["killed", "killed", "survived"]), settings)
    assert isinstance(fewer_lines, Passed)  # a lower score, but no more survivors than base had
    below = judge_mutation(_evidence(["killed", "timeout", "survived"], None), MutationSettings(threshold=80))
    assert isinstance(below, Failed) and "below the threshold 80.0%" in below.summary
    assert "1 timed out" in below.summary and "score 66.7%" in below.summary
    nothing = judge_mutation(ChangeEvidence(MutationRun(), Candidates((), uncovered_lines=2)), settings)
    assert nothing.status == "skipped" and "2 changed lines with possible mutants run under no test" in nothing.summary
