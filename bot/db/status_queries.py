"""Read-only queries of the status pages, each limited to what a viewer may see (`visible`: repository ids,
None for the operator). Results are frozen values; nothing here writes."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import and_, exists, func, select, true
from sqlalchemy.orm import Session

from bot.db._scope import Db, scope
from bot.db.models import (
    ACTIVE_RUN_STATUSES,
    Delivery,
    Installation,
    MetricSnapshot,
    PROutcome,
    Repository,
    Run,
    as_utc,
)

Visible = frozenset[int] | None
MAX_PAGE = 200


@dataclass(frozen=True)
class RunLine:
    """One run as the lists show it."""

    id: int
    repository_id: int
    full_name: str
    trigger: str
    status: str
    theme: str
    pr_number: int | None
    created_at: datetime | None
    started_at: datetime | None
    finished_at: datetime | None
    attempt_count: int
    message: str


@dataclass(frozen=True)
class RepositoryLine:
    """A repository with its state: enrolled, paused, last run, open Evolve PRs, queued and running runs."""

    id: int
    full_name: str
    installation_id: int | None
    enrolled: bool
    paused: bool
    private: bool
    schedule: str
    last_run: RunLine | None
    open_prs: int
    queued: int
    running: int


@dataclass(frozen=True)
class InstallationLine:
    """An installation of the App and how many of its repositories the viewer sees."""

    id: int
    account_login: str
    account_type: str
    repository_selection: str
    suspended: bool
    deleted: bool
    repositories: int


TROUBLED_SHOWN = 20  # the queue page lists the latest deliveries that failed or wait for a retry


@dataclass(frozen=True)
class TroubledDelivery:
    """A delivery whose handling failed: waiting for its next try (`queued`) or given up (`failed`)."""

    delivery_id: str
    event: str
    action: str | None
    status: str
    attempts: int
    error: str
    received_at: datetime | None


@dataclass(frozen=True)
class DeliveryQueue:
    """Webhook deliveries by status, the oldest still waiting, and the latest that failed or wait for a retry
    with their reason and attempt count (operator only)."""

    by_status: tuple[tuple[str, int], ...]
    oldest_queued: datetime | None
    troubled: tuple[TroubledDelivery, ...] = ()


@dataclass(frozen=True)
class RunPage:
    """A page of runs, newest first, with the keyset cursors of the pages around it."""

    runs: tuple[RunLine, ...]
    older: int | None  # pass as `before` for the next (older) page
    newer: int | None  # pass as `after` for the previous (newer) page


@dataclass(frozen=True)
class RunRecord:
    """One run with what is stored about it: the report document, metrics, and its PR's outcome."""

    run: RunLine
    report: dict[str, Any]
    metrics: tuple[tuple[str, float | None, float | None, str, str], ...]  # name, base, head, better, unit
    pr_outcome: str | None
    tries: int
    requested_by: str | None


@dataclass(frozen=True)
class MetricPoint:
    """One metric of one run: the default branch's value (base) and the proposed change's (head)."""

    run_id: int
    at: datetime
    name: str
    base: float | None
    head: float | None
    unit: str


@dataclass(frozen=True)
class PullRecord:
    """One Evolve PR of a repository: when its run opened it, and merged/closed/None (still open)."""

    number: int
    opened_at: datetime
    outcome: str | None


def _allowed(column: Any, visible: Visible) -> Any:
    return column.in_(sorted(visible)) if visible is not None else true()


_RUN_COLUMNS = (
    Run.id,
    Run.repository_id,
    Repository.full_name,
    Run.trigger,
    Run.status,
    func.coalesce(Run.theme, Run.focus, ""),
    Run.pr_number,
    Run.created_at,
    Run.started_at,
    Run.finished_at,
    Run.attempt_count,
    func.coalesce(Run.message, ""),
)


