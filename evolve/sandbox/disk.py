"""The disk a sandboxed run may fill on the host: its private tree copy and its output directory, summed.

`/tmp` and HOME are size-capped tmpfs inside bubblewrap, but the tree copy and `/work/out` live on the
host's disk, where a per-file limit (RLIMIT_FSIZE) does not stop a suite that writes many files. The run
is watched instead: the directories are measured at most once a second, and the caller stops the whole
tree of processes as soon as their sum passes the limit.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterable
from pathlib import Path

CHECK_INTERVAL = 1.0


def disk_usage(root: Path) -> int:
    """Bytes allocated under `root` (blocks, not apparent sizes: sparse files count as what they use)."""
    total = 0
    stack = [str(root)]
    while stack:
        directory = stack.pop()
        try:
            with os.scandir(directory) as entries:
                for entry in entries:
                    try:
                        info = entry.stat(follow_symlinks=False)
                    except OSError:
                        continue
                    total += info.st_blocks * 512
                    if entry.is_dir(follow_symlinks=False):
                        stack.append(entry.path)
        except OSError:
            continue
    return total


class DiskWatch:
    """Says whether the watched directories together use more than `limit` bytes, measuring at most once a second."""

    def __init__(self, directories: Iterable[Path | None], limit: int, interval: float = CHECK_INTERVAL) -> None:
        self.directories = tuple(d for d in directories if d is not None)
        self.limit = limit
        self.interval = interval
        self.exceeded = False
        self._next_check = 0.0

    def over_limit(self) -> bool:
        """True once the directories have been seen above the limit (it stays True)."""
        if self.exceeded or not self.directories:
            return self.exceeded
        now = time.monotonic()
        if now < self._next_check:
            return False
        self._next_check = now + self.interval
        self.exceeded = sum(disk_usage(d) for d in self.directories) > self.limit
        return self.exceeded
