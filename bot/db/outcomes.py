"""Learning from reviews: proposals and outcomes per repository and codemod, and the acceptance they imply."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from bot.db._scope import Db, scope
from bot.db.models import OUTCOMES, CodemodStat, PROutcome, Repository, utcnow

if TYPE_CHECKING:
    from sqlalchemy.orm import Session


def _stat(session: Session, repository_id: int, codemod: str) -> CodemodStat:
    row = session.get(CodemodStat, (repository_id, codemod))
    if row is None:
        row = CodemodStat(repository_id=repository_id, codemod=codemod, proposed=0, merged=0, closed=0)
        session.add(row)
        session.flush()
    return row


def record_proposed(db: Db, repository_id: int, codemods: Iterable[str]) -> None:
    """Count one proposal (an opened bot PR) for each codemod."""
    with scope(db) as session:
        for codemod in sorted(set(codemods)):
            _stat(session, repository_id, codemod)
            session.execute(
                update(CodemodStat)
                .where(CodemodStat.repository_id == repository_id, CodemodStat.codemod == codemod)
                .values(proposed=CodemodStat.proposed + 1)
                .execution_options(synchronize_session=False)
            )
        touch_learning(session, repository_id)


def record_outcome(
    db: Db, repository_id: int, pr_number: int, codemods: Iterable[str], outcome: str, *, run_id: int | None = None
) -> list[str]:
    """Record merged/closed for each codemod of a PR, once per (repository, PR, codemod).

    Returns the codemods newly recorded (a redelivered `closed` event records nothing twice).
    """
    if outcome not in OUTCOMES:
        raise ValueError(f"outcome must be one of {OUTCOMES}, not {outcome!r}")
    recorded: list[str] = []
    for codemod in sorted(set(codemods)):
        try:
            with scope(db) as session:
                with session.begin_nested():
                    session.add(
                        PROutcome(
                            repository_id=repository_id,
                            pr_number=pr_number,
                            codemod=codemod,
                            outcome=outcome,
                            run_id=run_id,
                        )
                    )
                    session.flush()
                _stat(session, repository_id, codemod)
                column = getattr(CodemodStat, outcome)
                session.execute(
                    update(CodemodStat)
                    .where(CodemodStat.repository_id == repository_id, CodemodStat.codemod == codemod)
                    .values({outcome: column + 1})
                    .execution_options(synchronize_session=False)
                )
                touch_learning(session, repository_id)
            recorded.append(codemod)
        except IntegrityError:
            continue  # already recorded for this PR
    return recorded


def touch_learning(db: Db, repository_id: int) -> None:
    """Mark what was learned in a repository as changed: its row's `updated_at` moves, which is the version a
    cached learning table (`bot.outcomes.acceptance.learning_table`) is checked against, in every process."""
    with scope(db) as session:
        session.execute(
            update(Repository)
            .where(Repository.id == repository_id)
            .values(updated_at=utcnow())
            .execution_options(synchronize_session=False)
        )


def codemod_stats(db: Db, repository_id: int) -> list[CodemodStat]:
    """Counts per codemod for one repository, sorted by codemod id."""
    with scope(db) as session:
        query = select(CodemodStat).where(CodemodStat.repository_id == repository_id).order_by(CodemodStat.codemod)
        return list(session.scalars(query))


def acceptance_for(
    db: Db, repository_id: int, reenabled: Iterable[str] = ()
) -> tuple[dict[str, float], frozenset[str]]:
    """Learned acceptance per codemod and the codemods blocked in this repository (for `RunOptions`)."""
    from evolve.plan.learning import acceptance_rate, is_blocked

    allowed = set(reenabled)
    stats = codemod_stats(db, repository_id)
    rates = {s.codemod: acceptance_rate(s.merged, s.closed) for s in stats}
    blocked = frozenset(s.codemod for s in stats if is_blocked(s.closed, s.codemod in allowed))
    return rates, blocked
