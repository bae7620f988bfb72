"""Connection-level limits for the public webhook port, below the ASGI application.

uvicorn's httptools protocol has no header timeout (a connection that never finishes its request
line is held forever), no limit on header size (httptools buffers a header value of any length)
and no limit on the number of headers. :class:`GuardedHttpToolsProtocol` adds them:

- the request head (request line and headers) must arrive within `header_timeout` seconds of the
  connection opening or of the previous request ending: else 408 and close (slowloris);
- the head may be at most `max_header_bytes` long and hold at most `max_headers` fields: else 431
  and close, counted before the bytes reach the parser, so nothing large is ever buffered;
- at most `max_connections` connections are open: a new one beyond that evicts the oldest
  connection still waiting for its head, so idle and slow strangers cannot starve a delivery.

A 431 is followed by a lingering close: the answer and a FIN are sent, and what the client still
sends is read and thrown away (at most `LINGER_BYTES`, for at most `LINGER_SECONDS`) before the
socket closes. Closing at once with the client's bytes unread makes the kernel answer with a reset,
and a reset makes the client's kernel drop the 431 it had not read yet.

The body is limited in `bot.intake.webhooks` (size, time, and bytes in flight across requests).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any, ClassVar

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

_HEAD_END = b"\r\n\r\n"
LINGER_SECONDS = 2.0  # after a 431: how long the rest of an oversized head is read and discarded
LINGER_BYTES = 16 * 1024 * 1024  # ... and how much of it at most


@dataclass(frozen=True)
class ConnectionLimits:
    """The limits one server process enforces per connection and in total."""

    header_timeout: float = 10.0
    max_header_bytes: int = 32 * 1024
    max_headers: int = 100
    max_connections: int = 4000


def _refusal(status: bytes, reason: bytes) -> bytes:
    return (
        b"HTTP/1.1 "
        + status
        + b"\r\ncontent-type: text/plain; charset=utf-8\r\ncontent-length: "
        + str(len(reason)).encode()
        + b"\r\nconnection: close\r\n\r\n"
        + reason
    )


_TIMEOUT = _refusal(b"408 Request Timeout", b"request head not received in time")
_TOO_LARGE = _refusal(b"431 Request Header Fields Too Large", b"request head too large")
_TOO_MANY = _refusal(b"431 Request Header Fields Too Large", b"too many header fields")


class _TooManyHeaders(Exception):
    """Raised from the parser callback; httptools hands it back from feed_data."""


class GuardedHttpToolsProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol with a head timeout, head size and field-count limits and a connection cap."""

    limits: ClassVar[ConnectionLimits] = ConnectionLimits()

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._reading_head = True
        self._head_bytes = 0
        self._head_tail = b""
        self._header_count = 0
        self._head_started = 0.0  # loop time the current head began (connection opened, or its first byte)
        self._head_clock = False  # whether a head is under way (its time counts)
        self._head_timer: asyncio.TimerHandle | None = None
        self._linger_left = -1  # bytes still discarded after a 431 (-1: not lingering)
        self._linger_timer: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        """Register the connection, start its head clock, and evict a waiting stranger when over the cap."""
        super().connection_made(transport)
        self._start_head_clock()
        self._head_timer = self.loop.call_later(self.limits.header_timeout, self._check_head)
        if len(self.connections) > self.limits.max_connections:
            self._evict_one()

    def connection_lost(self, exc: Exception | None) -> None:
        """Stop the timers with the connection."""
        self._stop_head_timer()
        if self._linger_timer is not None:
            self._linger_timer.cancel()
            self._linger_timer = None
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        """Count head bytes before they reach the parser; refuse a head that is too large or has too many fields."""
        if self._linger_left >= 0:  # refused: discard what the client still sends
            self._linger_left -= len(data)
            if self._linger_left < 0 and self.transport is not None:
                self.transport.close()
            return
        if self._reading_head and not self._head_fits(data):
            self._refuse(_TOO_LARGE, linger=True)
            return
        super().data_received(data)

    def send_400_response(self, msg: str) -> None:
        """uvicorn's answer to a parser error, unless the error was our own field-count refusal."""
        if self._header_count > self.limits.max_headers:
            self._refuse(_TOO_MANY, linger=True)
        else:
            super().send_400_response(msg)

    def on_message_begin(self) -> None:
        """A new request on this connection: its head gets a fresh budget (time and bytes)."""
        super().on_message_begin()
        self._header_count = 0
        self._start_head_clock()

    def on_header(self, name: bytes, value: bytes) -> None:
        """Count header fields; over the limit the connection is answered 431 and closed."""
        self._header_count += 1
        if self._header_count > self.limits.max_headers:
            raise _TooManyHeaders  # httptools turns it into a parser error: see send_400_response
        super().on_header(name, value)

    def on_headers_complete(self) -> None:
        """The head is in: its clock stops; the body is the application's to limit."""
        self._reading_head = False
        self._head_clock = False
        super().on_headers_complete()

    def on_message_complete(self) -> None:
        """Bytes after this request belong to the next request's head."""
        super().on_message_complete()
        self._reading_head = True
        self._head_bytes = 0
        self._head_tail = b""

    def _head_fits(self, data: bytes) -> bool:
        room = self.limits.max_header_bytes - self._head_bytes
        if len(data) <= room:
            self._head_bytes += len(data)
            self._head_tail = data[-3:] if len(data) >= 3 else (self._head_tail + data)[-3:]
            return True
        # Over the budget unless the head ends inside it (the rest of `data` is body).
        return _HEAD_END in self._head_tail + data[: max(room, 0)]

    def _start_head_clock(self) -> None:
        self._head_started = self.loop.time()
        self._head_clock = True

    def _stop_head_timer(self) -> None:
        self._head_clock = False
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None

    def _check_head(self) -> None:
        """The connection's one timer: refuse a head that ran out of time, else look again when the
        current head's time would run out (or a whole timeout later when no head is under way).

        A timer per request would be armed and cancelled thousands of times a second under load;
        this one fires once per `header_timeout` per connection."""
        timeout = self.limits.header_timeout
        left = timeout
        if self._head_clock:
            left = self._head_started + timeout - self.loop.time()
            if left <= 0:
                self._head_timer = None
                if self._waiting_for_head():
                    self._refuse(_TIMEOUT)
                    return
                left = timeout
        if self.transport is None or self.transport.is_closing():
            self._head_timer = None
            return
        self._head_timer = self.loop.call_later(left, self._check_head)

    def _refuse(self, response: bytes, linger: bool = False) -> None:
        """Answer `response` and close; with `linger`, half-close and discard the rest first (see the module doc)."""
        self._stop_head_timer()
        transport = self.transport
        if transport is None or transport.is_closing():
            return
        if self._linger_left >= 0:  # already answered; only the discarding was left
            transport.close()
            return
        transport.write(response)
        if linger and transport.can_write_eof():
            transport.write_eof()
            self._reading_head = False  # nothing more is parsed, and it is no longer waiting for a head
            self._linger_left = LINGER_BYTES
            self._linger_timer = self.loop.call_later(LINGER_SECONDS, transport.close)
            return
        transport.close()

    def _waiting_for_head(self) -> bool:
        return self._reading_head and (self.cycle is None or self.cycle.response_complete)

    def _evict_one(self) -> None:
        """Close the connection that has waited longest for its head; this one when none is waiting."""
        waiting = [
            conn
            for conn in self.connections
            if isinstance(conn, GuardedHttpToolsProtocol)
            and conn is not self
            and (conn._waiting_for_head() or conn._linger_left >= 0)  # a refused one discarding its rest too
        ]
        victim = min(waiting, key=lambda conn: conn._head_started) if waiting else self
        victim._refuse(_TIMEOUT)


def protocol_class(limits: ConnectionLimits) -> type[GuardedHttpToolsProtocol]:
    """A protocol class for `uvicorn.run(http=...)` that enforces `limits`."""
    return type("WebhookHttpProtocol", (GuardedHttpToolsProtocol,), {"limits": limits})
