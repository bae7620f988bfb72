"""What earlier runs of a repository did: the PRs they produced, how many ran lately, the commits they pushed."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import func, select

from bot.db._scope import Db, scope
from bot.db.models import Run, utcnow
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