def _run_line(row: Any) -> RunLine:
    return RunLine(
        id=row[0],
        repository_id=row[1],
        full_name=row[2] or "",
        trigger=row[3] or "",
        status=row[4],
        theme=row[5] or "",
        pr_number=row[6],
        created_at=as_utc(row[7]),
        started_at=as_utc(row[8]),
        finished_at=as_utc(row[9]),
        attempt_count=row[10] or 0,
        message=(row[11] or "")[:300],
    )


def _runs_by_id(session: Session, run_ids: Iterable[int]) -> dict[int, RunLine]:
    ids = sorted(set(run_ids))
    if not ids:
        return {}
    query = select(*_RUN_COLUMNS).join(Repository, Repository.id == Run.repository_id).where(Run.id.in_(ids))
    return {row[0]: _run_line(row) for row in session.execute(query)}


def _open_pull_counts(session: Session, repository_ids: list[int]) -> dict[int, int]:
    decided = exists().where(PROutcome.repository_id == Run.repository_id, PROutcome.pr_number == Run.pr_number)
    query = (
        select(Run.repository_id, func.count(func.distinct(Run.pr_number)))
        .where(Run.repository_id.in_(repository_ids), Run.pr_number.is_not(None), ~decided)
        .group_by(Run.repository_id)
    )
    return {repo: count for repo, count in session.execute(query)}


def repositories(db: Db, visible: Visible) -> tuple[RepositoryLine, ...]:
    """Every repository the viewer sees, by name, with its last run and its queue."""
    with scope(db) as session:
        rows = list(
            session.execute(
                select(Repository).where(_allowed(Repository.id, visible)).order_by(Repository.full_name, Repository.id)
            ).scalars()
        )
        ids = [r.id for r in rows]
        if not ids:
            return ()
        last_ids: dict[int, int] = {
            repository_id: last_id
            for repository_id, last_id in session.execute(
                select(Run.repository_id, func.max(Run.id))
                .where(Run.repository_id.in_(ids))
                .group_by(Run.repository_id)
            )
        }
        last_runs = _runs_by_id(session, last_ids.values())
        active: dict[tuple[int, str], int] = {
            (repo, status): count
            for repo, status, count in session.execute(
                select(Run.repository_id, Run.status, func.count())
                .where(Run.repository_id.in_(ids), Run.status.in_(ACTIVE_RUN_STATUSES))
                .group_by(Run.repository_id, Run.status)
            )
        }
        open_prs = _open_pull_counts(session, ids)
        return tuple(
            RepositoryLine(
                id=r.id,
                full_name=r.full_name,
                installation_id=r.installation_id,
                enrolled=bool(r.enrolled),
                paused=bool(r.paused),
                private=bool(r.private),
                schedule=r.schedule or "",
                last_run=last_runs.get(last_ids.get(r.id, -1)),
                open_prs=open_prs.get(r.id, 0),
                queued=active.get((r.id, "queued"), 0),
                running=active.get((r.id, "running"), 0),
            )
            for r in rows
        )


def repository_names(db: Db, visible: Visible) -> tuple[tuple[int, str], ...]:
    """(id, full name) of every repository the viewer sees, by name (the run list's filter)."""
    with scope(db) as session:
        query = (
            select(Repository.id, Repository.full_name)
            .where(_allowed(Repository.id, visible))
            .order_by(Repository.full_name, Repository.id)
        )
        return tuple((repo_id, name) for repo_id, name in session.execute(query))


def installations(db: Db, visible_installations: Visible, visible: Visible) -> tuple[InstallationLine, ...]:
    """The installations the viewer sees, with the number of their repositories the viewer sees."""
    with scope(db) as session:
        counts: dict[int | None, int] = {
            installation_id: count
            for installation_id, count in session.execute(
                select(Repository.installation_id, func.count())
                .where(_allowed(Repository.id, visible))
                .group_by(Repository.installation_id)
            )
        }
        query = (
            select(Installation)
            .where(_allowed(Installation.id, visible_installations))
            .order_by(Installation.account_login, Installation.id)
        )
        return tuple(
            InstallationLine(
                id=i.id,
                account_login=i.account_login or "",
                account_type=i.account_type or "",
                repository_selection=i.repository_selection or "",
                suspended=bool(i.suspended),
                deleted=bool(i.deleted),
                repositories=int(counts.get(i.id, 0)),
            )
            for i in session.scalars(query)
        )


