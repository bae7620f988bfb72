"""The `tests` theme's pure parts: survivors as findings and back, judging proposed tests, planning, the PR text."""

from __future__ import annotations

from evolve.config_loading.loading import parse_config
from evolve.engine.mutant_tests import wants_survivors
from evolve.findings import Finding, stable_finding_id
from evolve.llm.repository import where_tests_live
from evolve.mutation.generation import Mutant
from evolve.mutation.kill_proof import judge_base_runs, judge_test, read_repeat_results
from evolve.mutation.operators import mutations_of
from evolve.mutation.results import MutantResult, MutationRun
from evolve.mutation.survivors import mutant_of, survivor_finding
from evolve.plan.planner import PlanningInput, make_plan
from evolve.reports.mutant_tests_section import render_mutant_tests_section

SOURCE = '"""Ages."""\n\n\ndef is_adult(age):\n    return age >= 18\n'


def _survivor() -> Mutant:
    mutation = next(m for m in mutations_of(SOURCE) if m.operator == "comparison")
    return Mutant(3, "pkg/ages.py", mutation, ("tests/test_ages.py::test_grown_up",))


def test_a_survivor_becomes_a_finding_that_carries_its_mutant_back():
    mutant = _survivor()
    finding = survivor_finding(mutant)
    assert finding.kind == "mutant" and finding.path == "pkg/ages.py" and finding.line == 5
    assert finding.symbol == "is_adult" and finding.message == "no test distinguishes `>=` from `>` at `pkg/ages.py:5`"
    back = mutant_of(Finding.from_dict(finding.to_dict()), 7, ("tests/test_new.py",))
    assert back == Mutant(7, "pkg/ages.py", mutant.mutation, ("tests/test_new.py",))
    assert mutant_of(Finding.from_dict({**finding.to_dict(), "data": {"mutation": {"line": "x"}}}), 0) is None


def test_runs_on_base_decide_flaky_failing_or_on_to_the_mutants():
    assert judge_base_runs("t.py", (0, 0, 0)) is None
    flaky = judge_base_runs("t.py", (0, 1, 1), "E   assert False")
    assert flaky is not None and flaky.decision == "flaky"
    assert flaky.reason == "flaky: it passed 1 of 3 runs on the unchanged code (run 2 failed)"
    assert flaky.output == "E   assert False"
    failing = judge_base_runs("t.py", (1, 1, 1))
    assert failing is not None and failing.decision == "fails-on-base"
    empty = judge_base_runs("t.py", (5, 5, 5))
    assert empty is not None and empty.reason.startswith("no tests were collected")
    assert judge_base_runs("t.py", ()).decision == "not-judged"  # type: ignore[union-attr]


def test_a_test_is_kept_only_when_a_mutant_makes_it_fail():
    mutant = _survivor()
    killed = judge_test("t.py", (0, 0, 0), MutationRun((MutantResult(mutant, "killed"),)), [mutant])
    assert killed.kept and killed.kills == ("no test distinguishes `>=` from `>` at `pkg/ages.py:5`",)
    missed = judge_test("t.py", (0, 0, 0), MutationRun((MutantResult(mutant, "survived"),)), [mutant])
    assert missed.decision == "does-not-kill" and "`>=` from `>`" in missed.reason
    dirty = judge_test("t.py", (0, 0, 0), MutationRun(clean_ok=False, problem="boom"), [mutant])
    assert dirty.decision == "fails-on-base"
    budget = judge_test("t.py", (0, 0, 0), MutationRun((MutantResult(mutant, "not-run"),)), [mutant])
    assert budget.decision == "not-judged"


def test_the_repeat_results_are_read_as_untrusted_data():
    raw = b'{"a.py": {"codes": [0, 1, "x", 0, 0], "output": 3}, "other.py": {"codes": [0]}}'
    assert read_repeat_results(raw, ["a.py", "b.py"]) == {"a.py": ((0, 1, 0), ""), "b.py": ((), "")}
    assert read_repeat_results(b"not json", ["a.py"]) == {"a.py": ((), "")}
    assert read_repeat_results(None, ["a.py"]) == {"a.py": ((), "")}


def test_new_tests_go_where_the_project_keeps_them():
    assert where_tests_live(["pkg/a.py"]) == ("tests", "test_*.py")
    assert where_tests_live(["src/x.py", "test/a_test.py", "test/b_test.py", "test/conftest.py"]) == (
        "test",
        "*_test.py",
    )
    assert where_tests_live(["tests/test_a.py", "pkg/tests/test_b.py", "tests/test_c.py"]) == ("tests", "test_*.py")


THEMES = {"none-comparison": "correctness"}


def _codemod(rule: str, path: str, priority: float = 0.4) -> Finding:
    return Finding(
        stable_finding_id("codemod", rule, path, None), "codemod", rule, path, 1, 1, None, "low", priority, rule
    )


def test_survivors_take_the_tests_theme_over_and_never_displace_a_red_fix():
    survivor = survivor_finding(_survivor())
    coverage = Finding("c1", "coverage", "uncovered", "pkg/other.py", 1, 2, "f", "low", 0.5, "uncovered")
    plan = make_plan(PlanningInput(findings=(survivor, coverage), llm_themes=frozenset({"tests"}), focus="tests"))
    assert plan.theme == "tests" and [t.kind for t in plan.tasks] == ["mutant"]
    assert plan.title == "Add tests that catch surviving mutants" and plan.tasks[0].finding_ids == (survivor.id,)
    red = make_plan(
        PlanningInput(
            findings=(survivor, _codemod("collections-abc", "pkg/ages.py")),
            codemod_themes={"collections-abc": "deprecations"},
            llm_themes=frozenset({"tests"}),
            red={("collections-abc", "pkg/ages.py"): ("3.12: tests/test_ages.py::test_grown_up",)},
        )
    )
    assert red.theme == "deprecations" and red.red_tests


