"""Deadlines for many concurrent requests on one coarse timer.

`asyncio.timeout` arms and cancels a timer per use (a `TimerHandle`, a `Timeout` object, and on
uvloop a libuv timer), which costs the webhook endpoint more than verifying a delivery's signature.
:class:`Deadlines` instead records each watched task's deadline in a dict and checks them all from
one timer every `resolution` seconds, armed only while something is watched: a request that
overruns is cancelled at most `resolution` late, and a request that does not costs two dict
operations.
"""

from __future__ import annotations

import asyncio
from typing import Any

RESOLUTION = 0.25  # seconds: how late an overrunning task may be cancelled


class Deadlines:
    """Cancels watched tasks whose deadline passed (`watch` ... `done`), the way `asyncio.timeout` would."""

    def __init__(self, resolution: float = RESOLUTION) -> None:
        self.resolution = resolution
        self._watched: dict[asyncio.Task[Any], float] = {}  # task -> deadline in loop time
        self._expired: set[asyncio.Task[Any]] = set()  # cancelled by us, not yet `done`
        self._timer: asyncio.TimerHandle | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    def watch(self, seconds: float) -> asyncio.Task[Any]:
        """Cancel the current task if it has not called `done` within `seconds`; the task, for `done`."""
        task = asyncio.current_task()
        if task is None:  # pragma: no cover - only ever called from a request's task
            raise RuntimeError("Deadlines.watch needs a running task")
        loop = task.get_loop()
        self._watched[task] = loop.time() + seconds
        if self._timer is None or self._loop is not loop:
            self._loop = loop
            self._timer = loop.call_later(self.resolution, self._sweep)
        return task

    def done(self, task: asyncio.Task[Any]) -> None:
        """Stop watching `task`."""
        self._watched.pop(task, None)
        self._expired.discard(task)

    def expired(self, task: asyncio.Task[Any]) -> bool:
        """Whether `task` got its `CancelledError` from its deadline; if so the cancellation is taken
        back (`Task.uncancel`) unless someone else asked for one too, which the caller must honour."""
        if task not in self._expired:
            return False
        self._expired.discard(task)
        uncancel = getattr(task, "uncancel", None)  # Python 3.11+
        return uncancel is None or uncancel() == 0

    def _sweep(self) -> None:
        loop = self._loop
        if loop is None or not self._watched:
            self._timer = None
            return
        now = loop.time()
        late = [task for task, deadline in self._watched.items() if deadline <= now]
        for task in late:
            del self._watched[task]
            if not task.done():
                self._expired.add(task)
                task.cancel()
        self._timer = loop.call_later(self.resolution, self._sweep) if self._watched else None
