"""Where `evolve serve` writes its log lines, cheaply: the intake logs one line per delivery.

`BatchedStreamHandler` formats each record at once (in the caller, with its context) but writes
INFO and DEBUG lines in batches: a background thread writes and flushes what has gathered every
`interval` seconds (one write for many lines instead of a write and a flush per line). A WARNING or
worse is written at once, with everything before it, and `close`/`flush` (logging's shutdown at
exit) write what is left, so only a process killed outright can lose the last `interval` of
INFO lines. `CachedTimeFormatter` formats the time stamp once per second instead of once per line.

`quicker_records` turns off what no formatter of ours prints: the caller's file and line (a frame
walk per record), thread, process and multiprocessing names.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import TextIO

INTERVAL = 0.05  # seconds an INFO line may wait before it is written
MAX_PENDING = 512  # lines; more are written at once
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"  # `evolve serve`'s text lines


class CachedTimeFormatter(logging.Formatter):
    """A `logging.Formatter` whose `%(asctime)s` (default date format) is built once per second."""

    def __init__(self, fmt: str | None = None) -> None:
        super().__init__(fmt)
        self._second = -1
        self._stamp = ""

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:
        """`YYYY-mm-dd HH:MM:SS,mmm` in local time, as `logging.Formatter` writes it."""
        if datefmt is not None:
            return super().formatTime(record, datefmt)
        second = int(record.created)
        if second != self._second:  # a race between threads at worst formats the same second twice
            self._stamp = super().formatTime(record, self.default_time_format)
            self._second = second
        return f"{self._stamp[:19]},{int(record.msecs):03d}"

    def text_line(self, name: str, message: str) -> str:
        """The INFO line `format` would write now for a record of logger `name` with `message` (only for
        `TEXT_FORMAT`), without building the record."""
        created = time.time()
        second = int(created)
        if second != self._second:
            self._stamp = time.strftime(self.default_time_format, self.converter(created))
            self._second = second
        return f"{self._stamp[:19]},{int((created - second) * 1000):03d} INFO {name}: {message}"


class BatchedStreamHandler(logging.StreamHandler):
    """A `StreamHandler` that writes INFO lines in batches from a thread, WARNING and worse at once."""

    def __init__(self, stream: TextIO | None = None, interval: float = INTERVAL) -> None:
        super().__init__(stream)
        self.interval = interval
        self._pending: list[str] = []
        self._wanted = threading.Event()
        self._closed = False
        self._writer = threading.Thread(target=self._write_forever, name="log-writer", daemon=True)
        self._writer.start()

    def emit(self, record: logging.LogRecord) -> None:
        """Format now; write now (WARNING and worse, or a full batch) or within `interval`."""
        try:
            line = self.format(record) + self.terminator
        except Exception:
            self.handleError(record)
            return
        self._pending.append(line)  # under the handler's lock (Handler.handle)
        if record.levelno >= logging.WARNING or len(self._pending) >= MAX_PENDING or self._closed:
            self._write_pending()
        elif len(self._pending) == 1:
            self._wanted.set()

    def add_line(self, line: str) -> None:
        """Write an already formatted INFO line, as `emit` would."""
        self.acquire()
        try:
            self._pending.append(line + self.terminator)
            if len(self._pending) >= MAX_PENDING or self._closed:
                self._write_pending()
            elif len(self._pending) == 1:
                self._wanted.set()
        finally:
            self.release()

    def flush(self) -> None:
        """Write what is pending, then flush the stream."""
        self.acquire()
        try:
            self._write_pending()
        finally:
            self.release()

    def close(self) -> None:
        """Write what is pending and stop the writer thread."""
        self._closed = True
        self._wanted.set()
        self.flush()
        super().close()

    def _write_pending(self) -> None:
        """Caller holds the handler's lock."""
        if not self._pending:
            return
        text, self._pending = "".join(self._pending), []
        try:
            self.stream.write(text)
            self.stream.flush()
        except Exception:  # as StreamHandler.emit: logging never raises into the caller
            self.handleError(logging.makeLogRecord({"msg": "log write failed", "levelno": logging.ERROR}))

    def _write_forever(self) -> None:
        while not self._closed:
            self._wanted.wait()
            self._wanted.clear()
            if self._closed:
                return
            time.sleep(self.interval)  # let a batch gather
            self.flush()


def quicker_records() -> None:
    """Records without the caller's location, thread and process names (no formatter of ours uses them)."""
    logging._srcfile = None  # the logging HOWTO's "Optimization" switch for caller information
    logging.logThreads = False
    logging.logProcesses = False
    logging.logMultiprocessing = False


def log_info(logger: logging.Logger, message: str) -> None:
    """`logger.info(message)`, for a line on a hot path.

    When the line would go only to `evolve serve`'s own text handler (the root's one handler, no
    filters, nothing else attached on the way), the line is formatted from the message and the
    clock directly, without a `LogRecord`: the same text at a fraction of the cost. Otherwise
    (JSON lines, a test's capturing handler, other handlers) it is an ordinary `logger.info`.
    """
    if not logger.isEnabledFor(logging.INFO):
        return
    root = logging.root
    handlers = root.handlers
    if (
        len(handlers) == 1
        and not logger.handlers
        and not logger.filters
        and not root.filters
        and logger.propagate
        and logger.parent is root
    ):
        handler = handlers[0]
        formatter = handler.formatter
        if (
            type(handler) is BatchedStreamHandler
            and not handler.filters
            and handler.level <= logging.INFO
            and type(formatter) is CachedTimeFormatter
            and formatter._fmt == TEXT_FORMAT
        ):
            handler.add_line(formatter.text_line(logger.name, message))
            return
    logger.info(message)
