"""SQLAlchemy 2 models of the bot's tables; Alembic migrations in `bot/db/migrations` create them."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any, ClassVar

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    select,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, column_property, mapped_column

from evolve.run_status import RunStatus

# Stable constraint names so migrations behave the same on SQLite and PostgreSQL.
NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

DELIVERY_STATUSES = ("queued", "processing", "processed", "failed", "ignored")
RUN_STATUSES = tuple(status.value for status in RunStatus if status is not RunStatus.DRY_RUN)
ACTIVE_RUN_STATUSES = (RunStatus.QUEUED.value, RunStatus.RUNNING.value)
OUTCOMES = ("merged", "closed")


def utcnow() -> datetime:
    """The current time, timezone-aware UTC."""
    return datetime.now(timezone.utc)


def as_utc(value: datetime | None) -> datetime | None:
    """Attach UTC to a naive datetime (SQLite returns them naive)."""
    if value is not None and value.tzinfo is None:
        return value.replace(tzinfo=timezone.utc)
    return value


class Base(DeclarativeBase):
    """Declarative base with the project's naming convention."""

    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map: ClassVar[dict[Any, Any]] = {dict[str, Any]: JSON, datetime: DateTime(timezone=True)}


class Installation(Base):
    """A GitHub App installation (id is GitHub's installation id)."""

    __tablename__ = "installations"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    account_login: Mapped[str] = mapped_column(String(255), default="")
    account_type: Mapped[str] = mapped_column(String(32), default="")
    repository_selection: Mapped[str] = mapped_column(String(16), default="")
    suspended: Mapped[bool] = mapped_column(Boolean, default=False)
    deleted: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class Repository(Base):
    """A repository the app can see; `enrolled` ones get scheduled runs and accept commands."""

    __tablename__ = "repositories"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    full_name: Mapped[str] = mapped_column(String(255), index=True)
    installation_id: Mapped[int | None] = mapped_column(
        BigInteger, ForeignKey("installations.id", ondelete="SET NULL"), index=True
    )
    enrolled: Mapped[bool] = mapped_column(Boolean, default=True)
    paused: Mapped[bool] = mapped_column(Boolean, default=False)
    schedule: Mapped[str] = mapped_column(String(64), default="0 6 * * 1")
    default_branch: Mapped[str] = mapped_column(String(255), default="main")
    private: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class Delivery(Base):
    """One accepted webhook delivery, recorded before the 202 and processed by a job."""

    __tablename__ = "deliveries"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    delivery_id: Mapped[str] = mapped_column(String(64), unique=True)
    event: Mapped[str] = mapped_column(String(64))
    action: Mapped[str | None] = mapped_column(String(64))
    installation_id: Mapped[int | None] = mapped_column(BigInteger)
    received_at: Mapped[datetime] = mapped_column(default=utcnow)
    status: Mapped[str] = mapped_column(String(16), default="queued", index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str | None] = mapped_column(Text)
    lease_until: Mapped[datetime | None] = mapped_column()
    processed_at: Mapped[datetime | None] = mapped_column()
    # HMAC of (delivery id, event, payload) by the web process (bot/db/delivery_seal.py); workers dispatch
    # only rows whose seal matches. NULL: written by something else, or before migration 0010.
    seal: Mapped[str | None] = mapped_column(String(64))
    if TYPE_CHECKING:  # the column_property assigned below the models, read through to `delivery_payloads`
        payload: Mapped[str]


class CommandComment(Base):
    """A comment whose command was acted on: (comment id, edit time) acts once, whichever delivery brings it.

    GitHub comment ids are unique per GitHub instance; `updated_at` is the comment's own edit time,
    so an edited comment is a new command and a replayed or redelivered one is not. `delivery_id`
    is the delivery that claimed it: the same delivery processed again (a job retried after a crash)
    may finish what it started.
    """

    __tablename__ = "command_comments"
    __table_args__ = (UniqueConstraint("comment_id", "updated_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    comment_id: Mapped[int] = mapped_column(BigInteger)
    updated_at: Mapped[str] = mapped_column(String(40))
    delivery_id: Mapped[str] = mapped_column(String(64))
    repository_id: Mapped[int | None] = mapped_column(BigInteger)
    verb: Mapped[str] = mapped_column(String(16))
    claimed_at: Mapped[datetime] = mapped_column(default=utcnow)


class GitHubWrite(Base):
    """One GitHub write (comment, check run, pull request) by its idempotency key: its intent is
    recorded before the write and `done` (with what GitHub returned) after it, so a job replayed after
    a crash either reuses the result or, when only the intent is there, looks on GitHub for the marker
    the write carried before writing again."""

    __tablename__ = "github_writes"

    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))  # comment | check_run | pull
    done: Mapped[bool] = mapped_column(Boolean, default=False)
    result_id: Mapped[int | None] = mapped_column(BigInteger)
    intended_at: Mapped[datetime] = mapped_column(default=utcnow)


