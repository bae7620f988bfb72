"""Notes the bot keeps on a run row, in its `options` JSON: the open progress check run, the
reviews of the PR version it produced, and which closed PR a retry replaces.

The column already exists on every run, so these notes need no migration. Each update reads and
writes the dict in one transaction (row-locked where the database supports it), because a review
and a run's own bookkeeping may touch the same row.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import select

from bot.db._scope import scope
from bot.db.models import Run
from bot.db.outcomes import touch_learning

PROGRESS_CHECK = "progress_check"  # id of the in-progress `evolve/gates` check run on the base commit
REVIEWS = "reviews"  # reviewer login (lower case) -> latest review state
RETRY_OF = "retry_of"  # number of the closed PR this run replaces
CI_FEEDBACK = "ci_feedback"  # {"result": a failed `ci` GateResult dict, "attempts_used": n}: CI failed the change
MERGE_SHA = "merge_sha"  # the green head a `merge` run merges (and nothing else)


def run_notes(db: Any, run_id: int) -> dict[str, Any]:
    """A copy of a run's notes ({} when it has none or does not exist)."""
    with db() as session:
        notes = session.scalar(select(Run.options).where(Run.id == run_id))
    return dict(notes) if isinstance(notes, dict) else {}


def update_run_notes(
    db: Any, run_id: int, change: Callable[[dict[str, Any]], None], *, learned: bool = False
) -> dict[str, Any]:
    """Apply `change` to a run's notes in place and store them; returns the new notes. `learned`: the change
    moves what the repository's learning table shows (a review), so its cached copies are stale."""
    with db.begin() as session:
        run = session.scalars(select(Run).where(Run.id == run_id).with_for_update()).first()
        if run is None:
            return {}
        notes = dict(run.options) if isinstance(run.options, dict) else {}
        change(notes)
        run.options = notes  # a new dict: SQLAlchemy does not see in-place changes of a JSON value
        if learned:
            touch_learning(session, run.repository_id)
    return notes


def runs_with_note(db: Any, repository_id: int, key: str, *, pr_only: bool = False) -> list[Run]:
    """Runs of a repository whose notes hold `key` (newest first).

    The scan reads only ids and notes; full rows (reports) are loaded for the few that match.
    """
    scan = select(Run.id, Run.options).where(Run.repository_id == repository_id, Run.options.is_not(None))
    if pr_only:
        scan = scan.where(Run.pr_number.is_not(None))
    with scope(db) as session:
        ids = [run_id for run_id, notes in session.execute(scan) if isinstance(notes, dict) and notes.get(key)]
        if not ids:
            return []
        return list(session.scalars(select(Run).where(Run.id.in_(ids)).order_by(Run.id.desc())))
