"""The PR body: about this change when it passed, about what was tried when it failed (pure rendering)."""

import re

from evolve.plan.tasks import Plan
from evolve.reports.markdown import GITHUB_BODY_LIMIT, render_report_markdown
from evolve.results import Failed, Metric, Passed

PLAN = Plan(theme="cleanup", title="Tidy control flow", tasks=(), score=1.0)
META = {
    "id": "redundant-else",
    "title": "Remove else",
    "theme": "cleanup",
    "rationale": "Early exits read top to bottom.",
    "risk": "medium",
    "review_guidance": "Check comments.",
    "references": [],
}


def _hunk(path, start, end, verdict, execution, lines=4, symbol="Cache.get", executable=None, executed=None):
    executable = lines if executable is None else executable
    executed = (executable if execution == "executed" else 0) if executed is None else executed
    return {
        "executable_lines": executable,
        "executed_lines": executed,
        "unmeasured_lines": 0,
        "path": path,
        "base_start": start,
        "base_end": end,
        "head_start": start,
        "head_end": end - 1,
        "codemods": ["redundant-else"],
        "descriptions": ["removed `else:` after `return`"],
        "symbol": symbol,
        "execution": execution,
        "equivalent": verdict == "equivalent",
        "verdict": verdict,
        "changed_lines": lines,
    }


def _figure(hunks):
    kept = [h for h in hunks if h["verdict"] != "dropped"]
    return {
        "executed": sum(h["executed_lines"] for h in kept),
        "executable": sum(h["executable_lines"] for h in kept),
        "measured": True,
        "unmeasured": 0,
        "unexecuted": [
            [h["path"], h["base_start"], h["base_end"]] for h in kept if h["executed_lines"] < h["executable_lines"]
        ],
    }


def _report(status="succeeded", hunks=None, share=0.75, path="pkg/mod.py"):
    hunks = hunks or [
        _hunk(path, 40, 52, "tested", "executed", lines=6),
        _hunk(path, 70, 71, "unverified", "not-executed", lines=2, symbol="helper"),
    ]
    edit = {"path": path, "source": "codemods", "changes": [], "changed_lines": 8}
    attempt = {
        "number": 1,
        "passed": status == "succeeded",
        "edits": [edit],
        "gates": [],
        "narrowed": [],
        "note": "",
        "provider_notes": [],
        "proof": {"measured": True, "executed_share": share, "hunks": hunks, "changed_lines": _figure(hunks)},
    }
    return {
        "run_id": "abc123",
        "status": status,
        "message": "No change passed every gate in 1 attempt(s) (last failing: tests); nothing was committed.",
        "base_sha": "0123456789abcdef",
        "commit": "feedbeef" if status == "succeeded" else None,
        "attempts": [attempt],
        "resolved_findings": ["f1"],
        "codemods": [META],
        "llm": {},
        "tests": {
            "command": "python -m pytest -q tests",
            "base": {"passed": 120, "skipped": 2, "duration": 3.5},
            "base_from_cache": True,
            "head": {"passed": 120, "skipped": 2, "duration": 3.4},
        },
        "changed_code": [
            {"path": path, "symbol": None, "metric": "maintainability index", "before": 61.5, "after": 63.25},
            {"path": path, "symbol": "Cache.get", "metric": "cyclomatic complexity", "before": 7, "after": 7},
        ],
    }


GATES = (Passed(gate="tests", summary="120 passed on base and head."),)


def test_success_body_says_what_changed_where_with_tests_share_and_changed_code_metrics():
    metrics = (Metric("findings", 3, 2, "lower"), Metric("average maintainability index", 28.731, 28.7312, "higher"))
    body = render_report_markdown(_report(), PLAN, GATES, metrics)
    assert "| average maintainability index | 28.73 | 28.73 | 0 (unchanged) |" in body and "+0.00" not in body
    assert "`Cache.get`" in body and "removed `else:` after `return`" in body and "lines 40–52" in body
    assert "`python -m pytest -q tests`" in body and "120 passed, 2 skipped" in body and "cached" in body
    assert "Changed lines the tests execute: **75%** (6 of 8 lines that need executing)." in body
    assert "The lines no test runs are in: `pkg/mod.py` lines 70–71" in body
    assert "unverified: no test runs these lines" in body and "Risk: **medium, unverified**" in body
    assert "| `pkg/mod.py` | maintainability index | 61.50 | 63.25 |" in body
    assert "| `pkg/mod.py Cache.get` | cyclomatic complexity | 7 | 7 |" in body
    assert "attempt 1 of at most 3" in body and "This PR makes 2 changes in 1 file (8 changed lines)" in body
    # The title is the codemod's, from the edits made; the CLI's report offers no App command.
    assert body.startswith("## Remove else\n") and "/evolve" not in body and "Merge it" not in body
    app = render_report_markdown(_report(), PLAN, GATES, metrics, surface="app")
    assert "Merge it" in app and "`/evolve retry`" in app


