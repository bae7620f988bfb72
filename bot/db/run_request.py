"""`RunRequest`: what a new run is asked to do and for whom, as one value.

A comment command, a ticked dashboard box and a cron fire each build one; `JobQueue.enqueue_run` hands
it on unchanged to `RunExecution` and then to `store.create_run`, which records it as a queued run
(once per `idempotency_key`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class RunRequest:
    """The fields a queued run row is created with.

    `trigger` is where it came from (`comment`, `dashboard`, `schedule`, `manual`, ...); `focus` narrows
    what it plans; `requested_by`, `comment_issue_number` and `pr_number` say whom and where it answers;
    `idempotency_key` makes a redelivered request find the run it already queued; `options` are the
    request's own notes (stored with the run); `delivery_id` is the webhook delivery that asked.
    """

    repository_id: int
    trigger: str
    focus: str | None = None
    requested_by: str | None = None
    comment_issue_number: int | None = None
    idempotency_key: str | None = None
    options: dict[str, Any] | None = None
    delivery_id: str | None = None
    pr_number: int | None = None
