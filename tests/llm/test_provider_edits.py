"""The provider against the fake Messages API: good edits, rejected edits, corrections, feedback."""

from __future__ import annotations

import ast
import json

from evolve.llm.repository import function_complexity
from evolve.plan.tasks import Plan, Task
from evolve.results import Failed, Metric, Passed
from evolve.runs import AttemptFeedback
from tests.llm.fake_anthropic import finish, tool_call, tools

AREA_DOC = (
    "Compute the area of a square, rectangle, circle or triangle.\n\n"
    'Args:\n    kind: one of "square", "rect", "circle" or "triangle".\n'
    "    a: first dimension (side or radius).\n    b: second dimension, used by rect and triangle.\n\n"
    "Returns:\n    The area as a number.\n\nRaises:\n    ValueError: for an unknown kind."
)
SCALED_DOC = "Return a new Box whose width and height are multiplied by factor."
AREA_REFACTOR = """\
def area(kind, a, b=0):
    formulas = {
        "square": lambda: a * a,
        "rect": lambda: a * b,
        "circle": lambda: math.pi * a * a,
        "triangle": lambda: a * b / 2,
    }
    if kind not in formulas:
        raise ValueError(kind)
    return formulas[kind]()
"""


def docstring_plan() -> Plan:
    return Plan(
        "docstrings",
        "Document public functions",
        (
            Task("docstring", "pkg/shapes.py", symbol="area"),
            Task("docstring", "pkg/shapes.py", symbol="Box.scaled"),
        ),
        score=1.0,
    )


def complexity_plan(symbol: str = "area") -> Plan:
    return Plan("complexity", "Simplify complex functions", (Task("complexity", "pkg/shapes.py", symbol=symbol),), 1.0)


def test_docstring_edits_are_applied_in_the_repository_style(repo, fake_api, make_provider):
    fake_api.add(
        tools(
            tool_call("set_docstring", target="pkg/shapes.py:area", docstring=AREA_DOC),
            tool_call("set_docstring", target="pkg/shapes.py:Box.scaled", docstring=SCALED_DOC),
        ),
        finish("Documented area and Box.scaled."),
    )
    before = (repo / "pkg/shapes.py").read_text()
    outcome = make_provider().propose(repo, docstring_plan(), None)

    assert outcome.provider == "llm"
    [edit] = outcome.edits
    assert edit.source == "llm" and edit.path == "pkg/shapes.py" and edit.before == before
    diff_lines = [line for line in edit.diff().splitlines() if line[:1] in "+-" and line[:3] not in ("+++", "---")]
    assert diff_lines and all(line.startswith("+") for line in diff_lines), "only docstring lines are added"
    tree = ast.parse(edit.after)
    functions = {n.name: n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef)}
    assert ast.get_docstring(functions["area"]) == AREA_DOC
    assert ast.get_docstring(functions["scaled"]) == SCALED_DOC
    assert '    def scaled(self, factor):\n        """Return a new Box' in edit.after
    assert "\n    Args:\n        kind: one of" in edit.after
    assert {c.codemod for c in edit.changes} == {"llm:set_docstring"}
    assert "model summary: Documented area and Box.scaled." in outcome.notes
    assert outcome.usage["requests"] == 2 and outcome.usage["input_tokens"] == 2400
    assert outcome.usage["models"] == ["claude-sonnet-5-5"] and outcome.usage["estimated_cost_usd"] > 0
    assert (repo / "pkg/shapes.py").read_text() == before, "the provider proposes; it never writes the workspace"

    first, second = fake_api.requests
    assert first.body["tool_choice"] == {"type": "any"}
    assert sorted(t["name"] for t in first.body["tools"]) == [
        "add_test_file",
        "finish",
        "replace_function",
        "set_docstring",
    ]
    assert first.body["model"] == "claude-sonnet-5-5" and first.body["max_tokens"] == 4096
    assert "google" in first.body["messages"][0]["content"]
    assert [r.get("is_error", False) for r in second.last_tool_results()] == [False, False]


