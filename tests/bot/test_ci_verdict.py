"""The pure half of following the repository's CI: verdicts, evidence and the automerge rules (no I/O)."""

from __future__ import annotations

from bot.db.pull_lifecycle import PullState
from bot.github.ci_reads import Annotation, CiResult, JobLog, check_state, status_state
from bot.outcomes.ci_verdict import (
    Green,
    Retry,
    Stop,
    Waiting,
    automerge_refusal,
    blamed_paths,
    ci_evidence,
    judge_ci,
    repository_checks,
)
from evolve.configuration.model import AutomergeConfig, EvolveConfig


def ci(name: str, state: str, app: str = "github-actions", kind: str = "check_run") -> CiResult:
    return CiResult(name=name, state=state, kind=kind, app=app)  # type: ignore[arg-type]


def test_states_of_check_runs_and_statuses() -> None:
    assert check_state("in_progress", None) == "pending"
    assert [check_state("completed", c) for c in ("success", "neutral", "skipped")] == ["success"] * 3
    assert [check_state("completed", c) for c in ("failure", "timed_out", "cancelled")] == ["failure"] * 3
    assert [status_state(s) for s in ("success", "pending", "failure", "error")] == [
        "success",
        "pending",
        "failure",
        "failure",
    ]


def test_evolves_own_checks_are_not_the_repositorys_ci() -> None:
    results = [
        ci("evolve/gates", "failure", "evolve-bot"),
        ci("gates", "failure", "evolve-bot"),
        ci("tests", "success"),
    ]
    assert [r.name for r in repository_checks(results, "evolve-bot")] == ["tests"]
    assert [r.name for r in repository_checks([ci("evolve/x", "failure", "", "status")], "evolve-bot")] == []


def test_verdicts() -> None:
    red, green = ci("tests", "failure"), ci("tests", "success")
    assert judge_ci([red, ci("docs", "pending")], [], [], 1) == Waiting(("docs",))
    assert judge_ci([green, ci("docs", "success", "", "status")], [], [], 1) == Green(("docs", "tests"))
    assert judge_ci([], [], [], 1) == Waiting(())  # no CI has reported: never green (nor merged) on nothing
    assert judge_ci([red], [green], [], 1) == Retry((red,), 2)
    assert judge_ci([red], [], [], 2) == Retry((red,), 3)  # not on the base at all: the change is suspected
    on_base = judge_ci([red], [red], [], 1)
    assert isinstance(on_base, Stop) and on_base.label == "evolve:ci-red-on-base"
    on_default = judge_ci([red], [], [red], 1)  # the base has no result; the default branch's latest is red
    assert isinstance(on_default, Stop) and "base commit too" in on_default.reason
    spent = judge_ci([red], [green], [], 3)
    assert isinstance(spent, Stop) and spent.label == "evolve:stopped" and "after 3 attempts" in spent.reason


def test_blame_points_at_changed_files_only() -> None:
    changed = ["pkg/core.py", "pkg/__init__.py", "pkg/other.py"]
    logs = [JobLog("CI", "tests", "FAILED tests/test_core.py::test_x\n  File ./pkg/other.py, line 3\n")]
    annotations = [Annotation("README.md", 1, "typo"), Annotation("pkg/__init__.py", 4, "E711")]
    assert blamed_paths(changed, annotations, logs) == ("pkg/__init__.py", "pkg/core.py", "pkg/other.py")
    assert blamed_paths(["pkg/__init__.py"], [], [JobLog("CI", "t", "FAILED tests/test_pkg.py::t")]) == (
        "pkg/__init__.py",
    )
    assert blamed_paths(["a.py"], [], [JobLog("CI", "t", "nothing to see")]) == ()


def test_evidence_is_redacted_capped_and_keeps_the_end() -> None:
    log = "noise\n" * 10_000 + "ghp_" + "a" * 36 + "\nFAILED tests/test_a.py::test_it\n"
    evidence = ci_evidence([ci("tests", "failure")], [], [JobLog("CI", "tests", log)], ["a.py"])
    assert evidence.gate == "ci" and not evidence.ok and evidence.blame == ("a.py",)
    assert len(evidence.details) <= 12_000 and evidence.details.endswith("FAILED tests/test_a.py::test_it\n")
    assert "ghp_aaaa" not in evidence.details


def test_automerge_rules() -> None:
    assert EvolveConfig().automerge == AutomergeConfig(
        enabled=False, max_risk="low", method="squash", require_review=True
    )
    on = AutomergeConfig(enabled=True, require_review=False)
    ok = {"risk": "low", "approved": False, "required": ["tests"], "green": ["tests", "docs"], "only_ours": True}
    assert automerge_refusal(on, **ok) is None  # type: ignore[arg-type]
    assert "off" in (automerge_refusal(AutomergeConfig(), **ok) or "")  # type: ignore[arg-type]
    assert "risk" in (automerge_refusal(on, **{**ok, "risk": "medium"}) or "")  # type: ignore[arg-type]
    assert "review" in (automerge_refusal(AutomergeConfig(enabled=True), **ok) or "")  # type: ignore[arg-type]
    assert "required" in (automerge_refusal(on, **{**ok, "green": ["docs"]}) or "")  # type: ignore[arg-type]
    assert "not Evolve's" in (automerge_refusal(on, **{**ok, "only_ours": False}) or "")  # type: ignore[arg-type]
    assert (
        automerge_refusal(AutomergeConfig(enabled=True, max_risk="high"), **{**ok, "approved": True, "risk": "high"})
        is None
    )  # type: ignore[arg-type]


def test_pr_states_read_for_people() -> None:
    state = PullState(1, 2, "evolve/x", "abc", "retrying", 1, 1, "CI failed", False)
    assert state.describe() == "retrying 2/3" and not state.done
    assert PullState(1, 2, "", "", "stopped", 3, 2, "why", False).describe() == "stopped: why"
    assert PullState(1, 2, "", "", "merged", 1, 0, "", True).describe() == "merged by Evolve"
    assert PullState(1, 2, "", "", "waiting", 1, 0, "", False).describe() == "waiting for CI"


def test_a_check_that_passed_and_failed_on_one_commit_is_flaky() -> None:
    from bot.outcomes.ci_verdict import flaky

    red = ci("tests", "failure")
    stop = flaky([red], {"tests": ["success", "failure"]})
    assert stop is not None and stop.label == "evolve:ci-flaky" and "flaky" in stop.reason
    assert flaky([red], {"tests": ["failure", "failure"]}) is None
    assert flaky([red], {}) is None
