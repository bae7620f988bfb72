"""Runs and what they produced: created once per idempotency key, claimed one at a time per repository."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, cast

from sqlalchemy import and_, delete, exists, func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import aliased

from bot.db._scope import Db, scope
from bot.db.models import Attempt, GateResultRow, MetricSnapshot, Run, utcnow
from evolve.run_status import FINISHED_STATUSES, RunStatus

if TYPE_CHECKING:
    from sqlalchemy.engine import CursorResult, Result

FINISHED = FINISHED_STATUSES


def _row_count(result: Result[Any]) -> int:
    """Rows an UPDATE matched: a Session runs DML into a CursorResult, the result kind that counts rows."""
    return cast("CursorResult[Any]", result).rowcount


def create_run(
    db: Db,
    repository_id: int,
    trigger: str,
    *,
    focus: str | None = None,
    requested_by: str | None = None,
    comment_issue_number: int | None = None,
    idempotency_key: str | None = None,
    options: dict[str, Any] | None = None,
    delivery_id: str | None = None,
    pr_number: int | None = None,
) -> tuple[Run, bool]:
    """Create a queued run; with an idempotency key seen before, return that run and False."""
    if idempotency_key is not None:
        existing = get_run_by_key(db, idempotency_key)
        if existing is not None:
            return existing, False
    run = Run(
        repository_id=repository_id,
        trigger=trigger,
        focus=focus,
        status=RunStatus.QUEUED,
        requested_by=requested_by,
        comment_issue_number=comment_issue_number,
        idempotency_key=idempotency_key,
        options=options or {},
        delivery_id=delivery_id,
        pr_number=pr_number,
        attempt_count=0,
        tries=0,
    )
    try:
        with scope(db) as session:
            session.add(run)
            session.flush()
            return run, True
    except IntegrityError:  # a concurrent creator won the key
        existing = get_run_by_key(db, idempotency_key or "")
        if existing is None:
            raise
        return existing, False


def get_run(db: Db, run_id: int) -> Run | None:
    """One run by id."""
    with scope(db) as session:
        return session.get(Run, run_id, populate_existing=True)


def get_run_by_key(db: Db, idempotency_key: str) -> Run | None:
    """The run created for an idempotency key."""
    with scope(db) as session:
        return session.scalar(select(Run).where(Run.idempotency_key == idempotency_key))


def recent_runs(db: Db, repository_id: int, limit: int = 10) -> list[Run]:
    """The newest runs of a repository, newest first (for `/evolve status`)."""
    with scope(db) as session:
        query = select(Run).where(Run.repository_id == repository_id).order_by(Run.id.desc()).limit(limit)
        return list(session.scalars(query))


def active_run(db: Db, repository_id: int) -> Run | None:
    """The running run of a repository, else its oldest queued one."""
    with scope(db) as session:
        query = (
            select(Run)
            .where(Run.repository_id == repository_id, Run.status.in_((RunStatus.RUNNING, RunStatus.QUEUED)))
            .order_by(Run.status.desc(), Run.id)  # "running" sorts before "queued" descending
        )
        return session.scalars(query).first()


def runs_since(db: Db, repository_id: int, since: datetime) -> int:
    """How many runs of a repository were created since a time (the runs-per-hour limit)."""
    with scope(db) as session:
        query = select(func.count()).select_from(Run).where(Run.repository_id == repository_id, Run.created_at >= since)
        return int(session.scalar(query) or 0)


def claim_run(db: Db, run_id: int, lease_seconds: float = 600) -> Run | None:
    """Mark a queued run running, unless another run of its repository holds a live lease.

    The single UPDATE is the per-repository lock: two workers cannot both succeed.
    """
    now = utcnow()
    other = aliased(Run)
    busy = exists().where(
        other.repository_id == Run.repository_id,
        other.id != Run.id,
        other.status == RunStatus.RUNNING,
        other.lease_until > now,
    )
    with scope(db) as session:
        result = session.execute(
            update(Run)
            .where(Run.id == run_id, Run.status == RunStatus.QUEUED, ~busy)
            .values(
                status=RunStatus.RUNNING,
                tries=Run.tries + 1,
                started_at=now,
                lease_until=now + timedelta(seconds=lease_seconds),
            )
            .execution_options(synchronize_session=False)
        )
        if _row_count(result) != 1:
            return None
    return get_run(db, run_id)


def extend_run_lease(db: Db, run_id: int, lease_seconds: float = 600) -> bool:
    """Heartbeat of a running run; False when the run is no longer ours to run."""
    with scope(db) as session:
        result = session.execute(
            update(Run)
            .where(Run.id == run_id, Run.status == RunStatus.RUNNING)
            .values(lease_until=utcnow() + timedelta(seconds=lease_seconds))
            .execution_options(synchronize_session=False)
        )
        return _row_count(result) == 1


def update_run(db: Db, run_id: int, **fields: Any) -> None:
    """Set fields of a run (theme, branch, pr_number, base_sha, head_sha, message...)."""
    with scope(db) as session:
        session.execute(
            update(Run).where(Run.id == run_id).values(**fields).execution_options(synchronize_session=False)
        )


def finish_run(db: Db, run_id: int, status: str, *, report: Any = None, **fields: Any) -> None:
    """Close a run with its final status; `report` (a `RunReport` or its dict) is stored with its
    attempts, gate results and metrics. Extra fields: theme, branch, pr_number, message, markdown..."""
    if status not in FINISHED:
        raise ValueError(f"not a final run status: {status!r}")
    values: dict[str, Any] = {"status": status, "finished_at": utcnow(), "lease_until": None, **fields}
    attempts: Iterable[Any] = ()
    metrics: Iterable[Any] = ()
    if report is not None:
        values["report"] = report if isinstance(report, dict) else report.to_dict()
        if not isinstance(report, dict):
            values.setdefault("markdown", report.markdown)
            values.setdefault("message", report.message)
            values.setdefault("branch", report.branch)
            values.setdefault("head_sha", report.commit)
            values.setdefault("base_sha", report.base_sha)
            if report.plan is not None and getattr(report.plan, "theme", None):
                values.setdefault("theme", report.plan.theme)
            attempts, metrics = report.attempts, report.metrics
    values["attempt_count"] = len(values["report"].get("attempts", [])) if values.get("report") else 0
    with scope(db) as session:
        session.execute(
            update(Run).where(Run.id == run_id).values(**values).execution_options(synchronize_session=False)
        )
        record_attempts(session, run_id, attempts)
        record_metrics(session, run_id, metrics)


def record_attempts(db: Db, run_id: int, attempts: Iterable[Any]) -> None:
    """Store `AttemptRecord`s and their gate results (replacing any stored for this run)."""
    attempts = list(attempts)
    if not attempts:
        return
    with scope(db) as session:
        session.execute(delete(GateResultRow).where(GateResultRow.run_id == run_id))
        session.execute(delete(Attempt).where(Attempt.run_id == run_id))
        for record in attempts:
            data = record.to_dict()
            session.add(
                Attempt(
                    run_id=run_id,
                    number=record.number,
                    passed=record.passed,
                    edits={"files": data["edits"], "narrowed": data["narrowed"]},
                    note=record.note,
                )
            )
            for gate in record.gate_results:
                session.add(
                    GateResultRow(
                        run_id=run_id,
                        attempt_number=record.number,
                        gate=gate.gate,
                        status=gate.status,
                        summary=gate.summary,
                        result=gate.to_dict(),
                    )
                )


def record_metrics(db: Db, run_id: int, metrics: Iterable[Any]) -> None:
    """Store a run's `Metric`s, base versus head (replacing any stored for this run)."""
    metrics = list(metrics)
    if not metrics:
        return
    with scope(db) as session:
        session.execute(delete(MetricSnapshot).where(MetricSnapshot.run_id == run_id))
        for metric in metrics:
            session.add(
                MetricSnapshot(
                    run_id=run_id,
                    name=metric.name,
                    base=metric.base,
                    head=metric.head,
                    better=metric.better,
                    unit=metric.unit,
                )
            )


