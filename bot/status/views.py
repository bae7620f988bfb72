"""What the status pages show, computed from stored records without I/O: chart series, weekly PR outcomes,
a run's timeline and its gate results (from the report document the run stored)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from bot.db.status_queries import MetricPoint, PullRecord, RunRecord
from bot.status.svg_charts import Bar, Point, Series
from evolve.changed_lines import ChangedLines, executed_sentence
from evolve.plan.gaps_render import gaps_summary, survivor_change
from evolve.plan.tasks import TEST_GAPS_METRIC, TestGaps
from evolve.wording import plural

# Each chart of a repository's page and the metrics (as the engine names them) it draws.
METRIC_CHARTS: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("Complexity", "", ("average complexity", "max complexity")),
    ("Maintainability index", "", ("average maintainability index",)),
    ("Coverage", "%", ("docstring coverage", "line coverage")),
    ("Findings", "", ("findings", "security findings")),
)
CHARTED_METRICS = tuple(name for _, _, names in METRIC_CHARTS for name in names)
OUTCOMES = ("merged", "closed", "open")


@dataclass(frozen=True)
class MetricChart:
    """One chart: its title, unit and a series per metric."""

    title: str
    unit: str
    series: tuple[Series, ...]


@dataclass(frozen=True)
class TimelineEntry:
    """One moment of a run: what happened, when (None when not recorded) and a detail line."""

    label: str
    at: datetime | None
    detail: str = ""
    state: str = ""  # passed | failed | "" (a CSS class)


@dataclass(frozen=True)
class GateLine:
    """One gate's verdict in one attempt."""

    attempt: int
    gate: str
    status: str
    summary: str


def metric_charts(points: Sequence[MetricPoint]) -> tuple[MetricChart, ...]:
    """The repository's metric charts: each metric's value on the default branch (the run's base) per run;
    a run with no base value (a repository measured for the first time) contributes its head value."""
    by_name: dict[str, list[Point]] = defaultdict(list)
    for point in points:
        value = point.base if point.base is not None else point.head
        if value is not None:
            by_name[point.name].append(Point(point.at, float(value), f"run {point.run_id}"))
    return tuple(
        MetricChart(title, unit, tuple(Series(name, tuple(by_name[name])) for name in names if by_name[name]))
        for title, unit, names in METRIC_CHARTS
    )


@dataclass(frozen=True)
class GapRow:
    """One surviving mutant of the test-gap sample, for the repository page's table."""

    location: str
    function: str
    change: str


@dataclass(frozen=True)
class TestGapsView:
    """The newest test-gap sample: the run that took it, its summary sentence and its survivors."""

    __test__ = False

    run_id: int
    summary: str
    survivors: tuple[GapRow, ...]


def test_gap_series(points: Sequence[MetricPoint]) -> tuple[Series, ...]:
    """The test-gap sample's score per run (research measures base: the stored base value)."""
    drawn = tuple(
        Point(p.at, float(p.base), f"run {p.run_id}")
        for p in points
        if p.name == TEST_GAPS_METRIC and p.base is not None
    )
    return (Series(TEST_GAPS_METRIC, drawn),)


def test_gaps_view(latest: tuple[int, dict[str, Any]] | None) -> TestGapsView | None:
    """The newest sample as the repository page shows it (None: no run took one)."""
    gaps = TestGaps.from_dict(latest[1]) if latest is not None else None
    if latest is None or gaps is None:
        return None
    rows = tuple(GapRow(s.location, s.function, survivor_change(s)) for s in gaps.survivors)
    return TestGapsView(latest[0], gaps_summary(gaps), rows)


def week_start(moment: datetime) -> datetime:
    """Monday 00:00 of the week of `moment` (same timezone)."""
    day = moment - timedelta(days=moment.weekday())
    return day.replace(hour=0, minute=0, second=0, microsecond=0)


def pull_outcome_bars(pulls: Sequence[PullRecord], now: datetime, weeks: int = 12) -> tuple[Bar, ...]:
    """PRs opened per week over the last `weeks` weeks (oldest first), split into merged, closed and still open."""
    newest = week_start(now)
    starts = [newest - timedelta(weeks=n) for n in range(weeks - 1, -1, -1)]
    counts: dict[datetime, dict[str, int]] = {start: dict.fromkeys(OUTCOMES, 0) for start in starts}
    for pull in pulls:
        start = week_start(pull.opened_at)
        if start in counts:
            counts[start][pull.outcome or "open"] += 1
    return tuple(
        Bar(f"{start:%m-%d}", tuple((outcome, counts[start][outcome]) for outcome in OUTCOMES)) for start in starts
    )


