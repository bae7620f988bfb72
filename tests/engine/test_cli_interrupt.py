"""`run_interruptible`: the command's work in its own thread, so Ctrl-C is taken at once and reaches the work as a
stop request (the sandbox kills its child on it); results and errors of the work pass through unchanged."""

from __future__ import annotations

import signal
import threading
import time

import pytest

from evolve.cli.interrupt import STOPPING, Interrupted, run_interruptible
from evolve.sandbox.cancellation import stop_requested


def test_the_result_and_the_errors_of_the_work_pass_through():
    assert run_interruptible(lambda: 42) == 42
    with pytest.raises(ValueError, match="bad input"):
        run_interruptible(lambda: (_ for _ in ()).throw(ValueError("bad input")))


def test_ctrl_c_says_stopping_and_the_work_sees_the_stop_request():
    said: list[str] = []
    saw_stop = threading.Event()

    def work() -> str:
        deadline = time.monotonic() + 30
        while not stop_requested() and time.monotonic() < deadline:
            time.sleep(0.01)
        saw_stop.set()
        return "finished"

    threading.Timer(0.3, signal.raise_signal, (signal.SIGINT,)).start()  # the terminal's Ctrl-C
    with pytest.raises(Interrupted):
        run_interruptible(work, say=said.append, grace=10)
    assert said == [STOPPING] and saw_stop.is_set()
    assert not stop_requested()  # the request belonged to that work only