def test_without_the_llm_a_focus_on_tests_says_what_it_needs():
    plan = make_plan(PlanningInput(findings=(survivor_finding(_survivor()),), focus="tests"))
    assert plan.empty and "'tests' theme is written by the LLM stage" in plan.notes[0]
    assert "ANTHROPIC_API_KEY" in plan.notes[0] and "'tests' in `llm.tasks`" in plan.notes[0]


def test_survivors_are_sought_only_when_the_theme_can_run_and_nothing_red_comes_first():
    config = parse_config({})
    assert wants_survivors(config, True, None, False) and wants_survivors(config, True, "tests", False)
    assert not wants_survivors(config, False, "tests", False)
    assert not wants_survivors(config, True, "docstrings", False)
    assert not wants_survivors(config, True, None, True)
    assert not wants_survivors(parse_config({"llm": {"tasks": ["docstrings"]}}), True, "tests", False)


def test_the_pr_section_lists_kept_tests_with_their_mutant_and_rejections_with_why():
    verdicts = [
        {"path": "tests/test_a.py", "decision": "kept", "kills": ["no test distinguishes `>=` from `>` at `p.py:5`"]},
        {"path": "tests/test_b.py", "decision": "flaky", "reason": "flaky: it passed 1 of 3 runs\nE   [x](http://e)"},
        {"path": "tests/test_c.py", "decision": "does-not-kill", "reason": "it passes on every surviving mutant"},
        {"path": "tests/test_d.py", "decision": "fails-on-base", "reason": "it fails on the current code @someone"},
    ]
    text = render_mutant_tests_section({"mutant_tests": verdicts})
    assert "### Tests that catch surviving mutants" in text and "**Kept** (1 test file):" in text
    assert "- `tests/test_a.py` kills: no test distinguishes `>=` from `>` at `p.py:5`" in text
    assert "- `tests/test_b.py`: **flaky** — flaky: it passed 1 of 3 runs" in text and "http://e" not in text
    assert "- `tests/test_c.py`: **does not kill its mutant** — it passes on every surviving mutant" in text
    assert "**fails on the current code**" in text and "@someone" not in text
    assert render_mutant_tests_section({}) == "" and render_mutant_tests_section({"mutant_tests": "x"}) == ""


def test_a_test_with_no_mutant_to_check_is_not_judged():
    assert judge_test("t.py", (0, 0, 0), MutationRun(), []).decision == "not-judged"


def test_a_default_run_seeks_survivors_only_when_they_could_win():
    from evolve.engine.mutant_tests import survivors_could_win

    defect = make_plan(PlanningInput(findings=(_codemod("none-comparison", "pkg/a.py"),), codemod_themes=THEMES))
    assert defect.tasks and not survivors_could_win(defect)
    assert survivors_could_win(make_plan(PlanningInput(findings=())))
    cleanup = make_plan(
        PlanningInput(
            findings=(_codemod("redundant-else", "pkg/a.py", 0.2),), codemod_themes={"redundant-else": "cleanup"}
        )
    )
    assert cleanup.tasks and survivors_could_win(cleanup)


def test_new_test_files_must_go_in_the_projects_tests_directory(tmp_path):
    from evolve.configuration.model import EvolveConfig
    from evolve.llm.paths import edit_path_problem

    config = EvolveConfig()
    assert edit_path_problem(tmp_path, "test/test_new.py", config, test_file=True, tests_dir="test") is None
    assert edit_path_problem(tmp_path, "test/new_test.py", config, test_file=True, tests_dir="test") is None
    problem = edit_path_problem(tmp_path, "tests/test_new.py", config, test_file=True, tests_dir="test")
    assert problem == "tests/test_new.py: new test files must live under test/ and be named test_*.py or *_test.py"


def test_the_sample_is_spread_over_every_candidate():
    from dataclasses import replace

    from evolve.mutation.survivors import spread

    mutants = [replace(_survivor(), id=index, tests=(f"t{index}",)) for index in range(10)]
    picked = spread(mutants, 4)
    assert [m.id for m in picked] == [0, 1, 2, 3]  # numbered afresh
    assert [m.tests for m in picked] == [("t0",), ("t2",), ("t5",), ("t7",)]
    assert len(spread(mutants, 20)) == 10


def test_verdicts_of_every_attempt_reach_the_report_and_a_published_change_lists_only_what_it_commits():
    from evolve.engine.finish import with_test_verdicts
    from evolve.engine.mutant_tests import merged_verdicts
    from evolve.mutation.kill_proof import TestVerdict

    first = (TestVerdict("tests/test_a.py", "kept", kills=("k",)), TestVerdict("tests/test_b.py", "flaky", "f"))
    second = (TestVerdict("tests/test_a.py", "does-not-kill", "d"), TestVerdict("tests/test_c.py", "kept"))
    merged = merged_verdicts(first, second)
    assert [(v.path, v.decision) for v in merged] == [
        ("tests/test_a.py", "does-not-kill"),
        ("tests/test_b.py", "flaky"),
        ("tests/test_c.py", "kept"),
    ]
    assert merged_verdicts(first, ()) == first
    published = with_test_verdicts({"usage": {}}, first + second[1:], ["tests/test_c.py"])
    assert [v["path"] for v in published["mutant_tests"]] == ["tests/test_b.py", "tests/test_c.py"]
    assert with_test_verdicts({"notes": []}, ()) == {"notes": []}
