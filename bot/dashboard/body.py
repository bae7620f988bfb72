"""Render a `DashboardView` as the issue body plus history pages, each under GitHub's body limit (pure)."""

from __future__ import annotations

import re

from bot.dashboard.checkboxes import box
from bot.dashboard.view import DashboardPages, DashboardView, MetricTrend, PlannedTheme, PullLine, RunLine
from bot.templates import Markdown, cell, code, render
from evolve.plan.gaps_render import render_gaps_markdown
from evolve.untrusted_text import redacted

BODY_LIMIT = 65_536  # GitHub's limit on an issue or comment body, in characters
SAFE_BODY = 60_000  # what we aim for, leaving room for GitHub's own counting
PULLS_IN_BODY = 20  # the newest closed PRs shown in the body; older ones go to history pages
OPEN_PULLS_IN_BODY = 50
ROWS_PER_PAGE = 250  # a history row is at most ~220 characters: a page stays far under the limit
MERMAID_LABEL = re.compile(r"[^A-Za-z0-9 _.\-]")


def _mermaid_text(text: str, limit: int = 40) -> str:
    """Text safe inside a quoted Mermaid label or title: letters, digits, spaces, `_.-` only."""
    return MERMAID_LABEL.sub("", redacted(text))[:limit] or "-"


def plan_graph(plan: tuple[PlannedTheme, ...]) -> str:
    """The plan as a Mermaid flowchart: the chosen theme first, the alternatives after, skipped ones greyed."""
    if not plan:
        return ""
    lines = ["```mermaid", "flowchart LR", '  plan(["next run"])']
    for index, item in enumerate(plan):
        label = f"{_mermaid_text(item.theme)} {item.score:.2f}" + (" skipped" if item.skipped else "")
        lines.append(f'  plan --> t{index}["{label}"]')
        if item.skipped:
            lines.append(f"  class t{index} skipped")
        elif item.chosen:
            lines.append(f"  class t{index} chosen")
    lines += ["  classDef skipped fill:#eee,color:#999,stroke-dasharray:4", "  classDef chosen stroke-width:3px", "```"]
    return "\n".join(lines)


def trend_chart(trend: MetricTrend) -> str:
    """One metric over the latest runs as a Mermaid `xychart-beta` line chart."""
    labels = ", ".join(f'"{_mermaid_text(label, 12)}"' for label, _ in trend.points)
    values = ", ".join(f"{value:.2f}" for _, value in trend.points)
    low = min(value for _, value in trend.points)
    high = max(value for _, value in trend.points)
    span = (high - low) or max(abs(high), 1.0)
    bottom, top = low - span * 0.1, high + span * 0.1
    return "\n".join(
        [
            "```mermaid",
            "xychart-beta",
            f'  title "{_mermaid_text(trend.name, 60)}"',
            f"  x-axis [{labels}]",
            f'  y-axis "{_mermaid_text(trend.name, 30)}" {bottom:.2f} --> {top:.2f}',
            f"  line [{values}]",
            "```",
        ]
    )


def _theme_label(item: PlannedTheme) -> str:
    return f"run **{cell(item.theme, 128)}** next (score {item.score:.2f}{', planned' if item.chosen else ''})"


def _plan_boxes(plan: tuple[PlannedTheme, ...]) -> str:
    if not plan:
        return "No plan yet: the next run researches the repository and plans."
    lines = []
    for item in plan:
        lines.append(box("run-next", item.theme, False, _theme_label(item)))
        lines.append("  " + box("skip", item.theme, item.skipped, f"skip **{cell(item.theme, 128)}** (never plan it)"))
    return "\n".join(lines)


def _run_row(run: RunLine) -> str:
    return f"| {run.run_id} | {cell(run.trigger)} | {cell(run.status)} | {cell(run.theme, 128)} |"


def _queued(queued: tuple[RunLine, ...]) -> str:
    if not queued:
        return "Nothing queued."
    return "\n".join(["| run | trigger | status | theme |", "|---|---|---|---|", *(_run_row(r) for r in queued)])


def _failed(failed: tuple[RunLine, ...]) -> str:
    if not failed:
        return "No failed runs."
    return "\n".join(
        box(
            "retry",
            str(r.run_id),
            False,
            f"retry run {r.run_id} ({cell(r.theme or 'any theme', 128)}): {cell(r.message, 300)}",
        )
        for r in failed
    )


def _pull_row(pull: PullLine) -> str:
    return f"| #{pull.number} | {cell(pull.outcome)} | {cell(pull.when)} | {cell(pull.title, 150)} |"


def _pull_table(pulls: tuple[PullLine, ...], empty: str) -> str:
    if not pulls:
        return empty
    return "\n".join(["| PR | outcome | date | title |", "|---|---|---|---|", *(_pull_row(p) for p in pulls)])


