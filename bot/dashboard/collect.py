"""Gather a `DashboardView` from the store's reads (`bot.db.dashboard`: runs, outcomes, metrics, learning) and
GitHub's (open PRs, config)."""

from __future__ import annotations

from typing import Any

from bot.dashboard.view import AcceptanceLine, DashboardView, MetricTrend, PlannedTheme, PullLine, RunLine
from bot.db._scope import Db
from bot.db.dashboard import (
    closed_pulls,
    latest_plan,
    latest_test_gaps,
    metric_points,
    research_points,
    runs_in,
    skipped_themes,
)
from bot.db.pull_lifecycle import pull_states
from bot.db.repositories import get_repository
from bot.outcomes.acceptance import learning_table
from evolve.configuration.model import EvolveConfig
from evolve.plan.tasks import TEST_GAPS_METRIC, TestGaps
from evolve.run_status import RunStatus

CLOSED_PULLS = 1000  # closed PRs read back (the body shows the newest, history pages the rest)
FAILED_RUNS = 10
TREND_RUNS = 12
TREND_METRICS = ("average complexity", "average maintainability index", "docstring coverage", "line coverage")


def _plan(db: Db, repository_id: int, skipped: frozenset[str]) -> tuple[PlannedTheme, ...]:
    plan = latest_plan(db, repository_id)
    if plan is None:
        return ()
    themes: list[PlannedTheme] = []
    if plan.get("theme"):
        themes.append(
            PlannedTheme(str(plan["theme"]), float(plan.get("score") or 0), True, str(plan["theme"]) in skipped)
        )
    for alternative in plan.get("alternatives") or []:
        theme = str(alternative.get("theme") or "")
        if theme and all(t.theme != theme for t in themes):
            themes.append(PlannedTheme(theme, float(alternative.get("score") or 0), False, theme in skipped))
    return tuple(themes)


def _runs(db: Db, repository_id: int, statuses: tuple[str, ...], limit: int) -> tuple[RunLine, ...]:
    return tuple(RunLine(*row) for row in runs_in(db, repository_id, statuses, limit))


def _trends(db: Db, repository_id: int) -> tuple[MetricTrend, ...]:
    points = metric_points(db, repository_id, TREND_METRICS, TREND_RUNS)
    return tuple(
        MetricTrend(name, tuple((f"run {run_id}", value) for run_id, value in points[name]))
        for name in TREND_METRICS
        if len(points.get(name, ())) >= 2
    )


def _test_gaps(db: Db, repository_id: int) -> tuple[TestGaps | None, int | None, MetricTrend | None]:
    """The newest test-gap sample, the run that took it, and its score over the latest runs (two at least)."""
    latest = latest_test_gaps(db, repository_id)
    gaps = TestGaps.from_dict(latest[1]) if latest is not None else None
    points = research_points(db, repository_id, TEST_GAPS_METRIC, TREND_RUNS)
    trend = (
        MetricTrend(TEST_GAPS_METRIC, tuple((f"run {run_id}", v) for run_id, v in points)) if len(points) >= 2 else None
    )
    return gaps, latest[0] if latest is not None else None, trend


def _limits(config: EvolveConfig) -> tuple[tuple[str, str], ...]:
    limits, llm = config.limits, config.llm
    return (
        ("limits.max_open_prs", str(limits.max_open_prs)),
        ("limits.max_files", str(limits.max_files)),
        ("limits.max_changed_lines", str(limits.max_changed_lines)),
        ("limits.runs_per_hour", str(limits.runs_per_hour)),
        ("attempts", str(config.attempts)),
        (
            "automerge",
            f"{config.automerge.method}, risk ≤ {config.automerge.max_risk}" if config.automerge.enabled else "off",
        ),
        ("schedule", config.schedule),
        ("llm.enabled", str(llm.enabled).lower()),
        ("llm.tokens_per_run", str(llm.tokens_per_run)),
        ("llm.tokens_per_day", str(llm.tokens_per_day)),
        ("llm.cost_per_run_usd", f"{llm.cost_per_run_usd:.2f}"),
        ("llm.cost_per_day_usd", f"{llm.cost_per_day_usd:.2f}"),
    )


def collect_view(
    db: Db,
    repository_id: int,
    open_pulls: list[Any],
    config: EvolveConfig,
    config_note: str = "",
) -> DashboardView:
    """The dashboard's values; `open_pulls` are the gateway's `PullInfo`s of open Evolve PRs."""
    repo = get_repository(db, repository_id)
    skipped = skipped_themes(db, repository_id)
    states = pull_states(db, repository_id)  # waiting for CI, retrying n/3, green, stopped: why
    closed = tuple(
        PullLine(number, title, outcome, when.strftime("%Y-%m-%d") if when else "")
        for number, title, outcome, when in closed_pulls(db, repository_id, CLOSED_PULLS)
    )
    plan = _plan(db, repository_id, skipped)
    queued = _runs(db, repository_id, (RunStatus.QUEUED.value, RunStatus.RUNNING.value), 20)
    failed = _runs(db, repository_id, (RunStatus.FAILED.value, RunStatus.ERROR.value), FAILED_RUNS)
    trends = _trends(db, repository_id)
    acceptance = tuple(
        AcceptanceLine(row.codemod, row.proposed, row.merged, row.closed, row.acceptance)
        for row in learning_table(db, repository_id)
    )
    gaps, gaps_run, gap_trend = _test_gaps(db, repository_id)
    return DashboardView(
        full_name=repo.full_name if repo is not None else "",
        paused=bool(repo is not None and repo.paused),
        open_pulls=tuple(
            PullLine(p.number, p.title, states[p.number].describe() if p.number in states else "open")
            for p in sorted(open_pulls, key=lambda p: -p.number)
        ),
        closed_pulls=closed,
        plan=plan,
        queued=queued,
        failed=failed,
        acceptance=acceptance,
        limits=_limits(config),
        trends=trends,
        config_note=config_note,
        test_gaps=gaps,
        test_gaps_run=gaps_run,
        test_gap_trend=gap_trend,
    )
