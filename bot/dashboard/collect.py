"""Gather a `DashboardView` from the store (runs, outcomes, metrics, learning) and GitHub (open PRs, config)."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from sqlalchemy import func, select

from bot.acceptance import learning_table
from bot.dashboard.view import AcceptanceLine, DashboardView, MetricTrend, PlannedTheme, PullLine, RunLine
from bot.db.models import DashboardIssue, MetricSnapshot, PROutcome, Run
from bot.db.repositories import get_repository
from evolve.config import EvolveConfig
from evolve.run_status import RunStatus

CLOSED_PULLS = 1000  # closed PRs read back (the body shows the newest, history pages the rest)
FAILED_RUNS = 10
TREND_RUNS = 12
TREND_METRICS = ("average complexity", "average maintainability index", "docstring coverage", "line coverage")


def skipped_themes(db: Any, repository_id: int) -> frozenset[str]:
    """The themes a maintainer blocked in the dashboard."""
    with db() as session:
        row = session.get(DashboardIssue, repository_id)
        themes = (row.skipped_themes or {}).get("themes", []) if row is not None else []
    return frozenset(str(t) for t in themes)


def _closed_pulls(session: Any, repository_id: int) -> tuple[PullLine, ...]:
    # A PR has one outcome row per codemod; "merged" wins over "closed" for the same PR.
    query = (
        select(PROutcome.pr_number, func.max(PROutcome.outcome), func.max(PROutcome.recorded_at))
        .where(PROutcome.repository_id == repository_id)
        .group_by(PROutcome.pr_number)
        .order_by(func.max(PROutcome.recorded_at).desc(), PROutcome.pr_number.desc())
        .limit(CLOSED_PULLS)
    )
    rows = list(session.execute(query))
    themes = dict(
        session.execute(
            select(Run.pr_number, Run.theme).where(
                Run.repository_id == repository_id, Run.pr_number.in_([r[0] for r in rows])
            )
        ).all()
    )
    return tuple(
        PullLine(number, themes.get(number) or "", outcome, when.strftime("%Y-%m-%d") if when else "")
        for number, outcome, when in rows
    )


def _plan(session: Any, repository_id: int, skipped: frozenset[str]) -> tuple[PlannedTheme, ...]:
    query = (
        select(Run.report)
        .where(Run.repository_id == repository_id, Run.report.is_not(None))
        .order_by(Run.id.desc())
        .limit(1)
    )
    report = session.scalar(query) or {}
    plan = report.get("plan") if isinstance(report, dict) else None
    if not isinstance(plan, dict):
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


def _runs(session: Any, repository_id: int, statuses: tuple[str, ...], limit: int) -> tuple[RunLine, ...]:
    query = (
        select(Run)
        .where(Run.repository_id == repository_id, Run.status.in_(statuses))
        .order_by(Run.id.desc())
        .limit(limit)
    )
    return tuple(
        RunLine(r.id, r.trigger, r.status, r.theme or r.focus or "", (r.message or "")[:300])
        for r in session.scalars(query)
    )


def _trends(session: Any, repository_id: int) -> tuple[MetricTrend, ...]:
    run_ids = list(
        session.scalars(
            select(Run.id)
            .where(Run.repository_id == repository_id, Run.status == RunStatus.SUCCEEDED)
            .join(MetricSnapshot, MetricSnapshot.run_id == Run.id)
            .group_by(Run.id)
            .order_by(Run.id.desc())
            .limit(TREND_RUNS)
        )
    )[::-1]
    points: dict[str, list[tuple[str, float]]] = defaultdict(list)
    query = select(MetricSnapshot).where(MetricSnapshot.run_id.in_(run_ids), MetricSnapshot.name.in_(TREND_METRICS))
    for snapshot in sorted(session.scalars(query), key=lambda s: s.run_id):
        if snapshot.head is not None:
            points[snapshot.name].append((f"run {snapshot.run_id}", float(snapshot.head)))
    return tuple(MetricTrend(name, tuple(points[name])) for name in TREND_METRICS if len(points[name]) >= 2)


def _limits(config: EvolveConfig) -> tuple[tuple[str, str], ...]:
    limits, llm = config.limits, config.llm
    return (
        ("limits.max_open_prs", str(limits.max_open_prs)),
        ("limits.max_files", str(limits.max_files)),
        ("limits.max_changed_lines", str(limits.max_changed_lines)),
        ("limits.runs_per_hour", str(limits.runs_per_hour)),
        ("attempts", str(config.attempts)),
        ("schedule", config.schedule),
        ("llm.enabled", str(llm.enabled).lower()),
        ("llm.tokens_per_run", str(llm.tokens_per_run)),
        ("llm.tokens_per_day", str(llm.tokens_per_day)),
        ("llm.cost_per_run_usd", f"{llm.cost_per_run_usd:.2f}"),
        ("llm.cost_per_day_usd", f"{llm.cost_per_day_usd:.2f}"),
    )


def collect_view(
    db: Any,
    repository_id: int,
    open_pulls: list[Any],
    config: EvolveConfig,
    config_note: str = "",
) -> DashboardView:
    """The dashboard's values; `open_pulls` are the gateway's `PullInfo`s of open Evolve PRs."""
    repo = get_repository(db, repository_id)
    skipped = skipped_themes(db, repository_id)
    with db() as session:
        closed = _closed_pulls(session, repository_id)
        plan = _plan(session, repository_id, skipped)
        queued = _runs(session, repository_id, (RunStatus.QUEUED.value, RunStatus.RUNNING.value), 20)
        failed = _runs(session, repository_id, (RunStatus.FAILED.value, RunStatus.ERROR.value), FAILED_RUNS)
        trends = _trends(session, repository_id)
    acceptance = tuple(
        AcceptanceLine(row.codemod, row.proposed, row.merged, row.closed, row.acceptance)
        for row in learning_table(db, repository_id)
    )
    return DashboardView(
        full_name=repo.full_name if repo is not None else "",
        paused=bool(repo is not None and repo.paused),
        open_pulls=tuple(PullLine(p.number, p.title, "open") for p in sorted(open_pulls, key=lambda p: -p.number)),
        closed_pulls=closed,
        plan=plan,
        queued=queued,
        failed=failed,
        acceptance=acceptance,
        limits=_limits(config),
        trends=trends,
        config_note=config_note,
    )