def _outcome_summary(pulls: tuple[PullLine, ...]) -> str:
    merged = sum(1 for p in pulls if p.outcome == "merged")
    return f"{len(pulls)} closed pull requests in all: {merged} merged, {len(pulls) - merged} closed unmerged."


def history_pages(older: tuple[PullLine, ...]) -> tuple[str, ...]:
    """The closed PRs that do not fit the body, as comment bodies of ROWS_PER_PAGE rows each."""
    chunks = [older[i : i + ROWS_PER_PAGE] for i in range(0, len(older), ROWS_PER_PAGE)]
    return tuple(
        render("dashboard_page", page=n, pages=len(chunks), rows=Markdown("\n".join(_pull_row(p) for p in chunk)))
        for n, chunk in enumerate(chunks, 1)
    )


def _history_links(view: DashboardView, page_urls: tuple[str, ...]) -> str:
    if len(view.closed_pulls) <= PULLS_IN_BODY:
        return _outcome_summary(view.closed_pulls) if view.closed_pulls else ""
    links = ", ".join(f"[page {n}]({url})" for n, url in enumerate(page_urls, 1))
    older = len(view.closed_pulls) - PULLS_IN_BODY
    where = (
        f"the older {older} are in the history comments below: {links}."
        if links
        else f"{older} older ones are in the history comments below."
    )
    return f"{_outcome_summary(view.closed_pulls)} The newest {PULLS_IN_BODY} are above; {where}"


def _acceptance(view: DashboardView) -> str:
    if not view.acceptance:
        return "Nothing learned yet: acceptance starts when a reviewer merges or closes an Evolve PR."
    rows = [
        f"| {cell(a.codemod)} | {a.proposed} | {a.merged} | {a.closed} | {a.acceptance:.2f} |" for a in view.acceptance
    ]
    return "\n".join(["| codemod | proposed | merged | closed | acceptance |", "|---|---|---|---|---|", *rows])


def _limits(view: DashboardView) -> str:
    rows = [f"| {code(name)} | {cell(value)} |" for name, value in view.limits]
    table = "\n".join(["| setting | in force |", "|---|---|", *rows]) if rows else ""
    note = (
        f"\n\nThe configuration file is invalid, so the defaults apply: {cell(view.config_note, 1000)}"
        if view.config_note
        else ""
    )
    return table + note


TEST_GAPS_LISTED = 15  # survivors in the body; the status pages list the rest


def _test_gaps(view: DashboardView) -> str:
    """The newest mutation sample's summary and survivors, and its score over runs."""
    if view.test_gaps is None:
        return (
            "No test-gap sample yet: the App samples mutants of the most important tested functions when its "
            "operator turns test gaps on (`research.test_gaps` configures the sample)."
        )
    heading = f"Run {view.test_gaps_run}:" if view.test_gaps_run is not None else "Latest run:"
    text = render_gaps_markdown(view.test_gaps, TEST_GAPS_LISTED, heading=heading).rstrip("\n")
    if view.test_gap_trend is not None:
        text += "\n\n" + trend_chart(view.test_gap_trend)
    return text


def render_dashboard(view: DashboardView, page_urls: tuple[str, ...] = ()) -> DashboardPages:
    """The dashboard body and its history pages; the body is cut down further if it still exceeds SAFE_BODY."""
    older = view.closed_pulls[PULLS_IN_BODY:]
    pages = history_pages(older)
    open_pulls = view.open_pulls[:OPEN_PULLS_IN_BODY]
    open_note = (
        f"\n\n{len(view.open_pulls) - OPEN_PULLS_IN_BODY} more open."
        if len(view.open_pulls) > OPEN_PULLS_IN_BODY
        else ""
    )
    pause_label = "Pause Evolve on this repository (untick to resume)"
    body = render(
        "dashboard",
        pause_box=Markdown(box("pause", "repository", view.paused, pause_label)),
        plan_graph=Markdown(plan_graph(view.plan)),
        plan_boxes=Markdown(_plan_boxes(view.plan)),
        queued=Markdown(_queued(view.queued)),
        failed=Markdown(_failed(view.failed)),
        open_pulls=Markdown(_pull_table(open_pulls, "None.") + open_note),
        closed_pulls=Markdown(_pull_table(view.closed_pulls[:PULLS_IN_BODY], "None yet.")),
        history_links=Markdown(_history_links(view, page_urls)),
        trends=Markdown("\n\n".join(trend_chart(t) for t in view.trends if t.points) or "No metrics recorded yet."),
        test_gaps=Markdown(_test_gaps(view)),
        acceptance=Markdown(_acceptance(view)),
        limits=Markdown(_limits(view)),
    )
    if len(body) > SAFE_BODY:  # many failed runs or learned codemods: keep the controls, drop the tail
        cut = body[:SAFE_BODY].rsplit("\n", 1)[0]
        body = Markdown(cut + "\n\n…the rest did not fit in one issue body; see the status pages.\n")
    return DashboardPages(body=body, pages=pages)
