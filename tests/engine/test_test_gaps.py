"""Test gaps in research, for real: a git repository with history, base's suite run with per-test contexts in the
sandbox, a mutation sample over the ranked functions, and what `evolve plan` shows of it."""

from __future__ import annotations

from evolve.configuration.model import EvolveConfig, ResearchConfig, TestGapsConfig
from evolve.engine.planning import plan_repository
from evolve.environments.model import EnvironmentSettings
from evolve.plan.render import render_plan_markdown, render_plan_table
from evolve.plan.tasks import TestGaps
from evolve.runs import RunOptions
from tests.repo_factory import commit_all, make_repo, write_files

FILES: dict[str, str | bytes] = {
    "pyproject.toml": """
        [project]
        name = "grades"
        version = "0.1"
        requires-python = ">=3.10"
    """,
    "grades/__init__.py": "",
    "grades/scale.py": """
        __all__ = ["letter"]


        def letter(score):
            if score >= 90:
                return "A"
            if score >= 50:
                return "C"
            return "F"


        def _bonus(score):
            return score + 5
    """,
    "tests/test_scale.py": """
        from grades.scale import _bonus, letter


        def test_letters():
            assert letter(95) == "A"
            assert letter(10) == "F"


        def test_bonus():
            assert _bonus(1) == 6
    """,
}


def options(**extra) -> RunOptions:
    return RunOptions(environment=EnvironmentSettings(build=False), base_suites=False, **extra)


def test_plan_lists_the_test_gaps_of_a_mutation_sample(tmp_path):
    repo = make_repo(tmp_path / "grades", FILES)
    write_files(repo, {"grades/extra.py": "def unused():\n    return 1\n"})
    commit_all(repo, "touch scale")
    outcome = plan_repository(repo, options(test_gaps=True))
    gaps = outcome.plan.test_gaps
    assert gaps is not None and gaps.generated > 0, gaps
    assert gaps.functions == 2 and gaps.killed > 0 and gaps.survived > 0
    assert gaps.score is not None and 0 < gaps.score < 100
    assert gaps.killed + gaps.survived + gaps.timeout + gaps.not_run == gaps.generated
    # No test asks for a score of exactly 90 or 50, nor for a C at all.
    located = {(s.location, s.function) for s in gaps.survivors}
    assert ("grades/scale.py:5", "letter") in located
    text = render_plan_table(outcome.plan)
    assert "Test gaps (mutation sample): " in text and "  survived grades/scale.py:5 in letter: - >= + >" in text
    assert "test_letters" not in text  # tests are not sampled: library code is
    markdown = render_plan_markdown(outcome.plan)
    assert "**Test gaps**" in markdown and "- `grades/scale.py:5` in `letter`: `- >= + >`" in markdown
    # The plan's JSON carries the sample, and reads back.
    again = TestGaps.from_dict(outcome.plan.to_dict()["test_gaps"])
    assert again == TestGaps.from_dict(gaps.to_dict()) and again is not None and again.survivors == gaps.survivors


def test_the_sample_follows_its_budget_settings_and_is_off_unless_asked(tmp_path):
    repo = make_repo(tmp_path / "grades", FILES)
    assert plan_repository(repo, options()).plan.test_gaps is None
    one = EvolveConfig(research=ResearchConfig(test_gaps=TestGapsConfig(functions=1, max_mutants=2)))
    gaps = plan_repository(repo, options(test_gaps=True), config=one).plan.test_gaps
    assert gaps is not None and gaps.functions == 1 and gaps.generated == 2
    off = EvolveConfig(research=ResearchConfig(test_gaps=TestGapsConfig(enabled=False)))
    assert plan_repository(repo, options(test_gaps=True), config=off).plan.test_gaps is None


def test_a_suite_without_tests_for_the_code_says_why_there_is_no_sample(tmp_path):
    files = {**FILES, "tests/test_scale.py": "def test_nothing():\n    assert True\n"}
    repo = make_repo(tmp_path / "grades", files)
    gaps = plan_repository(repo, options(test_gaps=True)).plan.test_gaps
    assert gaps is not None and gaps.generated == 0
    assert gaps.note == "no test gaps measured: no tested function holds a mutable line"
    assert "Test gaps (mutation sample): no test gaps measured" in render_plan_table(
        plan_repository(repo, options(test_gaps=True)).plan
    )


def test_recent_changes_count_the_commits_of_each_file_in_git_log(tmp_path):
    from evolve.engine.test_gaps import recent_changes
    from tests.repo_factory import run_git

    repo = make_repo(tmp_path / "grades", FILES)
    for number in range(3):
        write_files(repo, {"grades/extra.py": f"def value():\n    return {number}\n"})
        head = commit_all(repo, f"change {number}")
    git_dir = repo / ".git"
    assert recent_changes(git_dir, head, 100) == {
        "grades/extra.py": 3,
        "grades/__init__.py": 1,
        "grades/scale.py": 1,
        "pyproject.toml": 1,
        "tests/test_scale.py": 1,
    }
    assert recent_changes(git_dir, head, 2) == {"grades/extra.py": 2}
    first = run_git(repo, "rev-list", "--max-parents=0", "HEAD").strip()
    assert recent_changes(git_dir, first, 100)["grades/scale.py"] == 1 and "grades/extra.py" not in recent_changes(
        git_dir, first, 100
    )
    assert recent_changes(None, head, 100) == {} and recent_changes(git_dir, head, 0) == {}


def test_tests_that_fail_on_base_judge_no_mutant(tmp_path):
    broken = (
        FILES["tests/test_scale.py"]
        + """

        def test_broken():
            assert _bonus(1) == 7
    """
    )
    repo = make_repo(tmp_path / "grades", {**FILES, "tests/test_scale.py": broken})
    gaps = plan_repository(repo, options(test_gaps=True)).plan.test_gaps
    # `_bonus` runs under a passing and a failing test: the passing one judges its mutant; the sample has a score.
    assert gaps is not None and gaps.score is not None and gaps.not_run == 0, gaps
    assert gaps.functions == 2 and gaps.killed > 0
