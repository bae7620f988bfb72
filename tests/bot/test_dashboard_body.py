"""The dashboard's pure parts: box parsing, rendering, Mermaid safety and the body limit (no I/O)."""

from __future__ import annotations

import re

from bot.dashboard.body import BODY_LIMIT, plan_graph, render_dashboard, trend_chart
from bot.dashboard.checkboxes import MARKER, read_requests
from bot.dashboard.view import DashboardView, MetricTrend, PlannedTheme, PullLine, RunLine


def _view(**fields: object) -> DashboardView:
    values: dict[str, object] = {
        "full_name": "o/r",
        "paused": False,
        "plan": (PlannedTheme("modernize", 0.8, chosen=True), PlannedTheme("docstrings", 0.4, skipped=True)),
        "failed": (RunLine(7, "comment", "failed", "docstrings", "gates failed"),),
    }
    values.update(fields)
    return DashboardView(**values)  # type: ignore[arg-type]


def test_rendered_boxes_read_back_as_the_state() -> None:
    body = render_dashboard(_view(paused=True)).body
    requests = read_requests(body)
    assert requests.run_next == () and requests.retry == ()  # action boxes are drawn unticked
    assert requests.skipped == {"docstrings"} and requests.shown_skip_boxes == {"modernize", "docstrings"}
    assert requests.paused is True


def test_ticks_are_read_and_bodies_without_the_marker_ask_nothing() -> None:
    body = render_dashboard(_view()).body
    ticked = body.replace("- [ ] <!-- evolve:run-next:modernize -->", "- [X] <!-- evolve:run-next:modernize -->")
    ticked = ticked.replace("- [ ] <!-- evolve:retry:7 -->", "- [x] <!-- evolve:retry:7 -->")
    requests = read_requests(ticked)
    assert requests.run_next == ("modernize",) and requests.retry == (7,) and requests.paused is False
    assert read_requests(ticked.replace(MARKER, "")).run_next == ()
    assert read_requests("- [x] <!-- evolve:retry:abc -->\n" + MARKER).retry == ()


def test_untrusted_titles_are_escaped_and_mermaid_labels_cannot_break_out() -> None:
    hostile = 'x"]\n  click t0 "https://evil.example" <img src=x> @everyone ghp_' + "a" * 36
    view = _view(
        open_pulls=(PullLine(3, "<script>alert(1)</script> @alice #1", "open"),),
        plan=(PlannedTheme(hostile, 0.5),),
        trends=(MetricTrend(hostile, (("run 1", 1.0), ("run 2", 2.0))),),
    )
    body = render_dashboard(view).body
    assert "<script>" not in body and "@alice" not in body.replace("@\u200balice", "")
    graph, chart = plan_graph(view.plan), trend_chart(view.trends[0])
    # Every line has one of the shapes the renderer writes; a label is letters, digits, spaces and `_.-`.
    label = r'"[A-Za-z0-9 _.\-]*"'
    graph_line = re.compile(
        rf'  plan --> t\d+\[{label[:-1]} \d\.\d\d( skipped)?"\]|  class t\d+ (skipped|chosen)|  classDef .*|  plan\(\["next run"\]\)'
    )
    assert all(graph_line.fullmatch(line) for line in graph.splitlines()[2:-1]), graph
    chart_line = re.compile(
        rf"  title {label}|  x-axis \[{label}(, {label})*\]|  y-axis {label} -?[\d.]+ --> -?[\d.]+|  line \[[\d., ]+\]"
    )
    assert all(chart_line.fullmatch(line) for line in chart.splitlines()[2:-1]), chart
    assert "\n  click" not in graph and "https://" not in graph + chart and "ghp_" not in graph + chart


def test_body_stays_under_the_limit_with_huge_history_and_long_titles() -> None:
    closed = tuple(PullLine(n, "t" * 400, "merged" if n % 2 else "closed", "2026-01-01") for n in range(5000, 0, -1))
    failed = tuple(RunLine(n, "comment", "failed", "theme", "m" * 300) for n in range(500))
    rendered = render_dashboard(_view(closed_pulls=closed, failed=failed, open_pulls=closed[:400]))
    assert len(rendered.body) < BODY_LIMIT and MARKER in rendered.body
    assert "<!-- evolve:pause:repository -->" in rendered.body  # the controls survive the cut
    assert len(rendered.pages) == 20 and all(len(page) < BODY_LIMIT for page in rendered.pages)
    assert sum(page.count("\n| #") for page in rendered.pages) == 5000 - 20
