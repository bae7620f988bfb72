"""Runs and what they produced: created once per idempotency key, claimed one at a time per repository
and at most N at a time per installation, installations in turn (`bot.db.run_order`)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, cast

from sqlalchemy import and_, delete, exists, func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, aliased

from bot.db._scope import Db, scope
from bot.db.models import Attempt, GateResultRow, MetricSnapshot, Repository, Run, utcnow
from bot.db.run_order import InstallationLoad, QueuedRun, claim_order
from bot.db.run_request import RunRequest
from evolve.plan.tasks import TEST_GAPS_METRIC
from evolve.results import Metric
from evolve.run_status import FINISHED_STATUSES, RunStatus

if TYPE_CHECKING:
    from sqlalchemy.engine import CursorResult, Result

FINISHED = FINISHED_STATUSES


def _row_count(result: Result[Any]) -> int:
    """Rows an UPDATE matched: a Session runs DML into a CursorResult, the result kind that counts rows."""
    return cast("CursorResult[Any]", result).rowcount


def create_run(db: Db, request: RunRequest) -> tuple[Run, bool]:
    """Create a queued run; with an idempotency key seen before, return that run and False."""
    if request.idempotency_key is not None:
        existing = get_run_by_key(db, request.idempotency_key)
        if existing is not None:
            return existing, False
    run = Run(
        repository_id=request.repository_id,
        trigger=request.trigger,
        focus=request.focus,
        status=RunStatus.QUEUED,
        requested_by=request.requested_by,
        comment_issue_number=request.comment_issue_number,
        idempotency_key=request.idempotency_key,
        options=dict(request.options or {}),
        delivery_id=request.delivery_id,
        pr_number=request.pr_number,
        attempt_count=0,
        tries=0,
    )
    try:
        with scope(db) as session:
            session.add(run)
            session.flush()
            return run, True
    except IntegrityError:  # a concurrent creator won the key
        existing = get_run_by_key(db, request.idempotency_key or "")
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


CLAIM_LOCK = 74_117_002  # PostgreSQL advisory lock id: claims take turns, so limits hold across workers
CLAIM_RETRIES = 3


def _busy_repository() -> Any:
    """SQL: another run of the same repository is running (lease live or not: the sweep requeues stale ones)."""
    other = aliased(Run)
    return exists().where(
        other.repository_id == Run.repository_id, other.id != Run.id, other.status == RunStatus.RUNNING
    )


def _running_in_installation(installation_id: int | None) -> Any:
    """SQL: how many runs of an installation's repositories are running."""
    other = aliased(Run)
    owner = aliased(Repository)
    same = owner.installation_id.is_(None) if installation_id is None else owner.installation_id == installation_id
    return (
        select(func.count())
        .select_from(other)
        .join(owner, owner.id == other.repository_id)
        .where(other.status == RunStatus.RUNNING, same)
        .scalar_subquery()
    )


def _start(session: Session, run_id: int, lease_seconds: float, installation: tuple[int | None, int] | None) -> bool:
    """One conditional UPDATE: the run was queued, its repository idle and (with `installation` = (id, limit))
    the installation under its limit. The partial unique index makes the repository rule hold regardless."""
    now = utcnow()
    conditions = [Run.id == run_id, Run.status == RunStatus.QUEUED, ~_busy_repository()]
    if installation is not None:
        conditions.append(_running_in_installation(installation[0]) < installation[1])
    result = session.execute(
        update(Run)
        .where(*conditions)
        .values(
            status=RunStatus.RUNNING,
            tries=Run.tries + 1,
            started_at=now,
            lease_until=now + timedelta(seconds=lease_seconds),
        )
        .execution_options(synchronize_session=False)
    )
    return _row_count(result) == 1


