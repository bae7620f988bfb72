"""Which queued run starts next: one run per repository, at most N per installation, installations in turn.

Pure policy, no I/O: `bot.db.runs.claim_next_run` reads the queue into these values, asks `claim_order`
for the order to try, and claims the first run it can.

The order is fair across installations: an installation with fewer running runs goes first; among equals,
the one whose last run started longest ago (never is longest), so installations take turns even when runs are
short and nobody is running; then the oldest queued run. Within a repository runs start oldest first.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timezone

NEVER = datetime.min.replace(tzinfo=timezone.utc)


@dataclass(frozen=True)
class QueuedRun:
    """A queued run as the claim sees it (`installation_id` is None for a repository without one)."""

    run_id: int
    repository_id: int
    installation_id: int | None


@dataclass(frozen=True)
class InstallationLoad:
    """What one installation is doing now: its running runs and when its last run started."""

    running: int = 0
    last_started: datetime | None = None


def _aware(moment: datetime | None) -> datetime:
    if moment is None:
        return NEVER
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=timezone.utc)


def claim_order(
    queued: Iterable[QueuedRun],
    busy_repositories: Iterable[int],
    loads: Mapping[int | None, InstallationLoad],
    limit: int,
) -> list[QueuedRun]:
    """The runs that may start now, in the order to try them.

    `queued`: queued runs; `busy_repositories`: repositories with a running run; `loads`: per installation;
    `limit`: most runs one installation may have running (at least 1).
    """
    if limit < 1:
        raise ValueError(f"the per-installation run limit must be at least 1, not {limit}")
    busy = set(busy_repositories)
    heads: dict[int, QueuedRun] = {}
    for run in queued:
        if run.repository_id in busy:
            continue
        head = heads.get(run.repository_id)
        if head is None or run.run_id < head.run_id:
            heads[run.repository_id] = run
    empty = InstallationLoad()
    eligible = [run for run in heads.values() if loads.get(run.installation_id, empty).running < limit]

    def key(run: QueuedRun) -> tuple[int, datetime, int]:
        load = loads.get(run.installation_id, empty)
        return load.running, _aware(load.last_started), run.run_id

    return sorted(eligible, key=key)
