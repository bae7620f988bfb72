"""The delivery writer in a process of its own, fed through a socket pair (`evolve serve --role web`).

A web process only verifies, seals and hands over; the database work (statements, commits, SQLite
checkpoints) runs in this separate process, so it never competes with the event loop for one GIL,
and several web processes (`--processes N`) share one writer and one group commit. Each web process
holds one end of a socket pair made before the processes were forked (no path, nothing another
local user could connect to); the writer holds the other ends.

Frames, little-endian. Web → writer, one per delivery: `RECORD_HEAD` (length of the rest of the frame,
sequence number, installation id, lengths of delivery id, event, action and seal, flags) then those
four strings and the body (UTF-8). Writer → web: `ACK` (sequence number, outcome). The writer answers
a frame only once its row is committed (or known to be a duplicate, or failed), so a 202 still means
"recorded durably". A writer that is gone fails every waiting request (the web process answers 503,
GitHub redelivers).
"""

from __future__ import annotations

import asyncio
import functools
import itertools
import logging
import signal
import socket
import struct
from collections.abc import Callable
from typing import Any, cast

from sqlalchemy.engine import Engine

from bot.db.deliveries import NewDelivery
from bot.db.delivery_writer import DeliveryWriter, WriterClosed

log = logging.getLogger(__name__)

RECORD_HEAD = struct.Struct("<IQqHHHHB")
ACK = struct.Struct("<QB")
_LENGTH = struct.Struct("<I")
HAS_INSTALLATION, HAS_ACTION, HAS_SEAL = 1, 2, 4
DUPLICATE, NEW, FAILED = 0, 1, 2
_INT64 = 1 << 63


class RecordFailed(RuntimeError):
    """The writer process could not record a delivery (its transaction failed)."""


# -- frames (pure) ------------------------------------------------------------------------------
def encode_record(sequence: int, delivery: NewDelivery) -> list[bytes]:
    """The frame for one delivery, as buffers to write in order (the body is not copied)."""
    if delivery.lease_seconds is not None:
        raise ValueError("the writer process records deliveries unclaimed (a web process works on none)")
    installation = delivery.installation_id
    if installation is not None and not -_INT64 <= installation < _INT64:
        raise ValueError("installation id out of range")
    fields = [
        delivery.delivery_id.encode(),
        delivery.event.encode(),
        (delivery.action or "").encode(),
        (delivery.seal or "").encode(),
    ]
    body = delivery.payload.encode()
    flags = (
        (HAS_INSTALLATION if installation is not None else 0)
        | (HAS_ACTION if delivery.action is not None else 0)
        | (HAS_SEAL if delivery.seal is not None else 0)
    )
    size = RECORD_HEAD.size - _LENGTH.size + sum(map(len, fields)) + len(body)
    head = RECORD_HEAD.pack(size, sequence, installation or 0, *map(len, fields), flags)
    return [head + b"".join(fields), body]


def decode_records(buffer: bytearray) -> list[tuple[int, NewDelivery]]:
    """Every complete frame at the start of `buffer` (removed from it): (sequence number, delivery)."""
    records: list[tuple[int, NewDelivery]] = []
    position, available = 0, len(buffer)
    view = memoryview(buffer)
    try:
        while available - position >= RECORD_HEAD.size:
            (size,) = _LENGTH.unpack_from(buffer, position)
            end = position + _LENGTH.size + size
            if end > available:
                break
            _, sequence, installation, *lengths, flags = RECORD_HEAD.unpack_from(buffer, position)
            offset = position + RECORD_HEAD.size
            texts = []
            for length in lengths:
                texts.append(str(view[offset : offset + length], "utf-8"))
                offset += length
            delivery_id, event, action, seal = texts
            records.append(
                (
                    sequence,
                    NewDelivery(
                        delivery_id,
                        event,
                        str(view[offset:end], "utf-8"),
                        action=action if flags & HAS_ACTION else None,
                        installation_id=installation if flags & HAS_INSTALLATION else None,
                        seal=seal if flags & HAS_SEAL else None,
                    ),
                )
            )
            position = end
    finally:
        view.release()
    del buffer[:position]
    return records


# -- the web process's side ---------------------------------------------------------------------
class _Client(asyncio.Protocol):
    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.waiting: dict[int, asyncio.Future[bool]] = {}
        self.closed = False
        self._buffer = bytearray()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast("asyncio.Transport", transport)  # uvloop's transports are not its subclasses

    def data_received(self, data: bytes) -> None:
        buffer = self._buffer
        buffer += data
        complete = len(buffer) - len(buffer) % ACK.size
        for sequence, outcome in ACK.iter_unpack(memoryview(buffer)[:complete]):
            future = self.waiting.pop(sequence, None)
            if future is None or future.done():
                continue
            if outcome == FAILED:
                future.set_exception(RecordFailed("the writer process could not record the delivery"))
            else:
                future.set_result(outcome == NEW)
        del buffer[:complete]

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        waiting, self.waiting = self.waiting, {}
        for future in waiting.values():
            if not future.done():
                future.set_exception(WriterClosed("the delivery writer process is gone"))


