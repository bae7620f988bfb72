"""The store side of the dashboard issue: its number and pages, skipped themes, what it shows, and the redraw lease.

The redraw lease keeps two workers from drawing one repository's dashboard at once (and so from
opening two dashboard issues): a row in `github_writes` keyed `dashboard-redraw:<repository id>`, of
kind `lease`, whose `intended_at` is when it was taken and whose `done` flag says "draw again, the
state changed while you drew". A lease older than `REDRAW_LEASE` (a worker died while drawing) is
taken over. Every step is one conditional statement, so it holds on SQLite and on PostgreSQL.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.engine import CursorResult
from sqlalchemy.exc import IntegrityError

from bot.db._scope import Db, scope
from bot.db.models import DashboardIssue, GitHubWrite, MetricSnapshot, PROutcome, Run, utcnow
from evolve.run_status import RunStatus

REDRAW_LEASE = timedelta(seconds=120)


def dashboard_state(db: Db, repository_id: int) -> tuple[int | None, list[int]]:
    """The stored dashboard issue number and the ids of its page comments."""
    with scope(db) as session:
        row = session.get(DashboardIssue, repository_id)
        if row is None:
            return None, []
        return row.issue_number, [int(i) for i in (row.page_comment_ids or {}).get("ids", [])]


def save_dashboard(db: Db, repository_id: int, **values: Any) -> None:
    """Store the dashboard's issue number, page comment ids or skipped themes (the row is created once)."""
    with scope(db) as session:
        row = session.get(DashboardIssue, repository_id)
        if row is None:
            row = DashboardIssue(repository_id=repository_id)
            session.add(row)
        for key, value in values.items():
            setattr(row, key, value)


def skipped_themes(db: Db, repository_id: int) -> frozenset[str]:
    """The themes a maintainer blocked in the dashboard."""
    with scope(db) as session:
        row = session.get(DashboardIssue, repository_id)
        themes = (row.skipped_themes or {}).get("themes", []) if row is not None else []
    return frozenset(str(t) for t in themes)


def retry_focus(db: Db, repository_id: int, run_id: int) -> tuple[bool, str | None]:
    """Whether run `run_id` is a failed run of this repository, and the theme to try again."""
    with scope(db) as session:
        run = session.get(Run, run_id)
        if run is None or run.repository_id != repository_id:
            return False, None
        return run.status in (RunStatus.FAILED.value, RunStatus.ERROR.value), run.theme or run.focus


def closed_pulls(db: Db, repository_id: int, limit: int) -> list[tuple[int, str, str, datetime | None]]:
    """The newest closed Evolve PRs: number, title (as the run opened it, else its theme), outcome, when."""
    # A PR has one outcome row per codemod; "merged" wins over "closed" for the same PR.
    query = (
        select(PROutcome.pr_number, func.max(PROutcome.outcome), func.max(PROutcome.recorded_at))
        .where(PROutcome.repository_id == repository_id)
        .group_by(PROutcome.pr_number)
        .order_by(func.max(PROutcome.recorded_at).desc(), PROutcome.pr_number.desc())
        .limit(limit)
    )
    with scope(db) as session:
        rows = list(session.execute(query).all())
        titles: dict[int, str] = {}
        named = (
            select(Run.pr_number, Run.theme, Run.report["plan"]["title"].as_string())
            .where(Run.repository_id == repository_id, Run.pr_number.in_([r[0] for r in rows]))
            .order_by(Run.id)
        )
        for number, theme, title in session.execute(named).all():
            if number is not None and (title or theme):  # the newest run of the PR wins
                titles[number] = str(title or theme)
    return [(number, titles.get(number, ""), outcome, when) for number, outcome, when in rows]


def latest_plan(db: Db, repository_id: int) -> dict[str, Any] | None:
    """The plan of the repository's newest run that reported one."""
    query = (
        select(Run.report)
        .where(Run.repository_id == repository_id, Run.report.is_not(None))
        .order_by(Run.id.desc())
        .limit(1)
    )
    with scope(db) as session:
        report = session.scalar(query) or {}
    plan = report.get("plan") if isinstance(report, dict) else None
    return plan if isinstance(plan, dict) else None


def runs_in(db: Db, repository_id: int, statuses: tuple[str, ...], limit: int) -> list[tuple[int, str, str, str, str]]:
    """The newest runs in `statuses`: id, trigger, status, theme (else focus), message."""
    query = (
        select(Run)
        .where(Run.repository_id == repository_id, Run.status.in_(statuses))
        .order_by(Run.id.desc())
        .limit(limit)
    )
    with scope(db) as session:
        return [
            (r.id, r.trigger, r.status, r.theme or r.focus or "", (r.message or "")[:300])
            for r in session.scalars(query)
        ]