class DeliveryPayload(Base):
    """The body of a delivery exactly as GitHub sent it (JSON text: no re-serialisation on the hot
    path). Insert-only and apart from `deliveries`, so status changes rewrite a small row, not the
    payload (kilobytes, SQLite overflow pages). Its id is the delivery's row id."""

    __tablename__ = "delivery_payloads"

    id: Mapped[int] = mapped_column(
        Integer, ForeignKey("deliveries.id", ondelete="CASCADE"), primary_key=True, autoincrement=False
    )
    payload: Mapped[str] = mapped_column(Text)


# `Delivery.payload` reads through to `delivery_payloads` (loaded with the row by ORM queries;
# the hot paths in `bot.db.deliveries` use Core statements on both tables).
Delivery.payload = column_property(
    select(DeliveryPayload.payload)
    .where(DeliveryPayload.id == Delivery.id)
    .correlate_except(DeliveryPayload)
    .scalar_subquery()
)


class Run(Base):
    """One engine run on one repository (up to three attempts inside it)."""

    __tablename__ = "runs"
    __table_args__ = (
        Index("ix_runs_repository_status", "repository_id", "status"),
        # The status pages' run list: newest first, keyset-paginated on id, filtered by repository or status.
        Index("ix_runs_repository_id_id", "repository_id", "id"),
        Index("ix_runs_status_id", "status", "id"),
        # Open Evolve PRs per repository without reading run rows (their reports make them kilobytes each).
        Index("ix_runs_repository_id_pr_number", "repository_id", "pr_number"),
        # One running run per repository, enforced by the database (migration 0007).
        Index(
            "uq_runs_one_running_per_repository",
            "repository_id",
            unique=True,
            postgresql_where=text("status = 'running'"),
            sqlite_where=text("status = 'running'"),
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    repository_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("repositories.id", ondelete="CASCADE"))
    trigger: Mapped[str] = mapped_column(String(32))  # comment | schedule | retry | dashboard | push | cli
    focus: Mapped[str | None] = mapped_column(String(128))
    status: Mapped[str] = mapped_column(String(16), default="queued")
    theme: Mapped[str | None] = mapped_column(String(128))
    branch: Mapped[str | None] = mapped_column(String(255))
    pr_number: Mapped[int | None] = mapped_column(Integer)
    base_sha: Mapped[str | None] = mapped_column(String(64))
    head_sha: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column()
    finished_at: Mapped[datetime | None] = mapped_column()
    attempt_count: Mapped[int] = mapped_column(Integer, default=0)  # engine attempts in the report
    tries: Mapped[int] = mapped_column(Integer, default=0)  # times a worker started this run
    lease_until: Mapped[datetime | None] = mapped_column()
    report: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    markdown: Mapped[str | None] = mapped_column(Text)
    message: Mapped[str | None] = mapped_column(Text)
    options: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    idempotency_key: Mapped[str | None] = mapped_column(String(255), unique=True)
    requested_by: Mapped[str | None] = mapped_column(String(255))
    comment_issue_number: Mapped[int | None] = mapped_column(Integer)
    delivery_id: Mapped[str | None] = mapped_column(String(64))


class Attempt(Base):
    """One attempt of a run: its edits and whether the gates passed."""

    __tablename__ = "attempts"
    __table_args__ = (UniqueConstraint("run_id", "number", name="uq_attempts_run_number"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    run_id: Mapped[int] = mapped_column(Integer, ForeignKey("runs.id", ondelete="CASCADE"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    passed: Mapped[bool] = mapped_column(Boolean, default=False)
    edits: Mapped[dict[str, Any] | None] = mapped_column(JSON)  # {"files": [...], "narrowed": [...]}
    note: Mapped[str] = mapped_column(Text, default="")


class GateResultRow(Base):
    """One gate's verdict on one attempt."""

    __tablename__ = "gate_results"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    run_id: Mapped[int] = mapped_column(Integer, ForeignKey("runs.id", ondelete="CASCADE"), index=True)
    attempt_number: Mapped[int] = mapped_column(Integer)
    gate: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16))  # passed | failed | skipped | errored
    summary: Mapped[str] = mapped_column(Text, default="")
    result: Mapped[dict[str, Any] | None] = mapped_column(JSON)


class MetricSnapshot(Base):
    """One metric of a run, base versus head."""

    __tablename__ = "metric_snapshots"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    run_id: Mapped[int] = mapped_column(Integer, ForeignKey("runs.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(128))
    base: Mapped[float | None] = mapped_column()
    head: Mapped[float | None] = mapped_column()
    better: Mapped[str] = mapped_column(String(16), default="neutral")
    unit: Mapped[str] = mapped_column(String(32), default="")


class PROutcome(Base):
    """A reviewer's verdict on one codemod of one bot PR."""

    __tablename__ = "pr_outcomes"
    __table_args__ = (UniqueConstraint("repository_id", "pr_number", "codemod", name="uq_pr_outcomes_repo_pr_codemod"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    repository_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("repositories.id", ondelete="CASCADE"))
    pr_number: Mapped[int] = mapped_column(Integer)
    codemod: Mapped[str] = mapped_column(String(128))
    outcome: Mapped[str] = mapped_column(String(16))  # merged | closed
    run_id: Mapped[int | None] = mapped_column(Integer)
    recorded_at: Mapped[datetime] = mapped_column(default=utcnow)


class CodemodStat(Base):
    """Proposed / merged / closed counts per repository and codemod (feeds learned acceptance)."""

    __tablename__ = "codemod_stats"

    repository_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("repositories.id", ondelete="CASCADE"), primary_key=True
    )
    codemod: Mapped[str] = mapped_column(String(128), primary_key=True)
    proposed: Mapped[int] = mapped_column(Integer, default=0)
    merged: Mapped[int] = mapped_column(Integer, default=0)
    closed: Mapped[int] = mapped_column(Integer, default=0)


class DashboardIssue(Base):
    """The dashboard issue the App keeps in a repository: its number, its page comments and the skipped themes."""

    __tablename__ = "dashboard_issues"

    repository_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("repositories.id", ondelete="CASCADE"), primary_key=True, autoincrement=False
    )
    issue_number: Mapped[int | None] = mapped_column(Integer)
    page_comment_ids: Mapped[dict[str, Any] | None] = mapped_column(JSON)  # {"ids": [comment id, ...]}
    skipped_themes: Mapped[dict[str, Any] | None] = mapped_column(JSON)  # {"themes": [...]}
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class StatusSession(Base):
    """A login to the status pages: who (a GitHub login, or the operator) and what they may see. The cookie
    holds the session's random id, signed; only its SHA-256 is stored, so the table yields no usable cookie."""

    __tablename__ = "status_sessions"

    id_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    login: Mapped[str] = mapped_column(String(255))
    operator: Mapped[bool] = mapped_column(Boolean, default=False)
    # {"installations": [id, ...], "repositories": [id, ...]}: what GitHub listed for the user at login.
    access: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(index=True)


PULL_STATES = ("waiting", "retrying", "green", "merged", "stopped", "closed", "hands-off")


class PullLifecycle(Base):
    """Where an open Evolve PR stands after it was opened: waiting for the repository's CI, retrying n/3, green,
    merged, stopped (and why), closed, or hands-off (someone else pushed to its branch).

    `attempts` counts the attempts spent on the change, inside the gates and after CI together (at most three);
    `ci_retries` the runs started because CI failed; `head_sha` the commit the state is about.
    """

    __tablename__ = "pull_lifecycles"

    repository_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("repositories.id", ondelete="CASCADE"), primary_key=True, autoincrement=False
    )
    pr_number: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    branch: Mapped[str] = mapped_column(String(255), default="")
    head_sha: Mapped[str] = mapped_column(String(64), default="")
    state: Mapped[str] = mapped_column(String(16), default="waiting")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    ci_retries: Mapped[int] = mapped_column(Integer, default=0)
    reason: Mapped[str] = mapped_column(Text, default="")
    automerged: Mapped[bool] = mapped_column(Boolean, default=False)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