def test_failed_run_never_reads_like_a_pr_to_merge():
    failing = (Failed(gate="tests", summary="1 test fails on head: tests/test_x.py::test_y"),)
    body = render_report_markdown(_report(status="failed"), PLAN, failing, ())
    assert "Merge it" not in body and "This PR makes" not in body
    assert "### What was tried" in body and "### What failed" in body and "### What Evolve will do next" in body
    assert "Nothing was committed" in body and "`tests`: 1 test fails on head" in body


def _outside_code_spans(markdown):
    return re.sub(r"(`+)(?!`).*?(?<!`)\1(?!`)", "", markdown)


def test_untrusted_names_are_escaped():
    hostile = "pkg/`evil`<img src=x>@octocat #1.py"
    report = _report(path=hostile)
    failing = (Failed(gate="tests", summary="[click](http://x) @octocat <script>"),)
    for body in (render_report_markdown(report, PLAN, GATES, ()), render_report_markdown(report, PLAN, failing, ())):
        plain = _outside_code_spans(body)
        assert "<img" not in plain and "<script>" not in plain and "[click](http" not in plain
        assert "@octocat" not in plain
    assert "``pkg/`evil`<img src=x>@octocat #1.py``" in render_report_markdown(report, PLAN, GATES, ())


def test_the_body_stays_under_githubs_limit():
    hunks = [_hunk(f"pkg/m{i}.py", 10, 12, "tested", "executed") for i in range(3000)]
    body = render_report_markdown(_report(hunks=hunks), PLAN, GATES, ())
    assert len(body) < GITHUB_BODY_LIMIT
    assert "more files; the diff has every change" in body


def test_a_findings_delta_is_stated_only_as_caused_with_its_rules():
    report = _report()
    report["finding_changes"] = [
        {"rule": "open-without-encoding", "kind": "security", "path": "pkg/mod.py", "change": "resolved"},
        {"rule": "open-encoding", "kind": "codemod", "path": "pkg/mod.py", "change": "resolved"},
    ]
    metrics = (Metric("findings", 7, 5, "lower"), Metric("security findings", 3, 2, "lower"))
    body = render_report_markdown(report, PLAN, GATES, metrics)
    assert "| security findings | 3 | 2 | -1: resolved `open-without-encoding` |" in body
    assert "| findings | 7 | 5 | -2: resolved `open-encoding`, `open-without-encoding` |" in body
    assert "(improved)" not in body.split("| findings |", 1)[1].split("\n", 1)[0]
    assert "Findings: resolved `open-encoding`, `open-without-encoding`." in body
    quiet = render_report_markdown(_report(), PLAN, GATES, (Metric("security findings", 3, 2, "lower"),))
    assert "| security findings | 3 | 2 | none resolved or introduced by this change |" in quiet


def test_titles_come_from_the_edits_made_not_the_theme():
    from evolve.reports.titles import change_title

    fix = {"id": "open-encoding", "title": 'Open text files with `encoding="utf-8"`'}
    flat = {"id": "redundant-else", "title": "Remove `else` after a branch that always exits"}
    edits = [{"changes": [{"codemod": "redundant-else"}, {"codemod": "redundant-else"}, {"codemod": "open-encoding"}]}]
    assert change_title([flat], edits[:1], "Remove dead code and redundant branches") == flat["title"]
    assert change_title([fix, flat], edits, "Fix bug patterns") == (
        'Remove `else` after a branch that always exits; open text files with `encoding="utf-8"`'
    )
    third = {"id": "not-in", "title": "Use `not in`"}
    edits[0]["changes"].append({"codemod": "not-in"})
    assert change_title([fix, flat, third], edits, "x").endswith(", and 2 other kinds of change")
    assert change_title([], [{"changes": []}], "Document public functions") == "Document public functions"


def test_a_partly_executed_change_says_how_much_of_it_ran():
    hunks = [_hunk("pkg/mod.py", 40, 44, "tested", "executed", lines=4, executable=4, executed=3)]
    body = render_report_markdown(_report(hunks=hunks), PLAN, GATES, ())
    assert "(lines 40–44) — executed by the tests (3 of 4 lines that need executing)" in body
    assert (
        "**75%** (3 of 4 lines that need executing). The lines no test runs are in: `pkg/mod.py` lines 40–44." in body
    )


def test_a_lowercase_class_is_not_written_as_a_call():
    from evolve.edits import FileEdit
    from evolve.proof.behaviour import prove_edits

    before = "class curry(object):\n    pass\n\n\ndef run():\n    return curry()\n"
    edit = FileEdit("pkg/mod.py", before, before.replace("curry(object)", "curry"), "codemods")
    (hunk,) = prove_edits((edit,), None, frozenset()).hunks
    assert (hunk.symbol, hunk.symbol_kind) == ("curry", "class")
    body = render_report_markdown(_report(hunks=[hunk.to_dict()]), PLAN, GATES, ())
    assert "- `curry`: " in body and "`curry()`" not in body