def delivery_queue(db: Db) -> DeliveryQueue:
    """Deliveries by status and the oldest queued one (every installation's: for the operator)."""
    with scope(db) as session:
        by_status = tuple(
            (status, int(count))
            for status, count in session.execute(
                select(Delivery.status, func.count()).group_by(Delivery.status).order_by(Delivery.status)
            )
        )
        oldest = session.scalar(select(func.min(Delivery.received_at)).where(Delivery.status == "queued"))
        troubled = session.execute(
            select(
                Delivery.delivery_id,
                Delivery.event,
                Delivery.action,
                Delivery.status,
                Delivery.attempts,
                Delivery.error,
                Delivery.received_at,
            )
            .where(Delivery.status.in_(("queued", "failed")), Delivery.error.is_not(None))
            .order_by(Delivery.id.desc())
            .limit(TROUBLED_SHOWN)
        )
        return DeliveryQueue(
            by_status,
            as_utc(oldest),
            tuple(
                TroubledDelivery(row[0], row[1], row[2], row[3], int(row[4]), str(row[5]), as_utc(row[6]))
                for row in troubled
            ),
        )


def run_page(
    db: Db,
    visible: Visible,
    *,
    repository_id: int | None = None,
    status: str | None = None,
    before: int | None = None,
    after: int | None = None,
    limit: int = 50,
) -> RunPage:
    """Runs newest first, `limit` at a time, keyset-paginated on id: `before` gives the page of older runs
    than that id, `after` the page of newer ones. An index serves each filter combination."""
    limit = max(1, min(limit, MAX_PAGE))
    conditions: list[Any] = [_allowed(Run.repository_id, visible)]
    if repository_id is not None:
        conditions.append(Run.repository_id == repository_id)
    if status:
        conditions.append(Run.status == status)
    base = select(*_RUN_COLUMNS).join(Repository, Repository.id == Run.repository_id)
    with scope(db) as session:
        if after is not None and before is None:
            query = base.where(*conditions, Run.id > after).order_by(Run.id.asc()).limit(limit + 1)
            rows = [_run_line(row) for row in session.execute(query)]
            more_newer = len(rows) > limit
            runs = rows[:limit][::-1]
            has_older = bool(runs) and _any(session, conditions, Run.id < runs[-1].id)
            return RunPage(
                tuple(runs),
                runs[-1].id if runs and has_older else None,
                runs[0].id if runs and more_newer else None,
            )
        where = [*conditions, Run.id < before] if before is not None else conditions
        rows = [_run_line(row) for row in session.execute(base.where(*where).order_by(Run.id.desc()).limit(limit + 1))]
        runs = rows[:limit]
        has_newer = before is not None and bool(runs) and _any(session, conditions, Run.id > runs[0].id)
        return RunPage(
            tuple(runs),
            runs[-1].id if len(rows) > limit else None,
            runs[0].id if has_newer else None,
        )


def _any(session: Session, conditions: list[Any], extra: Any) -> bool:
    return session.scalar(select(Run.id).where(*conditions, extra).limit(1)) is not None


def run_counts(db: Db, visible: Visible, repository_id: int | None = None) -> tuple[tuple[str, int], ...]:
    """How many runs the viewer sees per status (the run list's filter bar)."""
    conditions: list[Any] = [_allowed(Run.repository_id, visible)]
    if repository_id is not None:
        conditions.append(Run.repository_id == repository_id)
    with scope(db) as session:
        query = select(Run.status, func.count()).where(*conditions).group_by(Run.status).order_by(Run.status)
        return tuple((status, int(count)) for status, count in session.execute(query))