def test_complexity_refactor_is_verified_with_radon(repo, fake_api, make_provider):
    fake_api.add(tools(tool_call("replace_function", target="pkg/shapes.py:area", new_source=AREA_REFACTOR)), finish())
    outcome = make_provider().propose(repo, complexity_plan(), None)

    [edit] = outcome.edits
    assert function_complexity(edit.before, "area") == 5
    assert function_complexity(edit.after, "area") == 2
    assert AREA_REFACTOR in edit.after
    untouched_prefix = edit.before.split("def area")[0]
    untouched_suffix = edit.before.split("raise ValueError(kind)\n", 1)[1]
    assert edit.after.startswith(untouched_prefix) and edit.after.endswith(untouched_suffix)
    assert "complexity 5 -> 2" in fake_api.requests[1].last_tool_results()[0]["content"]
    assert "radon currently measures 5" in fake_api.requests[0].body["messages"][0]["content"]


def test_malformed_tool_input_is_rejected_and_the_model_corrects_itself(repo, fake_api, make_provider):
    fake_api.add(
        tools(
            tool_call("replace_function", target="pkg/shapes.py:area"),
            tool_call("set_docstring", target="pkg/shapes.py:area", docstring=123),
            tool_call(
                "replace_function", target="pkg/shapes.py:area", new_source="def area(kind, a, b=0)\n    return 1\n"
            ),
            tool_call("finish", summary="done"),
        ),
        tools(tool_call("replace_function", target="pkg/shapes.py:area", new_source=AREA_REFACTOR)),
        finish("Simplified area."),
    )
    outcome = make_provider().propose(repo, complexity_plan(), None)

    results = fake_api.requests[1].last_tool_results()
    assert [r.get("is_error", False) for r in results] == [True, True, True, False]
    assert "missing the required field 'new_source'" in results[0]["content"]
    assert "must be a string, not int" in results[1]["content"]
    assert "does not parse" in results[2]["content"]
    assert results[3]["content"].startswith("Not finished yet")
    assert results[0]["tool_use_id"] == fake_api.requests[1].body["messages"][1]["content"][0]["id"]
    [edit] = outcome.edits
    assert AREA_REFACTOR in edit.after
    assert sum(note.startswith("rejected edit:") for note in outcome.notes) == 3
    assert len(fake_api.requests) == 3


def test_edit_naming_a_missing_function_is_rejected_with_the_known_names(repo, fake_api, make_provider):
    fake_api.add(
        tools(
            tool_call(
                "set_docstring", target="pkg/shapes.py:volume", docstring="Compute the volume of a box from its sides."
            )
        )
    )
    outcome = make_provider().propose(repo, docstring_plan(), None)

    [result] = fake_api.requests[1].last_tool_results()
    assert result["is_error"] is True
    assert "there is no function or class 'volume' in pkg/shapes.py" in result["content"]
    assert "Box.scaled" in result["content"] and "area" in result["content"]
    assert outcome.edits == ()


def test_signature_changes_and_unimproved_complexity_are_rejected(repo, fake_api, make_provider):
    fake_api.add(
        tools(
            tool_call("replace_function", target="pkg/shapes.py:area", new_source=AREA_REFACTOR.replace("b=0", "b=1")),
            tool_call("replace_function", target="pkg/shapes.py:area", new_source=SHAPES_AREA_SAME),
            tool_call(
                "replace_function",
                target="pkg/shapes.py:perimeter",
                new_source="def perimeter(kind, a, b=0):\n    return 0\n",
            ),
        )
    )
    outcome = make_provider().propose(repo, complexity_plan(), None)

    signature, unimproved, off_task = (r["content"] for r in fake_api.requests[1].last_tool_results())
    assert "signature of 'area'" in signature
    assert "complexity of 'area' is 5, not below its current 5" in unimproved
    assert "'perimeter' is not a target of this task set" in off_task
    assert outcome.edits == ()


SHAPES_AREA_SAME = """\
def area(kind, a, b=0):
    if kind == "square":
        return a ** 2
    elif kind == "rect":
        return a * b
    elif kind == "circle":
        return math.pi * a ** 2
    elif kind == "triangle":
        return a * b / 2
    raise ValueError(kind)
"""


