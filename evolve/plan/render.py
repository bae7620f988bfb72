"""Plans for people: a plain-text table for the terminal, markdown with a Mermaid diagram for GitHub."""

from __future__ import annotations

import re
from collections import defaultdict

from evolve.plan.gaps_render import render_gaps_markdown, render_gaps_text
from evolve.plan.tasks import Plan
from evolve.untrusted_text import code_span, escape_markdown
from evolve.wording import plural


def _task_label(task_kind: str, codemod: str | None, symbol: str | None) -> str:
    if task_kind == "codemod":
        return codemod or "codemod"
    return f"{task_kind}: {symbol or '(module)'}"


def _suite_lines(plan: Plan) -> list[str]:
    """What base's suites showed, and the failing tests the plan fixes (plain text)."""
    lines = []
    if plan.base_suites:
        lines += ["Base's test suite:", *(f"  {line}" for line in plan.base_suites)]
    if plan.test_gaps is not None:
        lines += render_gaps_text(plan.test_gaps)
    if plan.red_tests:
        lines.append(f"This plan fixes {plural(len(plan.red_tests), 'failing test')}: " + ", ".join(plan.red_tests))
    return lines


def render_plan_table(plan: Plan) -> str:
    """A fixed-width table of the plan's tasks, after what base's suites showed."""
    suites = "".join(f"{line}\n" for line in _suite_lines(plan))
    if plan.empty:
        return suites + "Nothing to do: " + ("; ".join(plan.notes) or "no actionable findings") + "\n"
    return suites + _task_table(plan)


def _task_table(plan: Plan) -> str:
    rows = [("#", "task", "file", "findings", "priority", "~lines")]
    for number, task in enumerate(plan.tasks, 1):
        rows.append(
            (
                str(number),
                _task_label(task.kind, task.codemod, task.symbol),
                task.path,
                str(len(task.finding_ids)),
                f"{task.priority:.2f}",
                str(task.estimated_lines),
            )
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = [f"Plan: {plan.theme} — {plan.title} (score {plan.score:.2f}, {_count(len(plan.files), 'file')})"]
    for index, row in enumerate(rows):
        lines.append("  ".join(cell.ljust(widths[i]) for i, cell in enumerate(row)).rstrip())
        if index == 0:
            lines.append("  ".join("-" * w for w in widths))
    if plan.dropped:
        lines.append(f"({plan.dropped} more tasks left for later by the size limits)")
    if plan.alternatives:
        lines.append("Other themes: " + ", ".join(f"{t} ({s:.2f})" for t, s in plan.alternatives))
    lines += [f"Note: {note}" for note in plan.notes]
    return "\n".join(lines) + "\n"


def _node_id(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_]", "_", text)


def _mermaid_text(text: str) -> str:
    # File names come from the repository: nothing in a label may end the label or the ``` fence.
    text = " ".join(text.split())
    return text.replace('"', "'").replace("`", "'").replace("<", "‹").replace(">", "›").replace("#", "♯")


def _table_code(text: str) -> str:
    """A code span that also survives a GFM table cell (`|` would end the cell)."""
    return code_span(text).replace("|", "\\|")


def render_plan_mermaid(plan: Plan) -> str:
    """A Mermaid flowchart: theme → tasks → files."""
    lines = ["flowchart LR", f'  theme["{_mermaid_text(plan.theme)}: {_mermaid_text(plan.title)}"]']
    by_label: dict[str, list[str]] = defaultdict(list)
    for task in plan.tasks:
        by_label[_task_label(task.kind, task.codemod, task.symbol)].append(task.path)
    for label, paths in sorted(by_label.items()):
        node = "t_" + _node_id(label)
        lines.append(f'  theme --> {node}["{_mermaid_text(label)}"]')
        for path in sorted(set(paths)):
            lines.append(f'  {node} --> f_{_node_id(path)}["{_mermaid_text(path)}"]')
    return "\n".join(lines)


def _suite_markdown(plan: Plan) -> str:
    gaps = render_gaps_markdown(plan.test_gaps) + "\n" if plan.test_gaps is not None else ""
    if not plan.base_suites and not plan.red_tests:
        return gaps
    lines = [gaps + "**Base's test suite:**", ""] if gaps else ["**Base's test suite:**", ""]
    lines += [f"- {escape_markdown(line.strip())}" for line in plan.base_suites]
    if plan.red_tests:
        fixed = ", ".join(code_span(test) for test in plan.red_tests)
        lines += ["", f"This plan fixes {plural(len(plan.red_tests), 'failing test')}: {fixed}."]
    return "\n".join(lines) + "\n\n"


def render_plan_markdown(plan: Plan) -> str:
    """Markdown for an issue comment or a report: what base's suites showed, summary, Mermaid diagram, tasks."""
    suites = _suite_markdown(plan)
    if plan.empty:
        notes = "; ".join(escape_markdown(note) for note in plan.notes)
        return suites + "**Evolve plan:** nothing to do — " + (notes or "no actionable findings") + ".\n"
    return suites + _task_markdown(plan)


def _task_markdown(plan: Plan) -> str:
    lines = [
        f"### Evolve plan: {plan.title}",
        "",
        f"Theme `{plan.theme}`, {_count(len(plan.tasks), 'task')} over {_count(len(plan.files), 'file')} "
        f"(score {plan.score:.2f}).",
        "",
        "```mermaid",
        render_plan_mermaid(plan),
        "```",
        "",
        "| # | task | file | findings | priority |",
        "|---|------|------|----------|----------|",
    ]
    for number, task in enumerate(plan.tasks, 1):
        label = _task_label(task.kind, task.codemod, task.symbol)
        lines.append(
            f"| {number} | {_table_code(label)} | {_table_code(task.path)} | {len(task.finding_ids)} | "
            f"{task.priority:.2f} |"
        )
    if plan.dropped:
        lines += ["", f"{plan.dropped} more tasks wait for a later PR (size limits)."]
    if plan.alternatives:
        lines += ["", "Other themes: " + ", ".join(f"`{t}` ({s:.2f})" for t, s in plan.alternatives) + "."]
    return "\n".join(lines) + "\n"


def _count(number: int, noun: str) -> str:
    """`1 file`, `2 files`."""
    return f"{number} {noun}{'' if number == 1 else 's'}"
