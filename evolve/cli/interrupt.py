"""Ctrl-C during a long command: the first one stops it at once, whatever the command is waiting for.

The command's work runs in a thread of its own inside a cancel scope (`evolve.sandbox.cancellation`), so the main
thread is always free to take the interrupt. The first Ctrl-C says "stopping…" at once and asks the work to stop:
the sandbox kills its running child (the repository's tests, an install) within a few hundredths of a second and
the engine unwinds, cleaning up after itself. Work that is still busy after `grace` seconds (a long computation
that no check reaches) is not waited for: the process ends, and the next start sweeps what it left behind.
A second Ctrl-C ends the wait at once.
"""

from __future__ import annotations

import os
import sys
import threading
from collections.abc import Callable
from typing import TextIO, TypeVar

from evolve.cli.exit_codes import EXIT_INTERRUPTED
from evolve.sandbox.cancellation import cancel_scope, in_context

T = TypeVar("T")

STOPPING = "evolve: stopping… (Ctrl-C again to quit at once)"


class Interrupted(Exception):
    """The user pressed Ctrl-C and the work has stopped; the command exits with code 130."""


def run_interruptible(
    work: Callable[[], T],
    say: Callable[[str], None] | None = None,
    grace: float = 1.5,
) -> T:
    """`work()` in a thread; its result, or `Interrupted` once Ctrl-C stopped it (its own exceptions re-raised).

    `say` shows the "stopping…" line (the progress display ends first, so the line is not drawn over).
    """
    stop = threading.Event()
    finished = threading.Event()  # waited on rather than `Thread.join`, which an interrupt can leave confused
    outcome: list[T] = []
    failure: list[BaseException] = []

    def target() -> None:
        with cancel_scope(stop):
            try:
                outcome.append(work())
            except BaseException as error:  # handed to the main thread, which raises it
                failure.append(error)
            finally:
                finished.set()

    thread = threading.Thread(target=in_context(target), name="evolve-command", daemon=True)
    thread.start()
    try:
        while not finished.wait(0.1):  # a bounded wait, so the interrupt is taken at once
            pass
    except KeyboardInterrupt:
        (say or _say)(STOPPING)
        stop.set()
        try:
            done = finished.wait(grace)
        except KeyboardInterrupt:  # a second Ctrl-C: quit at once
            done = False
        if not done:
            _end_now()
        raise Interrupted from None
    if failure:
        raise failure[0]
    return outcome[0]


def _say(message: str, stream: TextIO | None = None) -> None:
    stream = stream or sys.stderr
    stream.write(message + "\n")
    stream.flush()


def _end_now() -> None:
    """End the process without waiting for threads that will not stop soon (their pools are joined at exit)."""
    _say("evolve: stopped")
    sys.stdout.flush()
    os._exit(EXIT_INTERRUPTED)