def run_record(db: Db, run_id: int, visible: Visible) -> RunRecord | None:
    """One run with its report, metrics and PR outcome; None when it does not exist or is not visible."""
    with scope(db) as session:
        run = session.get(Run, run_id)
        if run is None or (visible is not None and run.repository_id not in visible):
            return None
        line = _runs_by_id(session, [run_id])[run_id]
        metrics = tuple(
            (m.name, m.base, m.head, m.better, m.unit)
            for m in session.scalars(
                select(MetricSnapshot).where(MetricSnapshot.run_id == run_id).order_by(MetricSnapshot.id)
            )
        )
        outcome = None
        if run.pr_number is not None:
            outcome = session.scalar(
                select(func.max(PROutcome.outcome)).where(
                    PROutcome.repository_id == run.repository_id, PROutcome.pr_number == run.pr_number
                )
            )
        return RunRecord(line, dict(run.report or {}), metrics, outcome, run.tries or 0, run.requested_by)


def repository(db: Db, repository_id: int, visible: Visible) -> RepositoryLine | None:
    """One repository's line, when the viewer sees it."""
    if visible is not None and repository_id not in visible:
        return None
    lines = repositories(db, frozenset({repository_id}))
    return lines[0] if lines else None


def repository_id_by_name(db: Db, full_name: str) -> int | None:
    """The id of a repository by its full name (case-insensitive, as GitHub treats names)."""
    with scope(db) as session:
        return session.scalar(
            select(Repository.id).where(func.lower(Repository.full_name) == full_name.lower()).order_by(Repository.id)
        )


def metric_history(db: Db, repository_id: int, names: Iterable[str], runs: int = 200) -> tuple[MetricPoint, ...]:
    """The named metrics of a repository's newest `runs` runs that measured anything, oldest first."""
    wanted = sorted(set(names))
    measured = exists().where(MetricSnapshot.run_id == Run.id)
    with scope(db) as session:
        recent = list(
            session.execute(
                select(Run.id, func.coalesce(Run.finished_at, Run.started_at, Run.created_at))
                .where(Run.repository_id == repository_id, measured)
                .order_by(Run.id.desc())
                .limit(runs)
            )
        )
        moments = {run_id: as_utc(at) or at for run_id, at in recent}
        if not moments:
            return ()
        query = (
            select(
                MetricSnapshot.run_id,
                MetricSnapshot.name,
                MetricSnapshot.base,
                MetricSnapshot.head,
                MetricSnapshot.unit,
            )
            .where(MetricSnapshot.run_id.in_(sorted(moments)), MetricSnapshot.name.in_(wanted))
            .order_by(MetricSnapshot.run_id, MetricSnapshot.id)
        )
        return tuple(
            MetricPoint(run_id, moments[run_id], name, base, head, unit or "")
            for run_id, name, base, head, unit in session.execute(query)
        )


def pull_history(db: Db, repository_id: int) -> tuple[PullRecord, ...]:
    """Every Evolve PR of a repository (one per number, as its first run opened it) and its outcome."""
    with scope(db) as session:
        outcomes: dict[int, str] = {
            pr_number: outcome
            for pr_number, outcome in session.execute(
                select(PROutcome.pr_number, func.max(PROutcome.outcome))
                .where(PROutcome.repository_id == repository_id)
                .group_by(PROutcome.pr_number)
            )
        }
        query = (
            select(Run.pr_number, func.min(func.coalesce(Run.finished_at, Run.created_at)))
            .where(and_(Run.repository_id == repository_id, Run.pr_number.is_not(None)))
            .group_by(Run.pr_number)
            .order_by(Run.pr_number)
        )
        return tuple(
            PullRecord(number, as_utc(opened) or opened, outcomes.get(number))
            for number, opened in session.execute(query)
            if number is not None
        )
