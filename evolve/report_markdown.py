"""The PR body / report.md: metrics before → after, gate results, each codemod's rationale, attempts."""

from __future__ import annotations

from collections.abc import Sequence
from importlib import resources
from string import Template
from typing import Any

from evolve.plan import Plan
from evolve.results import GateResult, Metric

STATUS_ICON = {"passed": "✅", "failed": "❌", "skipped": "⏭️", "errored": "⚠️"}


def format_number(value: float | None, unit: str = "") -> str:
    """Numbers for tables: integers plain, others with two decimals; missing as an em dash."""
    if value is None:
        return "—"
    text = str(int(value)) if float(value).is_integer() else f"{value:.2f}"
    return f"{text}{unit}"


def metric_trend(metric: Metric) -> str:
    """A word for the direction of change."""
    if metric.improved:
        return "improved"
    if metric.regressed:
        return "worse"
    return "unchanged" if metric.delta == 0 else "—"


def render_metrics_table(metrics: Sequence[Metric]) -> str:
    """A markdown table of metrics, base → head."""
    if not metrics:
        return "_No metrics were measured._"
    lines = ["| metric | base | head | change |", "|---|---:|---:|---|"]
    for metric in metrics:
        delta = metric.delta
        change = "—" if delta is None else f"{'+' if delta > 0 else ''}{format_number(delta)} ({metric_trend(metric)})"
        lines.append(
            f"| {metric.name} | {format_number(metric.base, metric.unit)} | {format_number(metric.head, metric.unit)} | {change} |"
        )
    return "\n".join(lines)


def render_gates_table(results: Sequence[GateResult]) -> str:
    """A markdown table of the final attempt's gate results."""
    if not results:
        return "_No gates ran._"
    lines = ["| gate | result | summary |", "|---|---|---|"]
    for result in results:
        summary = result.summary.replace("|", "\\|").replace("\n", " ")
        lines.append(f"| `{result.gate}` | {STATUS_ICON.get(result.status, '')} {result.status} | {summary} |")
    return "\n".join(lines)


def render_changes(plan: Plan, codemods: Sequence[dict[str, Any]], change_counts: dict[str, int]) -> str:
    """Each codemod applied with its rationale and review guidance; LLM tasks listed by symbol."""
    sections: list[str] = []
    for meta in codemods:
        count = change_counts.get(meta["id"], 0)
        refs = ", ".join(f"[{i + 1}]({ref})" for i, ref in enumerate(meta.get("references", ())))
        sections.append(
            f"**{meta['title']}** (`{meta['id']}`, risk: {meta['risk']}, {count} change{'s' if count != 1 else ''})  \n"
            f"{meta['rationale']}  \n_Review guidance:_ {meta['review_guidance']}"
            + (f"  \n_References:_ {refs}" if refs else "")
        )
    llm_tasks = [task for task in plan.tasks if task.kind != "codemod"]
    if llm_tasks:
        items = "\n".join(
            f"- {task.kind}: `{task.path}`" + (f" `{task.symbol}`" if task.symbol else "") for task in llm_tasks
        )
        sections.append(f"**Edits proposed by Claude and applied with LibCST**\n\n{items}")
    return "\n\n".join(sections) if sections else "_No edits._"


def render_attempts(attempts: Sequence[dict[str, Any]]) -> str:
    """One line per attempt: files, gate outcome, how it was narrowed."""
    if not attempts:
        return "_No attempt was made._"
    lines = []
    for attempt in attempts:
        failed = [g["gate"] for g in attempt["gates"] if g["status"] in ("failed", "errored")]
        outcome = (
            "passed every gate"
            if attempt["passed"]
            else ("failed: " + ", ".join(failed) if failed else "made no edits")
        )
        line = f"{attempt['number']}. {len(attempt['edits'])} file(s) — {outcome}"
        if attempt.get("note"):
            line += f"; {attempt['note']}"
        lines.append(line)
    return "\n".join(lines)


def render_llm_section(llm: dict[str, Any]) -> str:
    """Token use, estimated cost and fallbacks of the LLM stage, when it ran."""
    if not llm:
        return ""
    usage = llm.get("usage", llm)
    parts = [
        f"- models: {', '.join(usage.get('models', [])) or '—'}",
        f"- tokens: {usage.get('input_tokens', 0)} in / {usage.get('output_tokens', 0)} out",
        f"- estimated cost: ${usage.get('estimated_cost_usd', 0):.4f}",
    ]
    for fallback in usage.get("fallbacks", []) or []:
        parts.append(f"- fallback: {fallback}")
    for note in [*llm.get("notes", []), *(usage.get("notes", []) or [])]:
        parts.append(f"- {note}")
    return "### LLM stage\n\n" + "\n".join(parts) + "\n\n"


def render_report_markdown(
    report: dict[str, Any], plan: Plan, final_gates: Sequence[GateResult], metrics: Sequence[Metric]
) -> str:
    """Fill the PR body template from a report document (`RunReport.to_dict()`)."""
    template = Template(resources.files("evolve").joinpath("templates/pr_body.md").read_text(encoding="utf-8"))
    change_counts: dict[str, int] = {}
    if report["attempts"]:
        for edit in report["attempts"][-1]["edits"]:
            for change in edit["changes"]:
                change_counts[change["codemod"]] = change_counts.get(change["codemod"], 0) + 1
    files = len(report["attempts"][-1]["edits"]) if report["attempts"] else 0
    resolved = len(report["resolved_findings"])
    summary = (
        f"{report['message']} This PR changes {files} file(s) and resolves {resolved} finding(s); "
        f"theme `{plan.theme}`, attempt {len(report['attempts'])} of at most 3."
    )
    return template.substitute(
        title=plan.title or plan.theme,
        summary=summary,
        metrics_table=render_metrics_table(metrics),
        gates_table=render_gates_table(final_gates),
        changes=render_changes(plan, report["codemods"], change_counts),
        llm_section=render_llm_section(report.get("llm") or {}),
        attempts=render_attempts(report["attempts"]),
        run_id=report["run_id"],
        base_sha=(report["base_sha"] or "")[:12],
    )
