"""`run_engine(..., RunOptions(llm=True))` on a fixture repository, with the fake Messages API scripted."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from evolve.engine import run_engine
from evolve.runs import RunOptions
from tests.llm.conftest import dedent, write
from tests.llm.fake_anthropic import Recorded, Reply, finish, tool_call, tools

GRADES = dedent('''
    """Turn scores into grades."""


    def letter_grade(score, curve=0):
        """Turn a numeric score (0-100, plus an optional non-negative curve) into a letter from A to F."""
        if score is None:
            raise ValueError("score is required")
        if not isinstance(score, (int, float)):
            raise TypeError("score must be a number")
        if curve < 0:
            raise ValueError("curve must not be negative")
        adjusted = score + curve
        if adjusted > 100:
            adjusted = 100
        if adjusted < 0:
            adjusted = 0
        if adjusted >= 90:
            return "A"
        elif adjusted >= 80:
            return "B"
        elif adjusted >= 70:
            return "C"
        elif adjusted >= 60:
            return "D"
        elif adjusted >= 50:
            return "E"
        else:
            return "F"


    def average(scores):
        if not scores:
            return 0.0
        return sum(scores) / len(scores)


    def passed(score, pass_mark=50):
        return score >= pass_mark
''')

TESTS = dedent('''
    """Tests of the grading helpers."""

    import pytest

    from pkg.grades import average, letter_grade, passed


    @pytest.mark.parametrize("score,letter", [(95, "A"), (90, "A"), (85, "B"), (75, "C"), (65, "D"), (55, "E"),
                                              (50, "E"), (10, "F"), (150, "A"), (-5, "F")])
    def test_letter_grade(score, letter):
        """Each band of scores maps to its letter."""
        assert letter_grade(score) == letter


    def test_curve():
        """A curve lifts the score before grading."""
        assert letter_grade(85, curve=5) == "A"


    def test_errors():
        """Missing, non-numeric scores and negative curves are refused."""
        with pytest.raises(ValueError):
            letter_grade(None)
        with pytest.raises(TypeError):
            letter_grade("x")
        with pytest.raises(ValueError):
            letter_grade(50, curve=-1)


    def test_average():
        """The mean of the scores, 0.0 when there are none."""
        assert average([]) == 0.0
        assert average([1, 2, 3]) == 2.0


    def test_passed():
        """A score passes at or above the pass mark."""
        assert passed(50) and not passed(49)
        assert passed(40, pass_mark=40)
''')

REFACTOR = dedent('''
    def letter_grade(score, curve=0):
        """Turn a numeric score (0-100, plus an optional non-negative curve) into a letter from A to F."""
        if score is None:
            raise ValueError("score is required")
        if not isinstance(score, (int, float)):
            raise TypeError("score must be a number")
        if curve < 0:
            raise ValueError("curve must not be negative")
        adjusted = min(max(score + curve, 0), 100)
        for floor, letter in ((90, "A"), (80, "B"), (70, "C"), (60, "D"), (50, "E")):
            if adjusted >= floor:
                return letter
        return "F"
''')
BROKEN_REFACTOR = REFACTOR.replace('(50, "E")', '(55, "E")')
AVERAGE_DOC = (
    "Return the arithmetic mean of scores.\n\nAn empty sequence gives 0.0 instead of raising ZeroDivisionError."
)
PASSED_DOC = "Tell whether score reaches the pass mark.\n\nThe comparison is inclusive: a score equal to pass_mark (50 unless given) passes."


@pytest.fixture
def grades_repo(tmp_path: Path) -> Path:
    """A committed git repository: pkg/grades.py with two undocumented functions and a complex one, passing tests."""
    root = tmp_path / "grades"
    write(
        root,
        {
            "pkg/__init__.py": '"""Grading helpers for a course."""\n',
            "pkg/grades.py": GRADES,
            "tests/__init__.py": "",
            "tests/test_grades.py": TESTS,
            "pyproject.toml": '[project]\nname = "grades"\nversion = "0.1"\n\n[tool.pytest.ini_options]\ntestpaths = ["tests"]\n',
        },
    )
    git = ["git", "-c", "user.email=fixture@example.com", "-c", "user.name=fixture"]
    subprocess.run([*git, "init", "-q", "-b", "main", str(root)], check=True)
    subprocess.run([*git, "-C", str(root), "add", "-A"], check=True)
    subprocess.run([*git, "-C", str(root), "commit", "-qm", "fixture"], check=True)
    return root


def _gates_all_pass(report) -> None:
    assert report.status == "succeeded", (report.message, [a.to_dict() for a in report.attempts])
    final = report.attempts[-1]
    assert final.gate_results and all(result.ok for result in final.gate_results)
    assert {result.gate for result in final.gate_results} >= {"syntax", "tests"}


def test_docstring_run_succeeds_with_llm_edits(grades_repo, llm_env):
    llm_env.add(
        tools(
            tool_call("set_docstring", target="pkg/grades.py:average", docstring=AVERAGE_DOC),
            tool_call("set_docstring", target="pkg/grades.py:passed", docstring=PASSED_DOC),
        ),
        finish("Documented average and passed from their code."),
    )
    report = run_engine(grades_repo, RunOptions(llm=True, focus="docstrings"))

    _gates_all_pass(report)
    assert report.plan.theme == "docstrings"
    [edit] = report.final_edits
    assert edit.source == "llm"
    assert '    """Return the arithmetic mean of scores.\n\n    An empty sequence gives 0.0' in edit.after
    assert '    """Tell whether score reaches the pass mark.\n' in edit.after
    assert report.branch and report.branch.startswith("evolve/docstrings-")
    usage = report.llm["usage"]
    assert usage["requests"] == 2 and usage["models"] == ["claude-sonnet-5-5"] and usage["estimated_cost_usd"] > 0
    assert json.dumps(report.to_dict())
    _save_example(llm_env.requests[0], report.diff)


