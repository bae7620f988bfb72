"""Log lines that say which delivery, run, installation and repository they are about.

The job code sets the context (`bind`) where it takes up a delivery or a run; `JsonFormatter` puts
it on every line logged under it (`EVOLVE_LOG_FORMAT=json`), with secrets redacted.
"""

from __future__ import annotations

import contextvars
import json
import logging
from collections.abc import Mapping
from datetime import datetime, timezone

from bot.log_output import TEXT_FORMAT, BatchedStreamHandler, CachedTimeFormatter, quicker_records
from evolve.untrusted_text import redacted

_FIELDS = ("delivery_id", "run_id", "installation_id", "repository", "repository_id")
_CONTEXT: contextvars.ContextVar[Mapping[str, object] | None] = contextvars.ContextVar(
    "evolve_log_context", default=None
)


class _Bound:
    """The context manager `bind` returns (a class: cheaper than a generator, it runs per delivery)."""

    __slots__ = ("_fields", "_token")

    def __init__(self, fields: dict[str, object]) -> None:
        self._fields = fields
        self._token: contextvars.Token[Mapping[str, object] | None] | None = None

    def __enter__(self) -> None:
        known = {name: value for name, value in self._fields.items() if name in _FIELDS and value is not None}
        outer = _CONTEXT.get()
        self._token = _CONTEXT.set({**outer, **known} if outer else known)

    def __exit__(self, *exc_info: object) -> None:
        if self._token is not None:
            _CONTEXT.reset(self._token)
            self._token = None


def bind(**fields: object) -> _Bound:
    """Add `fields` (of delivery_id, run_id, installation_id, repository, repository_id) to every line logged inside."""
    return _Bound(fields)


def current() -> dict[str, object]:
    """The fields bound where the caller runs."""
    return dict(_CONTEXT.get() or {})


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, the bound context, the exception."""

    def format(self, record: logging.LogRecord) -> str:
        """The record as one line of JSON, secrets redacted."""
        line: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, timezone.utc).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": redacted(record.getMessage()),
            **(_CONTEXT.get() or {}),
        }
        if record.exc_info:
            line["exception"] = redacted(self.formatException(record.exc_info))
        return json.dumps(line, default=str)


def configure_logging(log_format: str) -> None:
    """Root logging at INFO, as text or (`json`) one JSON object per line, to standard error in batches
    (`bot.log_output`: INFO lines within 50 ms, WARNING and worse at once)."""
    quicker_records()
    handler = BatchedStreamHandler()
    if log_format == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(CachedTimeFormatter(TEXT_FORMAT))
    logging.basicConfig(level=logging.INFO, handlers=[handler], force=True)
