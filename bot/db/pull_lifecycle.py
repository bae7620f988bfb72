"""The `pull_lifecycles` table: each Evolve PR's state after it opened (see `bot.handlers.ci_events`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select

from bot.db._scope import Db, scope
from bot.db.models import PULL_STATES, DashboardIssue, PullLifecycle, as_utc, utcnow

ATTEMPT_LIMIT = 3  # attempts inside the gates and after CI, together
DONE_STATES = frozenset({"merged", "stopped", "closed", "hands-off"})  # nothing more happens on its own


@dataclass(frozen=True)
class PullState:
    """A row of `pull_lifecycles` as a value."""

    repository_id: int
    pr_number: int
    branch: str
    head_sha: str
    state: str
    attempts: int
    ci_retries: int
    reason: str
    automerged: bool

    @property
    def done(self) -> bool:
        """Whether the bot leaves the PR alone from here on (merged, stopped, closed, or someone else pushed)."""
        return self.state in DONE_STATES

    def describe(self) -> str:
        """One line for the dashboard and the status pages: `retrying 2/3`, `stopped: why`, ..."""
        if self.state == "retrying":
            return f"retrying {self.attempts + 1}/{ATTEMPT_LIMIT}"
        if self.state == "waiting":
            return "waiting for CI"
        if self.state == "merged":
            return "merged by Evolve" if self.automerged else "merged"
        if self.state == "green":
            return f"green: {self.reason}" if self.reason else "green"
        return f"{self.state}: {self.reason}" if self.reason else self.state


def _value(row: PullLifecycle) -> PullState:
    return PullState(
        row.repository_id,
        row.pr_number,
        row.branch,
        row.head_sha,
        row.state,
        row.attempts,
        row.ci_retries,
        row.reason,
        row.automerged,
    )


def get_pull_state(db: Db, repository_id: int, pr_number: int) -> PullState | None:
    """The PR's state, None when the bot never published it."""
    with scope(db) as session:
        row = session.get(PullLifecycle, (repository_id, pr_number))
        return _value(row) if row is not None else None


def set_pull_state(db: Db, repository_id: int, pr_number: int, **fields: Any) -> PullState:
    """Create or update the PR's row with `fields` (state, head_sha, attempts, ...); the new value."""
    state = fields.get("state")
    if state is not None and state not in PULL_STATES:
        raise ValueError(f"state must be one of {PULL_STATES}, not {state!r}")
    with scope(db) as session:
        row = session.get(PullLifecycle, (repository_id, pr_number), with_for_update=True)
        if row is None:
            row = PullLifecycle(
                repository_id=repository_id,
                pr_number=pr_number,
                branch="",
                head_sha="",
                state="waiting",
                attempts=0,
                ci_retries=0,
                reason="",
                automerged=False,
            )
            session.add(row)
        for key, value in fields.items():
            setattr(row, key, value)
        row.updated_at = utcnow()
        session.flush()
        return _value(row)


HANDS_OFF_REASON = "someone else pushed to the branch; Evolve no longer touches it"


def mark_hands_off(db: Db, repository_id: int, pr_number: int, head_sha: str) -> PullState:
    """Someone else pushed to the PR's branch (`head_sha` is not Evolve's): nothing touches the PR from now on."""
    return set_pull_state(db, repository_id, pr_number, state="hands-off", head_sha=head_sha, reason=HANDS_OFF_REASON)


def pull_states(db: Db, repository_id: int) -> dict[int, PullState]:
    """Every PR state of a repository, by PR number."""
    with scope(db) as session:
        rows = session.scalars(select(PullLifecycle).where(PullLifecycle.repository_id == repository_id))
        return {row.pr_number: _value(row) for row in rows}


def lifecycle_totals(db: Db) -> dict[str, int]:
    """CI retries and automerges across every repository (for the status pages)."""
    with scope(db) as session:
        retries = session.scalar(select(func.coalesce(func.sum(PullLifecycle.ci_retries), 0)))
        merged = session.scalar(select(func.count()).where(PullLifecycle.automerged.is_(True)))
    return {"ci_retries": int(retries or 0), "automerges": int(merged or 0)}


def states_newer_than_dashboard(db: Db, repository_id: int) -> bool:
    """Whether a PR's state changed after the dashboard issue was last drawn (it should be redrawn)."""
    with scope(db) as session:
        changed = session.scalar(
            select(func.max(PullLifecycle.updated_at)).where(PullLifecycle.repository_id == repository_id)
        )
        drawn = session.scalar(select(DashboardIssue.updated_at).where(DashboardIssue.repository_id == repository_id))
    changed, drawn = as_utc(changed), as_utc(drawn)
    return changed is not None and (drawn is None or changed > drawn)