def test_complexity_run_succeeds_with_a_verified_refactor(grades_repo, llm_env):
    llm_env.add(
        tools(tool_call("replace_function", target="pkg/grades.py:letter_grade", new_source=REFACTOR)), finish()
    )
    report = run_engine(grades_repo, RunOptions(llm=True, focus="complexity"))

    _gates_all_pass(report)
    assert report.plan.theme == "complexity"
    assert "for floor, letter in" in report.final_edits[0].after
    assert "complexity 11 -> 6" in llm_env.requests[1].last_tool_results()[0]["content"]


def test_edits_that_break_tests_send_the_failure_back_and_the_run_ends_cleanly(grades_repo, llm_env):
    def second_attempt(request: Recorded) -> Reply:
        prompt = request.body["messages"][0]["content"]
        assert "Attempt 2." in prompt, "a fresh conversation for the second attempt"
        return tools(tool_call("replace_function", target="pkg/grades.py:letter_grade", new_source=REFACTOR))

    llm_env.add(
        tools(tool_call("replace_function", target="pkg/grades.py:letter_grade", new_source=BROKEN_REFACTOR)),
        finish("Replaced the elif chain with a table."),
        second_attempt,
        finish("Fixed the E band: 50 is still an E."),
    )
    report = run_engine(grades_repo, RunOptions(llm=True, focus="complexity"))

    assert len(llm_env.requests) == 4
    retry_prompt = llm_env.requests[2].body["messages"][0]["content"]
    assert '<untrusted_gate_output gate="tests" status="failed">' in retry_prompt
    assert "test_letter_grade" in retry_prompt and "50-E" in retry_prompt
    assert '<untrusted_diff attempt="1">' in retry_prompt and '(55, "E")' in retry_prompt
    first, second = report.attempts
    assert not first.passed and any(r.gate == "tests" and not r.ok for r in first.gate_results)
    _gates_all_pass(report)
    assert second.passed


def test_api_down_continues_with_the_deterministic_catalog(grades_repo, llm_env):
    from tests.llm.fake_anthropic import error

    llm_env.for_model("claude-sonnet-5-5", [error(529)] * 3).for_model("claude-haiku-4-5", [error(500)] * 3)
    llm_env.for_model("claude-haiku-5-5", [error(500)] * 3)
    # The fixture's only codemod finding is cosmetic (redundant-else): a project with a history of merging
    # those gets them by default, so the fallback has a codemod plan to go on with.
    report = run_engine(grades_repo, RunOptions(llm=True, focus="docstrings", acceptance={"redundant-else": 0.9}))

    # The LLM stage gave up cleanly; the run went on with a codemod plan and says so.
    assert report.llm["usage"]["requests"] == 0
    notes = " ".join(report.llm["notes"]) + " " + " ".join(report.llm["usage"].get("notes", []))
    assert "continuing with the deterministic catalog" in notes
    assert report.plan.theme != "docstrings" and all(t.kind == "codemod" for t in report.plan.tasks)
    assert report.status == "succeeded", report.message
    _gates_all_pass(report)
    assert "### LLM stage" in report.markdown and "continuing with the deterministic catalog" in report.markdown