class RemoteDeliveryWriter(DeliveryWriter):
    """A `DeliveryWriter` whose `record` goes to the writer process over `sock` (claims and marks, which a web
    process does not make, stay in this process)."""

    def __init__(self, engine: Engine, sock: socket.socket) -> None:
        super().__init__(engine)
        self._sock: socket.socket | None = sock
        self._client: _Client | None = None
        self._sequence = itertools.count(1)

    async def start(self) -> None:
        """Connect to the writer process (and start the local writer for claims and marks)."""
        await super().start()
        if self._client is None and self._sock is not None:
            loop = asyncio.get_running_loop()
            _, self._client = await loop.create_unix_connection(_Client, sock=self._sock)
            self._sock = None  # the transport owns it now

    async def record(self, delivery: NewDelivery) -> bool:
        """Record a delivery durably (the writer process answers after its commit); True when new."""
        client = self._client
        if client is None or client.closed or client.transport is None or not self.running:
            raise WriterClosed("the delivery writer process is not connected")
        sequence = next(self._sequence)
        future: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        client.waiting[sequence] = future
        try:
            client.transport.writelines(encode_record(sequence, delivery))
        except Exception:
            client.waiting.pop(sequence, None)
            raise
        return await future

    async def stop(self) -> None:
        """Wait (bounded) for the answers still due, close the connection, stop the local writer."""
        client, self._client = self._client, None
        if client is not None:
            if client.waiting:
                await asyncio.wait(list(client.waiting.values()), timeout=10)
            if client.transport is not None:
                client.transport.close()
        await super().stop()


# -- the writer process -------------------------------------------------------------------------
class _Server(asyncio.Protocol):
    """One web process's connection: records its frames through the writer, answers each after its commit."""

    def __init__(self, writer: DeliveryWriter, closed: Callable[[], None]) -> None:
        self.writer = writer
        self._closed = closed
        self._buffer = bytearray()
        self._acks: list[bytes] = []
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast("asyncio.Transport", transport)  # uvloop's transports are not its subclasses

    def data_received(self, data: bytes) -> None:
        self._buffer += data
        for sequence, delivery in decode_records(self._buffer):
            try:
                future = self.writer.record_later(delivery)
            except WriterClosed:
                self._ack(sequence, FAILED)
                continue
            future.add_done_callback(functools.partial(self._answer, sequence))

    def _answer(self, sequence: int, done: asyncio.Future[Any]) -> None:
        if done.cancelled() or done.exception() is not None:
            self._ack(sequence, FAILED)
        else:
            self._ack(sequence, NEW if done.result() else DUPLICATE)

    def _ack(self, sequence: int, outcome: int) -> None:
        if not self._acks:  # one write for all the answers of a batch
            asyncio.get_running_loop().call_soon(self._flush)
        self._acks.append(ACK.pack(sequence, outcome))

    def _flush(self) -> None:
        acks, self._acks = self._acks, []
        if self.transport is not None and not self.transport.is_closing():
            self.transport.write(b"".join(acks))

    def connection_lost(self, exc: Exception | None) -> None:
        self._closed()


async def _serve(socks: list[socket.socket], database_url: str, sqlite_synchronous: str) -> None:
    from bot.db import engine as db_engine

    engine = db_engine.make_engine(database_url, sqlite_synchronous=sqlite_synchronous)  # migrated by the parent
    writer = DeliveryWriter(engine)
    await writer.start()
    open_connections = len(socks)
    all_closed = asyncio.Event()

    def closed() -> None:
        nonlocal open_connections
        open_connections -= 1
        if open_connections <= 0:
            all_closed.set()

    loop = asyncio.get_running_loop()
    for sock in socks:
        await loop.create_unix_connection(functools.partial(_Server, writer, closed), sock=sock)
    await all_closed.wait()  # every web process has gone: what they sent is written, then stop
    await writer.stop()
    engine.dispose()


def run_writer_process(socks: list[socket.socket], database_url: str, sqlite_synchronous: str = "FULL") -> int:
    """The writer process's main: record what the web processes send until every one of them has closed
    its end (interrupts are ignored: a web process's last deliveries are still written). Exit status."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    try:
        import uvloop

        runner: Any = uvloop.run
    except ImportError:  # pragma: no cover - uvloop comes with uvicorn[standard]
        runner = asyncio.run
    try:
        runner(_serve(socks, database_url, sqlite_synchronous))
    except Exception:
        log.exception("the delivery writer process failed")
        return 1
    return 0