def resumable_runs(db: Db) -> list[int]:
    """Runs to (re)start: queued ones, and running ones whose worker's lease expired, oldest first."""
    now = utcnow()
    with scope(db) as session:
        query = (
            select(Run.id)
            .where(or_(Run.status == RunStatus.QUEUED, and_(Run.status == RunStatus.RUNNING, Run.lease_until < now)))
            .order_by(Run.id)
        )
        return list(session.scalars(query))


def requeue_stale_run(db: Db, run_id: int, max_tries: int = 3) -> str | None:
    """A running run whose lease expired goes back to queued, or to error after `max_tries`.

    Returns the new status, or None when the run was not stale.
    """
    now = utcnow()
    run = get_run(db, run_id)
    if run is None or run.status != RunStatus.RUNNING or run.lease_until is None:
        return None
    with scope(db) as session:
        stale = and_(Run.id == run_id, Run.status == RunStatus.RUNNING, Run.lease_until < now)
        if run.tries >= max_tries:
            values: dict[str, Any] = {
                "status": RunStatus.ERROR,
                "finished_at": now,
                "lease_until": None,
                "message": f"the worker stopped {run.tries} times during this run",
            }
        else:
            values = {"status": RunStatus.QUEUED, "lease_until": None}
        result = session.execute(update(Run).where(stale).values(**values).execution_options(synchronize_session=False))
        return values["status"] if _row_count(result) == 1 else None


def next_queued_run(db: Db, repository_id: int) -> int | None:
    """The oldest queued run of a repository."""
    with scope(db) as session:
        query = (
            select(Run.id).where(Run.repository_id == repository_id, Run.status == RunStatus.QUEUED).order_by(Run.id)
        )
        return session.scalars(query).first()
