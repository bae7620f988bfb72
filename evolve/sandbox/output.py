"""Draining a command's stdout and stderr as they come, keeping a bounded head and tail of each.

The evolve process never holds more than the cap per stream, however much the command prints; the child never
blocks on a full pipe, because both pipes are read continuously until the deadline.
"""

from __future__ import annotations

import os
import selectors
import time
from collections.abc import Callable

CHUNK = 64 * 1024
TRUNCATION_MARK = "\n…[{omitted} bytes of output omitted]…\n"


class CappedCapture:
    """The first quarter and the last three quarters of `limit` bytes of one stream; the middle is dropped."""

    def __init__(self, limit: int) -> None:
        self.head_limit = max(limit // 4, 0)
        self.tail_limit = max(limit - self.head_limit, 0)
        self.head = bytearray()
        self.tail = bytearray()
        self.total = 0

    def feed(self, data: bytes) -> None:
        """Add one chunk, trimming the tail in amortised O(1) per byte."""
        self.total += len(data)
        room = self.head_limit - len(self.head)
        if room > 0:
            self.head += data[:room]
            data = data[room:]
        if not data:
            return
        self.tail += data
        if len(self.tail) > 2 * self.tail_limit:
            del self.tail[: len(self.tail) - self.tail_limit]

    @property
    def truncated(self) -> bool:
        """Whether some of the stream was dropped."""
        return self.total > self.head_limit + self.tail_limit

    def text(self) -> str:
        """The kept bytes, decoded; a marker says how much was omitted."""
        tail = bytes(self.tail[-self.tail_limit :]) if self.tail_limit else b""
        omitted = self.total - len(self.head) - len(tail)
        middle = TRUNCATION_MARK.format(omitted=omitted).encode() if omitted > 0 else b""
        return (bytes(self.head) + middle + tail).decode("utf-8", "replace")


POLL_SECONDS = 0.2


def drain(streams: dict[int, CappedCapture], deadline: float, stop: Callable[[], bool] | None = None) -> bool:
    """Read every file descriptor into its capture until all reach end of file (True), or `deadline` passes
    or `stop()` says so (False)."""
    selector = selectors.DefaultSelector()
    for descriptor in streams:
        os.set_blocking(descriptor, False)
        selector.register(descriptor, selectors.EVENT_READ)
    try:
        while selector.get_map():
            remaining = deadline - time.monotonic()
            if remaining <= 0 or (stop is not None and stop()):
                return False
            for key, _events in selector.select(timeout=min(remaining, POLL_SECONDS)):
                try:
                    data = os.read(key.fd, CHUNK)
                except BlockingIOError:
                    continue
                if data:
                    streams[key.fd].feed(data)
                else:
                    selector.unregister(key.fd)
        return True
    finally:
        selector.close()