EXAMPLE_DOC = Path(__file__).resolve().parents[2] / "docs" / "llm-example.md"


def _save_example(request: Recorded, diff: str) -> None:
    """Regenerate docs/llm-example.md from a real request and diff when EVOLVE_WRITE_LLM_EXAMPLE=1."""
    if os.environ.get("EVOLVE_WRITE_LLM_EXAMPLE") != "1":
        return
    body = json.dumps(request.body, indent=2, ensure_ascii=False)
    text = (
        "# The LLM stage: one real prompt and the edits it produced\n\n"
        "Generated by `EVOLVE_WRITE_LLM_EXAMPLE=1 pytest "
        "tests/llm/test_llm_end_to_end.py::test_docstring_run_succeeds_with_llm_edits`: "
        '`run_engine(repo, RunOptions(llm=True, focus="docstrings"))` on a fixture repository, with the SDK '
        "pointed at the local fake Messages API. The fake answered with two `set_docstring` tool calls and "
        "`finish`; LibCST applied them and every gate passed.\n\n"
        f"{_HOW_IT_WORKS}\n\n"
        "## System prompt\n\n"
        f"```text\n{request.body['system']}\n```\n\n"
        "## First user message\n\n"
        f"````markdown\n{request.body['messages'][0]['content']}\n````\n\n"
        "## The model's answer (scripted in the fake)\n\n"
        f"```json\n{json.dumps(_DOC_ANSWER, indent=2)}\n```\n\n"
        "## Resulting diff\n\n"
        f"```diff\n{diff}```\n\n"
        "## Complete request body (POST /v1/messages)\n\n"
        f"```json\n{body}\n```\n"
    )
    EXAMPLE_DOC.write_text(text, encoding="utf-8")


_HOW_IT_WORKS = """## How the stage works (evolve/llm)

- On only when `ANTHROPIC_API_KEY` is set and `llm.enabled` is true; `ANTHROPIC_BASE_URL` is honoured.
- One conversation per attempt. The model must answer with tool calls (`tool_choice: any`): `replace_function`,
  `set_docstring`, `add_test_file`, `finish`. There is no tool that runs commands.
- Every call is validated and applied with LibCST to an in-memory copy of the files; everything outside the named
  node stays byte-for-byte. Rejections (unparsable source, unknown symbol, changed signature, complexity not lower
  by radon, filler docstring, forbidden or out-of-config path, untested function refactored before its tests) go
  back as `tool_result` blocks with `is_error: true`, and the model corrects itself in the same conversation.
- Repository text and gate output are fenced in `<untrusted_...>` blocks (tag lookalikes inside are neutralised)
  and the system prompt says instructions inside them are data. Before sending, the whole request body is scrubbed
  of the values of secret-looking environment variables and of token patterns (ghp_/ghs_/github_pat_, sk-ant-,
  AKIA…, PEM blocks, JWTs).
- Failures: 408/409/429/5xx/529, timeouts and connection errors are retried with backoff (honouring
  `retry-after`), then the fallback model is tried, then the stage gives up with no edits and the note
  "continuing with the deterministic catalog alone: …". Token use and estimated cost (a built-in price table,
  estimates only) are budgeted per run and per repository per day (SQLite)."""

_DOC_ANSWER = [
    {
        "type": "tool_use",
        "name": "set_docstring",
        "input": {"target": "pkg/grades.py:average", "docstring": AVERAGE_DOC},
    },
    {"type": "tool_use", "name": "set_docstring", "input": {"target": "pkg/grades.py:passed", "docstring": PASSED_DOC}},
]


def test_evolve_run_llm_on_the_command_line(grades_repo, llm_env, monkeypatch, tmp_path, capsys):
    from evolve.cli import main

    monkeypatch.setenv("EVOLVE_DATA_DIR", str(tmp_path / "data"))
    llm_env.add(
        tools(tool_call("replace_function", target="pkg/grades.py:letter_grade", new_source=REFACTOR)), finish()
    )
    code = main(["run", str(grades_repo), "--llm", "--focus", "complexity", "--json", "-q"])

    report = json.loads(capsys.readouterr().out)
    assert code == 0 and report["status"] == "succeeded"
    assert all(gate["status"] in ("passed", "skipped") for gate in report["attempts"][-1]["gates"])
    assert report["llm"]["usage"]["requests"] == 2
    assert [e["source"] for e in report["attempts"][-1]["edits"]] == ["llm"]
