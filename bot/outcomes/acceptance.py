"""Learned acceptance per codemod in a repository: merges, closes, and reviews that request changes.

Weighting (one bot PR, one codemod it applied, counted once):

- merged: +1 merged; closed unmerged: +1 closed (the store's counts, `bot.db.outcomes`).
- a reviewer with write access whose latest review of the PR asked for changes: +0.5 closed
  (`CHANGES_REQUESTED_WEIGHT`), whether the PR is still open or merged later (it needed rework).
  A PR that is then closed unmerged counts only as the close, never as 1.5.

The rate keeps `evolve.plan.learning.acceptance_rate`'s meaning, (merged + 1) / (merged + closed + 2), with the
weighted changes-requested added to `closed`. Only real closes count towards blocking a codemod
(closed unmerged twice). Approvals and comments are recorded and shown in `/evolve status` but do not
move the rate: the merge is the positive signal.
"""

from __future__ import annotations

import threading
from collections import Counter, OrderedDict
from collections.abc import Hashable, Iterable
from dataclasses import dataclass
from typing import Any

from bot.db import store
from bot.db.models import Run
from bot.db.run_history import closed_unmerged
from bot.db.run_notes import REVIEWS, runs_with_note, update_run_notes

CHANGES_REQUESTED_WEIGHT = 0.5
REVIEW_STATES = ("approved", "changes_requested", "commented", "dismissed")
VERDICTS = ("approved", "changes_requested")


def weighted_acceptance(merged: int, closed: int, changes_requested: int = 0) -> float:
    """`evolve.plan.learning.acceptance_rate(merged, closed)` with each changes-requested PR as half a close."""
    if min(merged, closed, changes_requested) < 0:
        raise ValueError("counts cannot be negative")
    return (merged + 1) / (merged + closed + CHANGES_REQUESTED_WEIGHT * changes_requested + 2)


def next_review_state(previous: str | None, submitted: str) -> str:
    """A reviewer's standing after a new review: a mere comment does not undo an approval or a request."""
    if submitted == "commented" and previous in VERDICTS:
        return previous
    return submitted


def record_review(db: Any, run_id: int, reviewer: str, state: str) -> str:
    """Note a review on the run it reviewed; returns the reviewer's standing on that run."""
    if state not in REVIEW_STATES:
        raise ValueError(f"review state must be one of {REVIEW_STATES}, not {state!r}")
    login = reviewer.lower()
    standing: dict[str, str] = {}

    def change(notes: dict[str, Any]) -> None:
        reviews = dict(notes.get(REVIEWS) or {})
        reviews[login] = standing["state"] = next_review_state(reviews.get(login), state)
        notes[REVIEWS] = reviews

    update_run_notes(db, run_id, change, learned=True)
    return standing.get("state", state)


def _codemods(run: Run) -> set[str]:
    return {str(m["id"]) for m in (run.report or {}).get("codemods", []) if isinstance(m, dict) and m.get("id")}


def review_counts(db: Any, repository_id: int) -> dict[str, Counter[str]]:
    """Per codemod: how many of its PRs a writer approved, and how many had changes requested (and count)."""
    closed = closed_unmerged(db, repository_id)
    seen: dict[str, set[tuple[int, str]]] = {state: set() for state in VERDICTS}
    for run in runs_with_note(db, repository_id, REVIEWS, pr_only=True):
        states = set((run.options or {}).get(REVIEWS, {}).values())
        for state in VERDICTS:
            if state in states:
                seen[state].update((run.pr_number, c) for c in _codemods(run) if run.pr_number is not None)
    seen["changes_requested"] -= closed  # the close already says it
    counts: dict[str, Counter[str]] = {}
    for state, pairs in seen.items():
        for _pr, codemod in pairs:
            counts.setdefault(codemod, Counter())[state] += 1
    return counts


def learned_acceptance(
    db: Any, repository_id: int, reenabled: Iterable[str] = ()
) -> tuple[dict[str, float], frozenset[str]]:
    """`RunOptions.acceptance` and `RunOptions.blocked_codemods` for a repository, reviews included."""
    rates, blocked = store.acceptance_for(db, repository_id, reenabled)
    reviews = review_counts(db, repository_id)
    for stat in store.codemod_stats(db, repository_id):
        requested = reviews.get(stat.codemod, Counter())["changes_requested"]
        rates[stat.codemod] = weighted_acceptance(stat.merged, stat.closed, requested)
    return rates, blocked


@dataclass(frozen=True)
class CodemodLearning:
    """One row of `/evolve status`'s learning table."""

    codemod: str
    proposed: int
    merged: int
    closed: int
    approved: int
    changes_requested: int
    acceptance: float


CACHED_REPOSITORIES = 1024
# Per repository: (version, table). The version is the repository row's `updated_at`, which every write that
# changes what was learned moves (`bot.db.outcomes.touch_learning`), in whichever process it happens.
_LEARNED: OrderedDict[int, tuple[Hashable, tuple[CodemodLearning, ...]]] = OrderedDict()
_LEARNED_LOCK = threading.Lock()  # read in worker threads (asyncio.to_thread)


def learning_table(db: Any, repository_id: int, version: Hashable = None) -> tuple[CodemodLearning, ...]:
    """What the bot has learned in a repository, per codemod, sorted by codemod id.

    With `version` (the repository row's `updated_at`, read before this call), the table is computed once per
    version and kept in this process; without it, it is read from the database each time.
    """
    if version is not None:
        with _LEARNED_LOCK:
            cached = _LEARNED.get(repository_id)
            if cached is not None and cached[0] == version:
                _LEARNED.move_to_end(repository_id)
                return cached[1]
    table = _read_learning_table(db, repository_id)
    if version is not None:
        with _LEARNED_LOCK:
            _LEARNED[repository_id] = (version, table)
            _LEARNED.move_to_end(repository_id)
            while len(_LEARNED) > CACHED_REPOSITORIES:
                _LEARNED.popitem(last=False)
    return table


def _read_learning_table(db: Any, repository_id: int) -> tuple[CodemodLearning, ...]:
    reviews = review_counts(db, repository_id)
    rows = []
    for stat in store.codemod_stats(db, repository_id):
        counted = reviews.get(stat.codemod, Counter())
        rows.append(
            CodemodLearning(
                stat.codemod,
                stat.proposed,
                stat.merged,
                stat.closed,
                counted["approved"],
                counted["changes_requested"],
                weighted_acceptance(stat.merged, stat.closed, counted["changes_requested"]),
            )
        )
    return tuple(rows)