def metric_points(db: Db, repository_id: int, names: tuple[str, ...], runs: int) -> dict[str, list[tuple[int, float]]]:
    """Per metric, (run id, value after the run) over the newest `runs` successful runs that measured, oldest first."""
    with scope(db) as session:
        run_ids = list(
            session.scalars(
                select(Run.id)
                .where(Run.repository_id == repository_id, Run.status == RunStatus.SUCCEEDED)
                .join(MetricSnapshot, MetricSnapshot.run_id == Run.id)
                .group_by(Run.id)
                .order_by(Run.id.desc())
                .limit(runs)
            )
        )
        points: dict[str, list[tuple[int, float]]] = defaultdict(list)
        query = select(MetricSnapshot).where(MetricSnapshot.run_id.in_(run_ids), MetricSnapshot.name.in_(names))
        for snapshot in sorted(session.scalars(query), key=lambda s: s.run_id):
            if snapshot.head is not None:
                points[snapshot.name].append((snapshot.run_id, float(snapshot.head)))
    return dict(points)


def latest_test_gaps(db: Db, repository_id: int, runs: int = 20) -> tuple[int, dict[str, Any]] | None:
    """(run id, test-gap sample as its report stored it) of the newest of the latest `runs` runs that took one."""
    query = (
        select(Run.id, Run.report)
        .where(Run.repository_id == repository_id, Run.report.is_not(None))
        .order_by(Run.id.desc())
        .limit(runs)
    )
    with scope(db) as session:
        for run_id, report in session.execute(query):
            plan = report.get("plan") if isinstance(report, dict) else None
            gaps = plan.get("test_gaps") if isinstance(plan, dict) else None
            if isinstance(gaps, dict):
                return int(run_id), gaps
    return None


def research_points(db: Db, repository_id: int, name: str, runs: int) -> list[tuple[int, float]]:
    """(run id, value) of a metric research measures on base (stored as the base value, whatever the run's
    outcome) over the newest `runs` runs that measured it, oldest first."""
    query = (
        select(MetricSnapshot.run_id, MetricSnapshot.base)
        .join(Run, Run.id == MetricSnapshot.run_id)
        .where(Run.repository_id == repository_id, MetricSnapshot.name == name, MetricSnapshot.base.is_not(None))
        .order_by(MetricSnapshot.run_id.desc())
        .limit(runs)
    )
    with scope(db) as session:
        return sorted((int(run_id), float(value)) for run_id, value in session.execute(query) if value is not None)


def _lease_key(repository_id: int) -> str:
    return f"dashboard-redraw:{repository_id}"


def _changed(result: Any) -> int:
    assert isinstance(result, CursorResult)
    return int(result.rowcount)


def claim_redraw(db: Db, repository_id: int, now: datetime | None = None) -> bool:
    """Take the repository's redraw lease; False when another worker holds it (it is then asked to draw again)."""
    key = _lease_key(repository_id)
    for _ in range(5):  # the holder may release between our statements: look again
        now = now or utcnow()
        try:
            with scope(db) as session:
                session.add(GitHubWrite(key=key, kind="lease", done=False, intended_at=now))
            return True
        except IntegrityError:
            pass
        with scope(db) as session:
            stale = update(GitHubWrite).where(GitHubWrite.key == key, GitHubWrite.intended_at < now - REDRAW_LEASE)
            if _changed(session.execute(stale.values(intended_at=now, done=False))):
                return True  # its holder died drawing
            if _changed(session.execute(update(GitHubWrite).where(GitHubWrite.key == key).values(done=True))):
                return False
        now = None
    return False


def release_redraw(db: Db, repository_id: int) -> bool:
    """Give the lease back; True (and the lease kept, renewed) when someone asked for another redraw meanwhile."""
    key = _lease_key(repository_id)
    while True:
        with scope(db) as session:
            again = update(GitHubWrite).where(GitHubWrite.key == key, GitHubWrite.done.is_(True))
            if _changed(session.execute(again.values(done=False, intended_at=utcnow()))):
                return True
            if _changed(
                session.execute(delete(GitHubWrite).where(GitHubWrite.key == key, GitHubWrite.done.is_(False)))
            ):
                return False
            if session.scalar(select(GitHubWrite.key).where(GitHubWrite.key == key)) is None:
                return False  # already gone (taken over and released by another worker)


def drop_redraw_lease(db: Db, repository_id: int) -> None:
    """Give the lease back after a failed redraw (a pending request for another one is dropped with it)."""
    with scope(db) as session:
        session.execute(delete(GitHubWrite).where(GitHubWrite.key == _lease_key(repository_id)))
