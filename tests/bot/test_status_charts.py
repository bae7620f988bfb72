"""The SVG charts and the page values behind them, as pure functions: exact data values, escaping, ticks,
empty charts, weekly PR outcomes and a run's timeline."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from datetime import datetime, timedelta, timezone

import pytest

from bot.db.status_queries import MetricPoint, PullRecord, RunLine, RunRecord
from bot.status import views
from bot.status.svg_charts import Bar, Point, Series, format_value, line_chart, nice_ticks, stacked_bars

T0 = datetime(2026, 11, 2, 6, 0, tzinfo=timezone.utc)  # a Monday
SVG = "{http://www.w3.org/2000/svg}"


def test_a_line_chart_carries_every_value_exactly_and_parses_as_svg():
    values = (61.0, 63.5, 66.25, 70.123456789)
    series = Series(
        "maintainability", tuple(Point(T0 + timedelta(days=7 * n), v, f"run {n}") for n, v in enumerate(values))
    )
    svg = line_chart("Maintainability", [series])
    root = ET.fromstring(svg)
    circles = root.findall(f".//{SVG}circle")
    assert [float(c.get("data-value")) for c in circles] == list(values)
    assert [c.find(f"{SVG}title").text for c in circles][1] == "maintainability, run 1, 2026-11-09 06:00: 63.5"
    ys = [float(c.get("cy")) for c in circles]
    assert ys == sorted(ys, reverse=True)  # higher values are drawn higher up


def test_labels_are_escaped():
    hostile = '<script>alert("x")</script>'
    svg = line_chart(hostile, [Series(hostile, (Point(T0, 1.0, hostile),))])
    assert "<script>" not in svg
    root = ET.fromstring(svg)
    assert root.find(f"{SVG}title").text == hostile
    bars = stacked_bars(hostile, [Bar(hostile, (("merged", 2),))], ["merged"])
    assert "<script>" not in bars and ET.fromstring(bars).get("aria-label") == hostile


def test_an_empty_chart_says_so():
    svg = line_chart("Coverage", [Series("line coverage", ())])
    assert "no measurements yet" in svg and "<circle" not in svg
    assert "nothing to count yet" in stacked_bars("PRs", [Bar("11-02", (("merged", 0),))], ["merged"])


def test_stacked_bars_stack_the_counts_of_each_bar():
    svg = stacked_bars("PRs", [Bar("11-02", (("merged", 3), ("closed", 1), ("open", 0)))], ("merged", "closed", "open"))
    segments = ET.fromstring(svg).findall(f".//{SVG}rect[@class='segment']")
    assert [(s.get("data-category"), int(s.get("data-count"))) for s in segments] == [("merged", 3), ("closed", 1)]
    merged, closed = segments
    assert float(closed.get("y")) + float(closed.get("height")) == pytest.approx(float(merged.get("y")), abs=0.11)
    assert float(merged.get("height")) == pytest.approx(3 * float(closed.get("height")), abs=0.2)


@pytest.mark.parametrize(
    ("low", "high", "ticks"),
    [(0, 7, (0, 2, 4, 6, 8)), (61.5, 88.1, (60, 70, 80, 90)), (0, 1, (0, 0.25, 0.5, 0.75, 1))],
)
def test_ticks_are_round_and_cover_the_range(low, high, ticks):
    assert nice_ticks(low, high) == ticks


def test_a_flat_range_still_gets_ticks_around_it():
    ticks = nice_ticks(5.0, 5.0)
    assert ticks[0] < 5.0 < ticks[-1]


def test_values_read_well():
    assert (format_value(66.25, "%"), format_value(70.0), format_value(-0.001)) == ("66.25%", "70", "0")


def test_metric_charts_use_the_default_branch_value_of_each_run():
    points = (
        MetricPoint(1, T0, "average complexity", None, 6.0, ""),
        MetricPoint(2, T0 + timedelta(days=1), "average complexity", 5.5, 5.0, ""),
        MetricPoint(2, T0 + timedelta(days=1), "line coverage", 80.0, 81.0, "%"),
    )
    charts = {chart.title: chart for chart in views.metric_charts(points)}
    complexity = charts["Complexity"].series
    assert [(s.name, [p.value for p in s.points]) for s in complexity] == [("average complexity", [6.0, 5.5])]
    assert charts["Coverage"].unit == "%" and charts["Findings"].series == ()


def test_pull_requests_are_counted_per_week_by_outcome():
    now = T0 + timedelta(days=15)
    pulls = (
        PullRecord(1, T0, "merged"),
        PullRecord(2, T0 + timedelta(days=1), "closed"),
        PullRecord(3, T0 + timedelta(days=8), None),
        PullRecord(4, T0 - timedelta(weeks=30), "merged"),  # older than the chart
    )
    bars = views.pull_outcome_bars(pulls, now, weeks=3)
    assert [(b.label, dict(b.counts)) for b in bars] == [
        ("11-02", {"merged": 1, "closed": 1, "open": 0}),
        ("11-09", {"merged": 0, "closed": 0, "open": 1}),
        ("11-16", {"merged": 0, "closed": 0, "open": 0}),
    ]
    assert views.outcome_totals(pulls) == (("merged", 2), ("closed", 1), ("open", 1))


def test_a_runs_timeline_goes_from_queued_to_its_pull_requests_fate():
    run = RunLine(
        7,
        1,
        "acme/widgets",
        "comment",
        "failed",
        "t",
        None,
        T0,
        T0 + timedelta(minutes=1),
        T0 + timedelta(minutes=5),
        2,
        "no change passed the gates",
    )
    report = {
        "duration_seconds": 240.0,
        "attempts": [
            {
                "number": 1,
                "passed": False,
                "edits": [{}],
                "gates": [{"gate": "tests", "status": "failed", "summary": "2 failed"}],
                "proof": {"changed_lines": {"executed": 18, "executable": 19, "measured": True, "unexecuted": []}},
            },
            {
                "number": 2,
                "passed": False,
                "edits": [],
                "gates": [{"gate": "lint", "status": "errored", "summary": "x"}],
            },
        ],
    }
    entries = views.timeline(RunRecord(run, report, (), None, 2, "alice"))
    assert [(e.label, e.detail) for e in entries] == [
        ("queued", "comment by @alice"),
        ("started", "worker try 2"),
        (
            "attempt 1",
            "1 file; failed: tests; Changed lines the tests execute: 94.7% (18 of 19 lines that need executing).",
        ),
        ("attempt 2", "0 files; failed: lint"),
        ("finished: failed", "no change passed the gates in 240.0 s"),
    ]
    assert [g.gate for g in views.gate_lines(report)] == ["tests", "lint"]
    assert views.duration_text(T0, T0 + timedelta(seconds=3725)) == "1 h 2 min"
    assert re.fullmatch(r"\d+ s", views.duration_text(T0, T0 + timedelta(seconds=5)))
