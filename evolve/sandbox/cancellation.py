"""Stopping a run from outside: the caller sets an event; the engine checks it between steps and the sandbox
while a child runs (the child's whole process group is killed at once).

The event travels in a context variable, so it reaches the engine's thread (`asyncio.to_thread` copies the
caller's context) and threads the engine starts with `in_context`, without passing through every signature.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar, copy_context
from typing import Any, TypeVar

T = TypeVar("T")
_EVENT: ContextVar[threading.Event | None] = ContextVar("evolve_cancel_event", default=None)


class RunCancelled(Exception):
    """The run was asked to stop (its time limit, or another worker took it over)."""


@contextmanager
def cancel_scope(event: threading.Event) -> Iterator[threading.Event]:
    """Work started inside (in this thread, or a thread or task that copies its context) stops once `event` is set."""
    token = _EVENT.set(event)
    try:
        yield event
    finally:
        _EVENT.reset(token)


def stop_requested() -> bool:
    """Whether the current run was asked to stop."""
    event = _EVENT.get()
    return event is not None and event.is_set()


def check() -> None:
    """Raise `RunCancelled` when the current run was asked to stop (call it between steps)."""
    if stop_requested():
        raise RunCancelled("the run was asked to stop")


def in_context(function: Callable[..., T]) -> Callable[..., T]:
    """`function` bound to a copy of the current context, for a thread pool (which would not carry it)."""
    context = copy_context()

    def bound(*args: Any, **kwargs: Any) -> T:
        return context.run(function, *args, **kwargs)

    return bound
