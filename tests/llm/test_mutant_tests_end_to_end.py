"""The `tests` theme end to end: a surviving mutant, the fake Messages API proposing three tests, only the one that
passes on base three times and fails on the mutant committed, and the PR body saying what became of each."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from evolve.engine import run_engine
from evolve.runs import RunOptions
from tests.llm.conftest import dedent
from tests.llm.fake_anthropic import Recorded, Reply, finish, tool_call, tools
from tests.repo_factory import make_repo

AGES = dedent('''
    """Who counts as an adult."""


    def is_adult(age):
        """Whether someone of `age` years is an adult."""
        return age >= 18
''')

# A weak suite: it runs the comparison but never at the boundary, so `>=` -> `>` survives.
WEAK_TESTS = dedent("""
    from pkg.ages import is_adult


    def test_grown_up():
        assert is_adult(30)


    def test_child():
        assert not is_adult(3)
""")

KILLS = dedent("""
    from pkg.ages import is_adult


    def test_eighteen_is_adult():
        assert is_adult(18)
""")

# Passes the first time it runs, fails every time after: it leaves a marker behind.
FLAKY = dedent("""
    import pathlib
    import tempfile

    from pkg.ages import is_adult


    def test_eighteen_first_time():
        marker = pathlib.Path(tempfile.gettempdir()) / "evolve-fixture-ran-once"
        first = not marker.exists()
        marker.write_text("ran", encoding="utf-8")
        assert first and is_adult(18)
""")

MISSES = dedent("""
    from pkg.ages import is_adult


    def test_forty_is_adult():
        assert is_adult(40)
""")

SURVIVOR = "no test distinguishes `>=` from `>` at `pkg/ages.py:6`"


@pytest.fixture
def ages_repo(tmp_path: Path) -> Path:
    """A committed repository whose one test file runs `is_adult` but never at 18."""
    return make_repo(
        tmp_path / "ages",
        {
            "pkg/__init__.py": '"""People and their ages."""\n',
            "pkg/ages.py": AGES,
            "tests/__init__.py": "",
            "tests/test_ages.py": WEAK_TESTS,
            "pyproject.toml": '[project]\nname = "ages"\nversion = "0.1"\n\n[tool.pytest.ini_options]\ntestpaths = ["tests"]\n',
        },
    )


def _three_tests(request: Recorded) -> Reply:
    prompt = request.body["messages"][0]["content"]
    assert "[mutant]" in prompt and "from `>=` to `>`" in prompt, prompt
    assert "Put it in `tests/`, named `test_*.py`" in prompt
    return tools(
        tool_call("add_test_file", path="tests/test_ages_boundary.py", content=KILLS),
        tool_call("add_test_file", path="tests/test_ages_flaky.py", content=FLAKY),
        tool_call("add_test_file", path="tests/test_ages_forty.py", content=MISSES),
    )


def test_a_test_that_kills_the_survivor_is_kept_and_the_flaky_and_the_weak_ones_are_not(ages_repo, llm_env):
    llm_env.add(_three_tests, finish("One test per surviving mutant."))

    report = run_engine(ages_repo, RunOptions(llm=True, focus="tests"))

    assert report.status == "succeeded", (report.message, [a.to_dict() for a in report.attempts])
    assert report.plan is not None and report.plan.theme == "tests"
    assert [task.kind for task in report.plan.tasks] == ["mutant"]
    assert [(edit.path, edit.after) for edit in report.final_edits] == [("tests/test_ages_boundary.py", KILLS)]

    # The commit holds the one kept test file and nothing else.
    assert report.branch and report.commit
    changed = subprocess.run(
        ["git", "-C", str(ages_repo), "diff", "--name-only", f"{report.base_sha}..{report.commit}"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    assert changed == ["tests/test_ages_boundary.py"]

    verdicts = {v["path"]: v for v in report.llm["mutant_tests"]}
    assert verdicts["tests/test_ages_boundary.py"]["decision"] == "kept"
    assert verdicts["tests/test_ages_boundary.py"]["kills"] == [SURVIVOR]
    assert verdicts["tests/test_ages_boundary.py"]["base_runs"] == [0, 0, 0]
    assert verdicts["tests/test_ages_flaky.py"]["decision"] == "flaky"
    assert verdicts["tests/test_ages_flaky.py"]["base_runs"] == [0, 1, 1]
    assert verdicts["tests/test_ages_forty.py"]["decision"] == "does-not-kill"

    body = report.markdown
    assert "### Tests that catch surviving mutants" in body
    assert "- `tests/test_ages_boundary.py` kills: no test distinguishes `>=` from `>` at `pkg/ages.py:6`" in body, body
    flaky = (
        r"- `tests/test_ages_flaky.py`: **flaky** — flaky: it passed 1 of 3 runs on the unchanged code \(run 2 failed\)"
    )
    assert flaky + "\n" in body, body
    assert "- `tests/test_ages_forty.py`: **does not kill its mutant** — it passes on every surviving mutant" in body


def test_the_tests_theme_says_it_needs_the_llm(ages_repo, monkeypatch, tmp_path):
    monkeypatch.delenv("ANTHROPIC_API_KEY", raising=False)
    monkeypatch.delenv("EVOLVE_ANTHROPIC_API_KEY", raising=False)
    monkeypatch.setenv("EVOLVE_LLM_USAGE_STORE", str(tmp_path / "usage.sqlite"))

    report = run_engine(ages_repo, RunOptions(llm=True, focus="tests"))

    assert report.status != "succeeded" and not report.final_edits
    assert "'tests' theme is written by the LLM stage, which is not on for this run" in report.message, report.message
    assert "ANTHROPIC_API_KEY" in report.message
