"""Progress display for long steps, on stderr, so stdout stays clean for `--json`.

On a terminal: a live `rich` display, one line per step in progress, with a bar and "done/total" for counted
steps (the test run: tests done / collected, base and head side by side). Otherwise: one plain line per step, and
one when a counted step completes, so logs and CI output stay readable.
"""

from __future__ import annotations

import sys
import threading
import time
from typing import TextIO

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TaskID, TextColumn, TimeElapsedColumn


class StepProgress:
    """Called as `progress(step, done, total)` from the engine (any thread); `close()` ends the display."""

    def __init__(self, stream: TextIO = sys.stderr, enabled: bool = True) -> None:
        self.stream = stream
        self.enabled = enabled
        self.interactive = stream.isatty()
        self.started = time.monotonic()
        self._lock = threading.Lock()
        self._printed: set[str] = set()
        # Each step shown: its rich task id and whether it is counted. Kept here, not looked up in
        # `Progress.tasks` (a list that `remove_task` shortens, so an id is no index into it).
        self._tasks: dict[str, tuple[TaskID, bool]] = {}
        self._live: Progress | None = None
        if enabled and self.interactive:
            self._live = Progress(
                SpinnerColumn(),
                TextColumn("{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                TimeElapsedColumn(),
                console=Console(file=stream),
                transient=True,
            )
            self._live.start()

    def __call__(self, step: str, done: int, total: int) -> None:
        """Report progress of `step`: `done` of `total` units (total <= 1: a step without a count)."""
        if not self.enabled:
            return
        with self._lock:
            if self._live is not None:
                self._show(self._live, step, done, total)
            else:
                self._print(step, done, total)

    def _show(self, live: Progress, step: str, done: int, total: int) -> None:
        counted = total > 1
        for other, (task, other_counted) in list(self._tasks.items()):
            # A step without a count ends when the next step is reported; counted ones end at their total.
            if other != step and not other_counted:
                live.remove_task(task)
                del self._tasks[other]
        known = self._tasks.get(step)
        if known is None:
            task = live.add_task(step, total=total if counted else None, completed=done)
        else:
            task = known[0]
            live.update(task, total=total if counted else None, completed=done)
        self._tasks[step] = (task, counted)
        live.refresh()  # show it now, not at the next tick of rich's refresh thread

    def _print(self, step: str, done: int, total: int) -> None:
        elapsed = time.monotonic() - self.started
        if step not in self._printed:
            self._printed.add(step)
            self.stream.write(f"[{elapsed:6.1f}s] {step}\n")
        elif total > 1 and done == total and f"{step} done" not in self._printed:
            self._printed.add(f"{step} done")
            self.stream.write(f"[{elapsed:6.1f}s] {step}: {done}/{total}\n")
        else:
            return
        self.stream.flush()

    def interrupt(self, message: str) -> None:
        """End the display at once and show `message` (Ctrl-C: shown even with --quiet); report nothing more."""
        with self._lock:
            self.enabled = False
            self.close()
            self.stream.write(message + "\n")
            self.stream.flush()

    def close(self) -> None:
        """End the display (the terminal lines disappear; plain output is left as it is)."""
        if self._live is not None:
            self._live.stop()
            self._live = None