def test_filler_and_off_style_docstrings_are_rejected(repo, fake_api, make_provider):
    fake_api.add(
        tools(
            tool_call("set_docstring", target="pkg/shapes.py:area", docstring="Area."),
            tool_call(
                "set_docstring", target="pkg/shapes.py:area", docstring="TODO: document the area function properly"
            ),
            tool_call("set_docstring", target="pkg/shapes.py:area", docstring="Return the area of the shape."),
            tool_call(
                "set_docstring",
                target="pkg/shapes.py:area",
                docstring="Compute the surface of the named shape.\n\n:param kind: the shape name\n:returns: the area",
            ),
        )
    )
    make_provider().propose(repo, docstring_plan(), None)

    reasons = [r["content"] for r in fake_api.requests[1].last_tool_results()]
    assert "too short" in reasons[0]
    assert "placeholder" in reasons[1]
    assert "only restates the name 'area'" in reasons[2]
    assert "uses rest sections but this repository writes google docstrings" in reasons[3]


def test_uncovered_function_gets_characterization_tests_before_its_refactor(repo, fake_api, make_provider):
    refactor = """\
def describe(kind, a, b=0):
    if a < 0 or b < 0:
        return "invalid"
    degenerate = {"square": a == 0, "rect": a == 0 or b == 0}
    names = {"square": "point", "rect": "line"}
    return names[kind] if degenerate.get(kind) else kind
"""
    test_file = (
        "from pkg.shapes import describe\n\n\ndef test_describe_point():\n    assert describe('square', 0) == 'point'\n"
    )
    fake_api.add(
        tools(tool_call("replace_function", target="pkg/shapes.py:describe", new_source=refactor)),
        tools(
            tool_call("add_test_file", path="tests/test_describe.py", content=test_file),
            tool_call("replace_function", target="pkg/shapes.py:describe", new_source=refactor),
        ),
        finish(),
    )
    outcome = make_provider().propose(repo, complexity_plan("describe"), None)

    prompt = fake_api.requests[0].body["messages"][0]["content"]
    assert "No test in the repository exercises `describe` yet" in prompt
    [rejected] = fake_api.requests[1].last_tool_results()
    assert rejected["is_error"] and "first add characterization tests" in rejected["content"]
    by_path = {edit.path: edit for edit in outcome.edits}
    assert by_path["tests/test_describe.py"].before == "" and by_path["tests/test_describe.py"].after == test_file
    assert refactor in by_path["pkg/shapes.py"].after


def test_feedback_from_failing_gates_reaches_the_next_prompt(repo, fake_api, make_provider):
    previous = make_provider()
    fake_api.add(tools(tool_call("replace_function", target="pkg/shapes.py:area", new_source=AREA_REFACTOR)), finish())
    first = previous.propose(repo, complexity_plan(), None)
    feedback = AttemptFeedback(
        attempt=1,
        gate_results=(
            Passed("syntax", "All files parse."),
            Failed(
                "tests",
                "1 test failed.",
                blame=("pkg/shapes.py",),
                details="FAILED tests/test_shapes.py::test_area_square - AssertionError: assert 6 == 9\nTraceback ...",
            ),
            Failed(
                "complexity", "Average complexity rose.", metrics=(Metric("average_complexity", 2.0, 2.5, "lower"),)
            ),
        ),
        previous_edits=first.edits,
    )
    fake_api.requests.clear()
    fake_api.add(finish("Nothing safe to change."))
    outcome = previous.propose(repo, complexity_plan(), feedback)

    prompt = fake_api.requests[0].body["messages"][0]["content"]
    assert "Attempt 2." in prompt
    assert '<untrusted_gate_output gate="tests" status="failed">' in prompt
    assert "FAILED tests/test_shapes.py::test_area_square - AssertionError: assert 6 == 9" in prompt
    assert "average_complexity: 2.0 -> 2.5" in prompt
    assert "syntax" not in prompt.split("## Why the previous attempt failed")[1].split("<untrusted_diff")[0]
    assert '<untrusted_diff attempt="1">' in prompt and "+    formulas = {" in prompt
    assert outcome.edits == () and "model summary: Nothing safe to change." in outcome.notes


def test_plans_without_llm_tasks_make_no_request(repo, fake_api, make_provider):
    plan = Plan("imports", "Remove unused imports", (Task("codemod", "pkg/shapes.py", codemod="unused-imports"),), 1.0)
    outcome = make_provider().propose(repo, plan, None)
    assert outcome.edits == () and fake_api.requests == []
    disabled = make_provider(llm={"tasks": ["docstrings"]}).propose(repo, complexity_plan(), None)
    assert disabled.edits == () and fake_api.requests == []
    assert json.dumps(outcome.usage)