def claim_run(db: Db, run_id: int, lease_seconds: float = 600) -> Run | None:
    """Mark one queued run running, unless another run of its repository is running."""
    try:
        with scope(db) as session:
            if not _start(session, run_id, lease_seconds, None):
                return None
    except IntegrityError:  # another worker started a run of this repository at the same instant
        return None
    return get_run(db, run_id)


def _queue_view(session: Session) -> tuple[list[QueuedRun], set[int], dict[int | None, InstallationLoad]]:
    """The queue as `claim_order` sees it: each repository's oldest queued run, busy repositories, loads."""
    queued = [
        QueuedRun(run_id, repository_id, installation_id)
        for run_id, repository_id, installation_id in session.execute(
            select(func.min(Run.id), Run.repository_id, Repository.installation_id)
            .join(Repository, Repository.id == Run.repository_id)
            .where(Run.status == RunStatus.QUEUED)
            .group_by(Run.repository_id, Repository.installation_id)
        )
    ]
    busy: set[int] = set()
    running: dict[int | None, int] = {}
    for repository_id, installation_id in session.execute(
        select(Run.repository_id, Repository.installation_id)
        .join(Repository, Repository.id == Run.repository_id)
        .where(Run.status == RunStatus.RUNNING)
    ):
        busy.add(repository_id)
        running[installation_id] = running.get(installation_id, 0) + 1
    installations = {run.installation_id for run in queued}
    last: dict[int | None, datetime | None] = {}
    if installations:
        known = [i for i in installations if i is not None]
        scope_filter = or_(Repository.installation_id.in_(known), Repository.installation_id.is_(None))
        for installation_id, started in session.execute(
            select(Repository.installation_id, func.max(Run.started_at))
            .join(Repository, Repository.id == Run.repository_id)
            .where(Run.started_at.is_not(None), scope_filter)
            .group_by(Repository.installation_id)
        ):
            last[installation_id] = started
    loads = {i: InstallationLoad(running.get(i, 0), last.get(i)) for i in installations | set(running)}
    return queued, busy, loads


def claim_next_run(db: Db, lease_seconds: float = 600, per_installation: int = 2) -> Run | None:
    """Start the queued run whose turn it is (`bot.db.run_order`), or None when no queued run may start now.

    Race-free across workers: on PostgreSQL claims take turns on an advisory transaction lock, so the
    per-installation count each claim re-checks in its UPDATE is current; on SQLite one UPDATE is atomic.
    The partial unique index `uq_runs_one_running_per_repository` backs the one-run-per-repository rule.
    """
    for _ in range(CLAIM_RETRIES):
        try:
            with scope(db) as session:
                if session.get_bind().dialect.name == "postgresql":
                    session.execute(select(func.pg_advisory_xact_lock(CLAIM_LOCK)))
                queued, busy, loads = _queue_view(session)
                for candidate in claim_order(queued, busy, loads, per_installation):
                    if _start(session, candidate.run_id, lease_seconds, (candidate.installation_id, per_installation)):
                        claimed = candidate.run_id
                        break
                else:
                    return None
        except IntegrityError:  # a run started outside this protocol won the repository: look again
            continue
        return get_run(db, claimed)
    return None


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
            attempts, metrics = report.attempts, (*report.metrics, *_research_metrics(report.plan))
    values["attempt_count"] = len(values["report"].get("attempts", [])) if values.get("report") else 0
    with scope(db) as session:
        session.execute(
            update(Run).where(Run.id == run_id).values(**values).execution_options(synchronize_session=False)
        )
        record_attempts(session, run_id, attempts)
        record_metrics(session, run_id, metrics)


def _research_metrics(plan: Any) -> tuple[Metric, ...]:
    """What research measured of base that the run history keeps besides the change's metrics: the test-gap
    sample's score (the status pages chart it over runs)."""
    gaps = getattr(plan, "test_gaps", None)
    if gaps is None or gaps.score is None:
        return ()
    return (Metric(TEST_GAPS_METRIC, gaps.score, None, "higher", "%"),)


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
