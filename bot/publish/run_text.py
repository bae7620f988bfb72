"""What a run from GitHub says: PR labels, the gates check run's text, and the replies to whoever asked.

Pure functions from a `RunReport` to text and values; Markdown only through `bot.templates` (which
escapes) and `evolve.untrusted_text` (for repository text such as a test runner's output).
"""

from __future__ import annotations

from typing import Any

from bot.templates import Markdown, cell, code, link_target, render
from evolve.run_status import RunStatus
from evolve.runs import RunReport
from evolve.untrusted_text import untrusted_markdown

LABEL_COLORS = {"evolve": "1d76db", "low": "c2e0c6", "medium": "fbca04", "high": "d93f0b"}
RISK_ORDER = ("low", "medium", "high")


def reply_key(run_id: int) -> str:
    """A run replies once: its outcome, its skip or its error."""
    return f"run-{run_id}"


def risk_tier(report: RunReport) -> str:
    """The highest risk among the codemods applied; LLM edits count as medium."""
    risks = [str(meta.get("risk", "low")) for meta in report.codemods]
    if report.llm.get("edits") or report.llm.get("used"):
        risks.append("medium")
    known = [r for r in risks if r in RISK_ORDER] or ["low"]
    return max(known, key=RISK_ORDER.index)


def risk_labels(report: RunReport) -> dict[str, str]:
    """The labels of a bot PR (name → colour): `evolve` and its risk tier."""
    tier = risk_tier(report)
    return {"evolve": LABEL_COLORS["evolve"], f"evolve:risk-{tier}": LABEL_COLORS[tier]}


def pr_title(report: RunReport, branch: str) -> str:
    """The PR's title: the change's own (from the edits it made), else the plan's, else one naming the branch."""
    if report.title:
        return report.title
    return report.plan.title if report.plan and report.plan.title else f"Evolve: {branch}"


def gate_rows(report: RunReport) -> tuple[bool, str]:
    """Whether the last attempt passed, and its gates as Markdown table rows."""
    if not report.attempts:
        return False, ""
    last = report.attempts[-1]
    rows = "\n".join(f"| {cell(g.gate)} | {cell(g.status)} | {cell(g.summary)} |" for g in last.gate_results)
    return last.passed, Markdown(rows)


def gates_check(report: RunReport) -> tuple[str, dict[str, Any]]:
    """The completed `evolve/gates` check run of a PR's commit: its conclusion and output."""
    passed, rows = gate_rows(report)
    verdict = "Every gate passed." if passed else "Some gates did not pass."
    return "success" if passed else "failure", {
        "title": verdict,
        "summary": render("check_gates", verdict=verdict, rows=rows),
    }


def last_gates(report: RunReport) -> str:
    """The last attempt's gates as a Markdown table with a heading, or "" when none ran."""
    _, rows = gate_rows(report)
    return render("check_gates", verdict="Gates of the last attempt:", rows=rows) if rows else ""


def reply_without_pr(report: RunReport) -> str:
    """The reply to a run that opened no PR: nothing to do, gates failed, or an error."""
    if report.status == RunStatus.NOTHING_TO_DO:
        return render("run_nothing", message=report.message)
    if report.status == RunStatus.FAILED:
        return render("run_failed", attempts=len(report.attempts), message=report.message, gates=last_gates(report))
    # The message may quote a builder's or a test runner's output (repository text): escaped, capped.
    message = untrusted_markdown(report.message, 3000) if report.message else report.status
    return render("run_error", message=message)


def reply_proposed(
    *,
    created: bool,
    retry_of: Any,
    pr_number: int,
    pr_url: str,
    title: str,
    default_branch: str,
    attempts: int,
    branch: str,
    note: str,
) -> str:
    """The reply to a run that opened or updated PR #`pr_number` (`note`: why it is on another branch)."""
    body: str  # rendered Markdown, then plain text appended
    if created and retry_of:
        body = render(
            "retry_reopened",
            pr_number=pr_number,
            pr_url=link_target(pr_url),
            title=title,
            branch=code(default_branch),
        )
    else:
        body = render(
            "run_succeeded",
            action="opened" if created else "updated",
            pr_number=pr_number,
            title=title,
            attempts=attempts,
        )
    if note:  # names a person from git metadata: untrusted text
        body += f"\n\n{untrusted_markdown(note)}; the change is on `{branch}` instead."
    return body