def outcome_totals(pulls: Sequence[PullRecord]) -> tuple[tuple[str, int], ...]:
    """How many of the PRs were merged, closed and are still open."""
    totals = dict.fromkeys(OUTCOMES, 0)
    for pull in pulls:
        totals[pull.outcome or "open"] += 1
    return tuple(totals.items())


def _attempts(report: dict[str, Any]) -> list[dict[str, Any]]:
    attempts = report.get("attempts")
    return [a for a in attempts if isinstance(a, dict)] if isinstance(attempts, list) else []


def attempt_changed_lines(attempt: dict[str, Any]) -> ChangedLines | None:
    """The attempt's changed lines the tests execute, as its report recorded them (the PR's figure)."""
    proof = attempt.get("proof")
    raw = proof.get("changed_lines") if isinstance(proof, dict) else None
    if not isinstance(raw, dict):
        return None
    try:
        return ChangedLines(
            int(raw["executed"]), int(raw["executable"]), bool(raw["measured"]), (), int(raw.get("unmeasured", 0))
        )
    except (KeyError, TypeError, ValueError):
        return None


def gate_lines(report: dict[str, Any]) -> tuple[GateLine, ...]:
    """Every gate verdict of every attempt, as the report recorded them."""
    lines = []
    for attempt in _attempts(report):
        for gate in attempt.get("gates") or []:
            if isinstance(gate, dict):
                lines.append(
                    GateLine(
                        int(attempt.get("number") or 0),
                        str(gate.get("gate", "")),
                        str(gate.get("status", "")),
                        str(gate.get("summary", "")),
                    )
                )
    return tuple(lines)


def timeline(record: RunRecord) -> tuple[TimelineEntry, ...]:
    """A run from queueing to its outcome: created, started, each attempt, finished, and its PR's fate."""
    run = record.run
    report = record.report
    requested = f"{run.trigger}" + (f" by @{record.requested_by}" if record.requested_by else "")
    entries = [TimelineEntry("queued", run.created_at, requested)]
    if run.started_at is not None:
        tries = f"worker try {record.tries}" if record.tries > 1 else ""
        entries.append(TimelineEntry("started", run.started_at, tries))
    plan = report.get("plan")
    if isinstance(plan, dict) and plan.get("theme"):
        entries.append(TimelineEntry("planned", None, f"{plan.get('theme')}: {plan.get('title') or ''}".strip(": ")))
    for attempt in _attempts(report):
        gates = [g for g in attempt.get("gates") or [] if isinstance(g, dict)]
        failed = [str(g.get("gate")) for g in gates if g.get("status") in ("failed", "errored")]
        passed = bool(attempt.get("passed"))
        files = len(attempt.get("edits") or [])
        detail = f"{plural(files, 'file')}; " + (
            "every gate passed" if passed else f"failed: {', '.join(failed)}" if failed else "did not pass"
        )
        figure = attempt_changed_lines(attempt)
        if figure is not None:
            detail += "; " + executed_sentence(figure).replace("**", "")
        entries.append(
            TimelineEntry(f"attempt {attempt.get('number')}", None, detail, "passed" if passed else "failed")
        )
    if run.finished_at is not None:
        duration = report.get("duration_seconds")
        took = f" in {float(duration):.1f} s" if isinstance(duration, (int, float)) else ""
        entries.append(
            TimelineEntry(
                f"finished: {run.status}",
                run.finished_at,
                (run.message or "") + took,
                "passed" if run.status == "succeeded" else "failed" if run.status in ("failed", "error") else "",
            )
        )
    if run.pr_number is not None:
        outcome = record.pr_outcome or "open"
        entries.append(TimelineEntry(f"pull request #{run.pr_number}: {outcome}", None, "", outcome))
    return tuple(entries)


def duration_text(start: datetime | None, end: datetime | None) -> str:
    """How long between two moments, for people (e.g. "3 min 5 s"); empty when either is unknown."""
    if start is None or end is None:
        return ""
    seconds = max(0, int((end - start).total_seconds()))
    if seconds < 60:
        return f"{seconds} s"
    minutes, seconds = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes} min {seconds} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes} min"