RUNNER = '''\
"""Run shell commands."""

import shlex
import subprocess


def run(command):
    """Run command and return its exit status."""
    return subprocess.call(command, shell=True)
'''
RUNNER_FIX = '''\
def run(command):
    """Run command (split like a shell would, but without a shell) and return its exit status."""
    return subprocess.call(shlex.split(command))
'''


def _security_finding():
    from evolve.findings import Finding

    return Finding(
        "f1",
        "security",
        "subprocess-shell-true",
        "pkg/runner.py",
        9,
        9,
        "run",
        "high",
        0.9,
        "subprocess call with shell=True invites command injection",
    )


def test_security_finding_without_codemod_is_fixed_through_replace_function(repo, fake_api, make_provider):
    from tests.llm.conftest import write

    write(repo, {"pkg/runner.py": RUNNER})
    plan = Plan(
        "security-fixes",
        "Fix security findings",
        (Task("security", "pkg/runner.py", symbol="run", finding_ids=("f1",)),),
        1.0,
    )
    fake_api.add(tools(tool_call("replace_function", target="pkg/runner.py:run", new_source=RUNNER_FIX)), finish())
    outcome = make_provider().propose(repo, plan, None, findings=[_security_finding()])

    prompt = fake_api.requests[0].body["messages"][0]["content"]
    assert (
        "Finding: subprocess-shell-true at line 9: subprocess call with shell=True invites command injection" in prompt
    )
    [edit] = outcome.edits
    assert "shell=True" not in edit.after and edit.after.startswith(RUNNER.split("def run")[0])


def test_security_findings_are_looked_up_when_the_caller_passes_none(repo, fake_api, make_provider, monkeypatch):
    import evolve.research
    from tests.llm.conftest import write

    class Scan:
        findings = (_security_finding(),)

    calls = []
    monkeypatch.setattr(evolve.research, "scan_repository", lambda root, config, **kw: calls.append(kw) or Scan())
    write(repo, {"pkg/runner.py": RUNNER})
    plan = Plan(
        "security-fixes",
        "Fix security findings",
        (Task("security", "pkg/runner.py", symbol="run", finding_ids=("f1",)),),
        1.0,
    )
    fake_api.add(finish("Left as is."))
    make_provider().propose(repo, plan, None)
    assert calls == [{"paths": ["pkg/runner.py"], "with_semgrep": True}]
    assert "subprocess call with shell=True" in fake_api.requests[0].body["messages"][0]["content"]


def test_model_summary_is_one_short_line_without_mentions(repo, fake_api, make_provider):
    fake_api.add(finish("Done.\n\nPlease ping @octocat and @org/team " + "x" * 900))
    outcome = make_provider().propose(repo, docstring_plan(), None)
    [summary] = [n for n in outcome.notes if n.startswith("model summary:")]
    assert "\n" not in summary and len(summary) <= 520
    assert "@octocat" not in summary and "@\u200boctocat" in summary and "@\u200borg/team" in summary


def test_characterization_tests_task_adds_a_new_test_module(repo, fake_api, make_provider):
    content = "from pkg.shapes import perimeter\n\n\ndef test_perimeter_of_a_square():\n    assert perimeter('square', 2) == 8\n"
    fake_api.add(
        tools(
            tool_call("add_test_file", path="tests/test_shapes.py", content=content),
            tool_call("add_test_file", path="tests/test_perimeter.py", content="import pkg.shapes\n"),
            tool_call(
                "replace_function",
                target="pkg/shapes.py:perimeter",
                new_source="def perimeter(kind, a, b=0):\n    return 0\n",
            ),
            tool_call("add_test_file", path="tests/test_perimeter.py", content=content),
        ),
        finish(),
    )
    plan = Plan("tests", "Add characterization tests", (Task("tests", "pkg/shapes.py", symbol="perimeter"),), 1.0)
    outcome = make_provider().propose(repo, plan, None)

    prompt = fake_api.requests[0].body["messages"][0]["content"]
    assert "import it from `pkg.shapes`" in prompt
    exists, no_tests, code_change, accepted = fake_api.requests[1].last_tool_results()
    assert "already exists" in exists["content"]
    assert "defines no test functions" in no_tests["content"]
    assert "not a target of this task set" in code_change["content"]
    assert not accepted.get("is_error")
    [edit] = outcome.edits
    assert (edit.path, edit.before, edit.after) == ("tests/test_perimeter.py", "", content)
