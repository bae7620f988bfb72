"""Progress display for long steps, on stderr, so stdout stays clean for `--json`."""

from __future__ import annotations

import sys
import time
from typing import TextIO


class StepProgress:
    """Shows the current step; redraws one line on a terminal, prints one line per step otherwise."""

    def __init__(self, stream: TextIO = sys.stderr, enabled: bool = True) -> None:
        self.stream = stream
        self.enabled = enabled
        self.interactive = stream.isatty()
        self.step: str | None = None
        self.started = time.monotonic()

    def __call__(self, step: str, done: int, total: int) -> None:
        """Report progress of `step` (done of total units)."""
        if not self.enabled:
            return
        elapsed = time.monotonic() - self.started
        if self.interactive:
            count = f" {done}/{total}" if total > 1 else ""
            self.stream.write(f"\r\033[K[{elapsed:6.1f}s] {step}{count}")
            self.stream.flush()
        elif step != self.step:
            self.stream.write(f"[{elapsed:6.1f}s] {step}\n")
            self.stream.flush()
        self.step = step

    def close(self) -> None:
        """End the progress line."""
        if self.enabled and self.interactive and self.step is not None:
            self.stream.write("\r\033[K")
            self.stream.flush()
