"""What earlier runs of a repository did: the PRs they produced, how many ran lately, the commits they pushed."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import func, select

from bot.db._scope import Db, scope
from bot.db.models import PROutcome, Run, utcnow
from evolve.run_status import RunStatus


def pr_codemods(db: Db, repository_id: int, pr_number: int) -> tuple[list[str], int | None, str | None]:
    """Codemod ids of the newest run that produced PR `pr_number`, that run's id and theme."""
    with scope(db) as session:
        query = (
            select(Run)
            .where(Run.repository_id == repository_id, Run.pr_number == pr_number, Run.report.is_not(None))
            .order_by(Run.id.desc())
        )
        for run in session.scalars(query):
            codemods = [
                str(m["id"]) for m in (run.report or {}).get("codemods", []) if isinstance(m, dict) and m.get("id")
            ]
            if codemods or run.theme:
                return sorted(set(codemods)), run.id, run.theme
    return [], None, None


def runs_last_hour(db: Db, repository_id: int, now: datetime | None = None) -> int:
    """Runs of the last hour that were not turned away by a limit (plans do not count)."""
    since = (now or utcnow()) - timedelta(hours=1)
    with scope(db) as session:
        query = (
            select(func.count())
            .select_from(Run)
            .where(
                Run.repository_id == repository_id,
                Run.created_at >= since,
                Run.status != RunStatus.CANCELLED,
                Run.trigger != "plan",
            )
        )
        return int(session.scalar(query) or 0)


def pushed_commits(db: Db, repository_id: int) -> frozenset[str]:
    """Every commit an Evolve run pushed to this repository."""
    with scope(db) as session:
        query = select(Run.head_sha).where(Run.repository_id == repository_id, Run.head_sha.is_not(None))
        return frozenset(str(sha) for sha in session.scalars(query))


def run_for_review(db: Db, repository_id: int, pr_number: int, commit_id: str | None) -> Run | None:
    """The run whose PR version was reviewed: the one that pushed `commit_id`, else the PR's newest run."""
    query = (
        select(Run)
        .where(Run.repository_id == repository_id, Run.pr_number == pr_number, Run.report.is_not(None))
        .order_by(Run.id.desc())
    )
    with scope(db) as session:
        runs = list(session.scalars(query))
    return next((r for r in runs if commit_id and r.head_sha == commit_id), runs[0] if runs else None)


def closed_unmerged(db: Db, repository_id: int) -> set[tuple[int, str]]:
    """(PR number, codemod) of every bot PR closed without merging."""
    query = select(PROutcome).where(PROutcome.repository_id == repository_id, PROutcome.outcome == "closed")
    with scope(db) as session:
        return {(row.pr_number, row.codemod) for row in session.scalars(query)}
