"""The one spelling of a run's status, for the engine's reports, the CLI and the App's store.

A `str` enum (Python 3.10 has no StrEnum): members compare equal to their values, serialise to them in JSON, SQL
and f-strings, so reports and database rows keep the same words they always had.
"""

from __future__ import annotations

from enum import Enum


class RunStatus(str, Enum):
    """Where a run stands: queued and running in the App's store; how it ended in a report and the store."""

    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"  # a change passed every gate: a branch (and, in the App, a pull request)
    FAILED = "failed"  # no change passed every gate within the attempts
    NOTHING_TO_DO = "nothing-to-do"
    DRY_RUN = "dry-run"  # the diff only; no branch
    ERROR = "error"  # bad input or an internal error; the message says which
    CANCELLED = "cancelled"

    def __str__(self) -> str:
        return self.value


# How an engine run can end (a report's status).
REPORT_STATUSES = (
    RunStatus.SUCCEEDED,
    RunStatus.FAILED,
    RunStatus.NOTHING_TO_DO,
    RunStatus.DRY_RUN,
    RunStatus.ERROR,
)
# Statuses after which a run in the App's store never changes again.
FINISHED_STATUSES = (
    RunStatus.SUCCEEDED,
    RunStatus.FAILED,
    RunStatus.NOTHING_TO_DO,
    RunStatus.ERROR,
    RunStatus.CANCELLED,
)
