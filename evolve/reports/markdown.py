"""The PR body / report.md of a run: a change's own story when it passed, what was tried when it failed.

Bodies are capped under GitHub's 65,536-character limit: sections summarise and the whole is cut last.
"""

from __future__ import annotations

from collections.abc import Sequence
from importlib import resources
from string import Template
from typing import Any

from evolve.environments.report import render_environment_section
from evolve.plan.tasks import Plan
from evolve.project_rules.sources import render_rules_section
from evolve.reports.mutation_section import render_mutation_section
from evolve.reports.sections import (
    describe,
    executed_sentence,
    render_attempts,
    render_changed_code,
    render_failures,
    render_file_changes,
    render_gates_table,
    render_llm_section,
    render_metrics_table,
    render_tests,
    risk_label,
)
from evolve.results import GateResult, Metric
from evolve.untrusted_text import cap_text, code_span

GITHUB_BODY_LIMIT = 65_536
BODY_LIMIT = 60_000  # room for what the bot adds around the body


def _template(name: str) -> Template:
    return Template(resources.files("evolve.reports").joinpath(f"templates/{name}").read_text(encoding="utf-8"))


def _final_proof(report: dict[str, Any]) -> dict[str, Any]:
    return (report["attempts"][-1].get("proof") or {}) if report["attempts"] else {}


def _summary(report: dict[str, Any], plan: Plan, proof: dict[str, Any]) -> str:
    edits = report["attempts"][-1]["edits"] if report["attempts"] else []
    kept = [h for h in proof.get("hunks") or [] if h["verdict"] != "dropped"]
    lines = sum(h["changed_lines"] for h in kept) or sum(e.get("changed_lines", 0) for e in edits)
    ids = ", ".join(code_span(meta["id"]) for meta in report["codemods"]) or "the LLM stage"
    source = edits[0]["source"] if edits else "codemods"
    dropped = len([h for h in proof.get("hunks") or [] if h["verdict"] == "dropped"])
    text = (
        f"This PR changes {len(edits)} file(s) ({lines} changed lines) with {ids}; theme {code_span(plan.theme)}, "
        f"resolving {len(report['resolved_findings'])} finding(s). Risk: **{risk_label(report['codemods'], proof, source)}**. "
        f"{executed_sentence(proof)}"
    )
    if dropped:
        text += (
            f" {dropped} further change(s) were left out because no test runs them and nothing proves them equivalent."
        )
    return text


def render_report_markdown(
    report: dict[str, Any],
    plan: Plan,
    final_gates: Sequence[GateResult],
    metrics: Sequence[Metric],
    max_attempts: int = 3,
) -> str:
    """The body for a report document (`RunReport.to_dict()`): the success template only when a commit exists."""
    proof = _final_proof(report)
    if report["status"] != "succeeded" or not report.get("commit"):
        return render_failure_markdown(report, plan, final_gates)
    body = _template("pr_body.md").substitute(
        title=plan.title or plan.theme,
        summary=_summary(report, plan, proof),
        changes=render_file_changes(proof, report["codemods"]),
        tests=render_tests(report.get("tests") or {}, proof),
        changed_code=render_changed_code(report.get("changed_code") or []),
        metrics_table=render_metrics_table(metrics),
        gates_table=render_gates_table(final_gates),
        mutation_section=render_mutation_section(final_gates),
        llm_section=render_llm_section(report.get("llm") or {}),
        rules_section=render_rules_section(report.get("rules") or ()),
        environment_section=render_environment_section(report.get("environment")),
        attempts=render_attempts(report["attempts"]),
        attempt=len(report["attempts"]),
        max_attempts=max_attempts,
        run_id=report["run_id"],
        base_sha=(report["base_sha"] or "")[:12],
    )
    return cap_text(body, BODY_LIMIT)


def _tried(report: dict[str, Any]) -> str:
    lines = []
    for attempt in report["attempts"][:5]:
        changes = [c for edit in attempt["edits"] for c in edit["changes"]]
        files = ", ".join(code_span(edit["path"]) for edit in attempt["edits"][:15])
        more = f" and {len(attempt['edits']) - 15} more" if len(attempt["edits"]) > 15 else ""
        sample = "; ".join(describe(c["description"]) for c in changes[:5])
        lines.append(
            f"- attempt {attempt['number']}: {len(attempt['edits'])} file(s) ({files}{more})"
            + (f" — e.g. {sample}" if sample else "")
        )
    return "\n".join(lines) or "_Nothing: the plan produced no edits._"


def render_failure_markdown(report: dict[str, Any], plan: Plan, final_gates: Sequence[GateResult]) -> str:
    """What was tried, what failed and what happens next — never the text of a PR to merge."""
    theme = code_span(plan.theme or "—")
    heading = (
        f"Evolve left {theme} alone: no change it could prove"
        if report["status"] == "nothing-to-do"
        else f"Evolve could not make a change for {theme} pass its gates"
    )
    body = _template("report_failed.md").substitute(
        heading=heading,
        message=describe(report.get("message") or "", limit=2000),
        tried=_tried(report),
        failures=render_failures(final_gates),
        gates_table=render_gates_table(final_gates),
        llm_section=render_llm_section(report.get("llm") or {}),
        rules_section=render_rules_section(report.get("rules") or ()),
        environment_section=render_environment_section(report.get("environment")),
        attempts=render_attempts(report["attempts"]),
        run_id=report["run_id"],
        base_sha=(report["base_sha"] or "")[:12],
    )
    return cap_text(body, BODY_LIMIT)
