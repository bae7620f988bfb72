"""Live progress of a pytest run in the sandbox: tests done / total, as the suite runs.

A small pytest plugin (its source below, written into the run's output directory, the one place the sandbox
writes back) rewrites a two-number file as tests finish; a thread outside the sandbox polls that file and reports
changes. The numbers come from repository code, so they are only ever displayed: parsed as two bounded integers,
never trusted for a result.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path
from types import TracebackType

from evolve.sandbox import read_output_file

TestProgress = Callable[[int, int], None]  # (tests done, tests collected)

PLUGIN_MODULE = "evolve_progress_plugin"
PROGRESS_FILE = "progress"
POLL_SECONDS = 0.25
_LIMIT = 10_000_000  # no real suite has more tests; anything larger is noise
_MAX_PROGRESS_BYTES = 64

PLUGIN_SOURCE = '''"""Written by Evolve: reports tests done / total to the file named by EVOLVE_PROGRESS_FILE."""
import os
import time

_path = os.environ.get("EVOLVE_PROGRESS_FILE")
_state = {"done": 0, "total": 0, "written": 0.0}


def _write(force=False):
    now = time.monotonic()
    if not _path or (not force and now - _state["written"] < 0.2):
        return
    _state["written"] = now
    try:
        with open(_path + ".tmp", "w") as handle:
            handle.write("%d %d\\n" % (_state["done"], _state["total"]))
        os.replace(_path + ".tmp", _path)
    except OSError:
        pass


def pytest_collection_finish(session):
    _state["total"] = len(session.items)
    _write(force=True)


def pytest_runtest_logfinish(nodeid, location):
    _state["done"] += 1
    _write(force=_state["done"] == _state["total"])
'''


def install_plugin(outputs: Path) -> None:
    """Write the plugin module into the run's output directory (put on the sandboxed PYTHONPATH)."""
    (outputs / f"{PLUGIN_MODULE}.py").write_text(PLUGIN_SOURCE, encoding="utf-8")


def read_progress(outputs: Path) -> tuple[int, int] | None:
    """The last (done, total) the plugin wrote, or None when there is none or it is not two small integers."""
    # Never a plain open(): the suite may leave a FIFO (or a link, a socket, a huge file) at this name, and the
    # watcher would block on it for ever. read_output_file opens non-blocking, without following links, and
    # reads only a regular file of a few bytes.
    data = read_output_file(outputs, PROGRESS_FILE, _MAX_PROGRESS_BYTES)
    if data is None:
        return None
    try:
        words = data.split()
        done, total = int(words[0]), int(words[1])
    except (ValueError, IndexError):
        return None
    if not (0 <= done <= _LIMIT and 0 <= total <= _LIMIT):
        return None
    return done, total


class ProgressWatcher:
    """While the block runs, reports each new (done, total) the sandboxed suite writes to `outputs`."""

    def __init__(self, outputs: Path, report: TestProgress) -> None:
        self.outputs = outputs
        self.report = report
        self.last: tuple[int, int] | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, name="evolve-test-progress", daemon=True)

    def __enter__(self) -> ProgressWatcher:
        self._thread.start()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self._stop.set()
        self._thread.join()
        self._poll()  # the final count, written as the suite ended

    def _watch(self) -> None:
        while not self._stop.wait(POLL_SECONDS):
            self._poll()

    def _poll(self) -> None:
        seen = read_progress(self.outputs)
        if seen is not None and seen != self.last:
            self.last = seen
            try:
                self.report(*seen)
            except Exception:  # a display problem must never break a test run
                pass
