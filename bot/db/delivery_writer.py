"""The one writer of the `deliveries` table: group commit for intake, claims and marks.

Each webhook request hands its delivery to `DeliveryWriter.record` and waits. One task takes
everything waiting, writes it in ONE transaction on a dedicated thread (one commit: one fsync at
SQLite's `synchronous=FULL`, one WAL flush on PostgreSQL), then answers every waiter: new,
duplicate, or the error. The commit's cost is shared by all requests that arrived during the
previous one, and no request is answered before its row is durable. Workers' claims and marks ride
in the same transactions, so the event loop never waits on the database and this process's
writers never queue for SQLite's write lock.

SQLite: the writer's commits never checkpoint the WAL (a checkpoint copies megabytes into the
database file and syncs it, which would stall every request of that batch); a second thread runs
PASSIVE checkpoints back to back beside it, which do not block the writer. Once the WAL is
`WAL_RESET_FRAMES` long, the writer checkpoints the last few frames itself between two batches, so
its next commit starts the WAL from the beginning again (see `_checkpoint_forever`).

`EVOLVE_DB_TRACE=/path/file.jsonl` (debug): record every batch's transaction and waiting times,
every checkpoint (mode, milliseconds, frames), cyclic GC collections of generation 1 and 2, and
event-loop lag over 5 ms, as JSON lines written when the writer stops.
"""

from __future__ import annotations

import asyncio
import gc
import json
import logging
import os
import threading
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import suppress
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.engine import Connection, Engine

from bot.db.deliveries import (
    ClaimedDelivery,
    DeliveryMark,
    NewDelivery,
    claim_batch,
    insert_deliveries,
    insert_deliveries_committed,
    mark_batch,
    one_statement_inserts,
)

log = logging.getLogger(__name__)
MAX_BATCH = 256  # writes per transaction: bounds one commit's latency and statement size
CHECKPOINT_PAUSE = 0.02  # at least this long between two checkpoints (SQLite)
WAL_RESET_FRAMES = 4096  # a WAL this long (16 MiB of 4 KiB pages) is wound back by the writer itself
WAL_SIZE_LIMIT = 64 << 20  # bytes a reset WAL file is truncated to when a long reader let it grow further
WAL_RESTART_FRAMES = 262144  # backstop (1 GiB): a blocking RESTART when the writer's resets keep failing


TRACE_ENV = "EVOLVE_DB_TRACE"  # a file path: record batch, checkpoint, GC and loop-lag timings there (debug)


class _Trace:
    """Debug timings (`EVOLVE_DB_TRACE=/path`): one JSON line per event, written at stop."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.events: list[tuple[Any, ...]] = []
        self._lock = threading.Lock()
        self._gc_start = 0.0
        self._lag_task: asyncio.Task[None] | None = None

    def add(self, *event: Any) -> None:
        with self._lock:
            self.events.append((time.monotonic(), threading.current_thread().name, *event))

    def _gc(self, phase: str, info: dict[str, Any]) -> None:
        if phase == "start":
            self._gc_start = time.perf_counter()
        elif info.get("generation", 0) >= 1:
            self.add("gc", info["generation"], (time.perf_counter() - self._gc_start) * 1e3, info.get("collected"))

    async def _lag(self) -> None:
        while True:
            started = time.perf_counter()
            await asyncio.sleep(0.005)
            late = (time.perf_counter() - started) * 1e3 - 5
            if late > 5:
                self.add("lag", late)

    def start(self) -> None:
        gc.callbacks.append(self._gc)
        self._lag_task = asyncio.create_task(self._lag())

    def stop(self) -> None:
        with suppress(ValueError):
            gc.callbacks.remove(self._gc)
        if self._lag_task is not None:
            self._lag_task.cancel()
        with open(self.path, "a", encoding="utf-8") as handle:
            handle.writelines(json.dumps(event) + "\n" for event in self.events)
        self.events = []


class WriterClosed(RuntimeError):
    """The writer is stopped (the process is shutting down): nothing was written."""


@dataclass
class _Write:
    kind: str  # record | claim | mark
    arg: Any
    future: asyncio.Future[Any] = field(repr=False)
    lease: float = 0.0
    since: float = 0.0  # when it was submitted (tracing only)


class DeliveryWriter:
    """Batches `record`, `claim` and `mark` calls from many coroutines into shared transactions."""

    def __init__(self, engine: Engine, *, max_batch: int = MAX_BATCH) -> None:
        self.engine = engine
        self.max_batch = max_batch
        self.batches = 0  # transactions committed (for tests and diagnostics)
        self.wal_resets = 0  # SQLite: checkpoints the writer completed to wind the WAL back (diagnostics)
        self._waiting: list[_Write] = []
        self._wakeup = asyncio.Event()
        self._committed = asyncio.Event()  # set after each batch: the checkpointer has work
        self._executor: ThreadPoolExecutor | None = None
        self._task: asyncio.Task[None] | None = None
        self._checkpointer: asyncio.Task[None] | None = None
        self._connection: Connection | None = None  # used only on the writer thread
        self._sqlite = engine.dialect.name == "sqlite"
        self._closing = False
        self._reset_wanted = False  # the checkpointer caught up with a long WAL: the writer winds it back
        trace = os.environ.get(TRACE_ENV)
        self._trace = _Trace(trace) if trace else None

    def trace(self, *event: Any) -> None:
        """Record a debug timing (only with `EVOLVE_DB_TRACE`)."""
        if self._trace is not None:
            self._trace.add(*event)

    # -- what callers await ---------------------------------------------------------------
    async def record(self, delivery: NewDelivery) -> bool:
        """Record a delivery durably; True when new, False for a delivery id seen before."""
        return bool(await self._submit("record", delivery))

    async def claim(self, delivery_ids: Sequence[str], lease_seconds: float) -> dict[str, ClaimedDelivery]:
        """Claim the claimable ones among `delivery_ids` for this worker."""
        if not delivery_ids:
            return {}
        return await self._submit("claim", list(delivery_ids), lease_seconds)

    async def mark(self, marks: Sequence[DeliveryMark]) -> None:
        """Set deliveries' statuses."""
        if marks:
            await self._submit("mark", list(marks))

    def record_later(self, delivery: NewDelivery) -> asyncio.Future[bool]:
        """`record` without a coroutine: the future of its outcome (the writer process answers many
        connections' frames this way, `bot.db.writer_process`)."""
        return self._enqueue("record", delivery)

    async def _submit(self, kind: str, arg: Any, lease: float = 0.0) -> Any:
        return await self._enqueue(kind, arg, lease)

    def _enqueue(self, kind: str, arg: Any, lease: float = 0.0) -> asyncio.Future[Any]:
        if self._closing or self._task is None:
            raise WriterClosed("the delivery writer is not running")
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._waiting.append(_Write(kind, arg, future, lease, time.monotonic() if self._trace else 0.0))
        self._wakeup.set()
        return future

    # -- life cycle -----------------------------------------------------------------------
    async def start(self) -> None:
        """Start the writer thread and the batching task."""
        if self._task is None:
            self._closing = False
            self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="delivery-writer")
            self._task = asyncio.create_task(self._run(), name="delivery-writer")
            if self._trace is not None:
                self._trace.start()
            if self._sqlite:
                self._checkpointer = asyncio.create_task(self._checkpoint_forever(), name="wal-checkpointer")

    async def stop(self) -> None:
        """Write what is waiting, then stop; later calls raise `WriterClosed`."""
        if self._task is None:
            return
        self._closing = True
        self._wakeup.set()
        try:
            await self._task
        finally:
            self._task = None
            if self._checkpointer is not None:
                self._checkpointer.cancel()
                with suppress(asyncio.CancelledError):
                    await self._checkpointer
                self._checkpointer = None
            if self._executor is not None:
                self._executor.submit(self._disconnect)
                self._executor.shutdown(wait=True)
                self._executor = None
            if self._trace is not None:
                self._trace.stop()

    @property
    def running(self) -> bool:
        """Whether writes are accepted."""
        return self._task is not None and not self._closing

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        batch: list[_Write] = []
        try:
            while True:
                if self._reset_wanted:  # between batches: the last one is answered, the next waits for it
                    try:
                        await loop.run_in_executor(self._executor, self._reset_wal)
                    except Exception:  # the executor is gone; the checkpointer asks again
                        self._reset_wanted = False
                    continue
                if not self._waiting:
                    if self._closing:
                        return
                    self._wakeup.clear()
                    await self._wakeup.wait()
                    continue
                batch, self._waiting = self._waiting[: self.max_batch], self._waiting[self.max_batch :]
                try:
                    outcomes = await loop.run_in_executor(self._executor, self._write, batch)
                except Exception as error:  # the executor is gone
                    outcomes = [(False, error)] * len(batch)
                self._answer(batch, outcomes)
                self._committed.set()
                if self._trace is not None:
                    now = time.monotonic()
                    self._trace.add(
                        "answered", len(batch), (now - min(w.since for w in batch)) * 1e3, len(self._waiting)
                    )
                batch = []
        except asyncio.CancelledError:  # nobody may wait forever
            closed = (False, WriterClosed("the delivery writer was stopped"))
            self._answer(batch + self._waiting, [closed] * (len(batch) + len(self._waiting)))
            self._waiting = []
            raise

    @staticmethod
    def _answer(batch: list[_Write], outcomes: list[tuple[bool, Any]]) -> None:
        """Answer every waiter of a batch (a result or an exception)."""
        for write, (ok, value) in zip(batch, outcomes):
            if write.future.done():  # its request went away; the write stands
                continue
            if ok:
                write.future.set_result(value)
            else:
                write.future.set_exception(value)

    async def _checkpoint_forever(self) -> None:
        """Checkpoint (PASSIVE, on its own connection and thread) back to back while commits come in.

        A PASSIVE checkpoint never blocks the writer, but under steady writes it never quite catches
        up either, and a WAL that is never fully checkpointed is never wound back: it would grow
        without bound. So once the WAL is `WAL_RESET_FRAMES` long, the checkpointer hands over to
        the writer (`_reset_wal`), which copies the few frames left between two batches; its next
        commit then starts the WAL from the beginning again. Nobody waits on a lock or a busy
        handler (a blocking RESTART checkpoint makes the writer sleep in SQLite's busy handler for
        the whole copy, tens of milliseconds, which was the latency tail).
        """
        while True:
            await self._committed.wait()
            if self._reset_wanted:  # the writer's turn (before or right after its next batch)
                await asyncio.sleep(CHECKPOINT_PAUSE)
                continue
            self._committed.clear()
            try:
                frames = await asyncio.to_thread(self._checkpoint)
            except Exception as error:  # SQLite checkpoints again on close; nothing is lost
                log.warning("WAL checkpoint failed: %s", type(error).__name__)
                frames = 0
            if frames >= WAL_RESET_FRAMES:
                self._reset_wanted = True
                self._wakeup.set()  # an idle writer resets it too
            await asyncio.sleep(CHECKPOINT_PAUSE)

    def _checkpoint(self) -> int:
        """One PASSIVE checkpoint; the WAL's length in frames (0 when it was busy)."""
        with self.engine.connect() as connection:
            started = time.perf_counter()
            busy, frames, done = connection.exec_driver_sql("PRAGMA wal_checkpoint(PASSIVE)").one()
            if self._trace is not None:
                self._trace.add("ckpt", "PASSIVE", (time.perf_counter() - started) * 1e3, busy, frames, done)
            if not busy and frames >= WAL_RESTART_FRAMES:  # the writer's resets keep failing (a long reader)
                started = time.perf_counter()
                result = connection.exec_driver_sql("PRAGMA wal_checkpoint(RESTART)").one()
                if self._trace is not None:
                    self._trace.add("ckpt", "RESTART", (time.perf_counter() - started) * 1e3, *result)
            return 0 if busy else int(frames)

    def _reset_wal(self) -> None:
        """Writer thread, between batches: checkpoint what the checkpointer left, so the next commit
        winds the WAL back to its start (it only can when every frame is in the database file)."""
        try:
            connection = self._connect()
            started = time.perf_counter()
            result = connection.exec_driver_sql("PRAGMA wal_checkpoint(PASSIVE)").one()
            connection.commit()
            busy, frames, done = result
            if not busy and frames == done:
                self.wal_resets += 1
            if self._trace is not None:
                self._trace.add("ckpt", "WRITER", (time.perf_counter() - started) * 1e3, *result)
        except Exception as error:  # the checkpointer tries again
            log.warning("WAL reset failed: %s", type(error).__name__)
            self._disconnect()
        finally:
            self._reset_wanted = False

    # -- the writer thread ----------------------------------------------------------------
    def _connect(self) -> Connection:
        if self._connection is None:
            connection = self.engine.connect()
            if self._sqlite:  # checkpoints are the checkpointer's job, not the commit's
                connection.exec_driver_sql("PRAGMA wal_autocheckpoint=0")
                connection.exec_driver_sql(f"PRAGMA journal_size_limit={WAL_SIZE_LIMIT}")
                connection.commit()
            self._connection = connection
        return self._connection

    def _disconnect(self) -> None:
        if self._connection is not None:
            connection, self._connection = self._connection, None
            with suppress(Exception):
                if self._sqlite:  # back to the pool as it came
                    connection.exec_driver_sql("PRAGMA wal_autocheckpoint=1000")
                    connection.exec_driver_sql("PRAGMA journal_size_limit=-1")
                    connection.commit()
            with suppress(Exception):
                connection.close()

    def _transaction(self, batch: list[_Write]) -> list[Any]:
        connection = self._connect()
        started = time.perf_counter()
        try:
            if all(write.kind == "record" for write in batch) and one_statement_inserts(connection):
                results = self._records_committed(connection, batch)  # no BEGIN, no COMMIT round trip
                applied = time.perf_counter()
            else:
                with connection.begin():
                    results = self._apply(connection, batch)
                    applied = time.perf_counter()
            if self._trace is not None:
                self._trace.add("txn", len(batch), (applied - started) * 1e3, (time.perf_counter() - applied) * 1e3)
        except Exception:
            self._disconnect()  # never reuse a connection in an unknown state
            raise
        self.batches += 1
        return results

    def _write(self, batch: list[_Write]) -> list[tuple[bool, Any]]:
        """One transaction for the whole batch; if it fails, one per write so a bad row fails alone."""
        try:
            return [(True, result) for result in self._transaction(batch)]
        except Exception as error:
            if len(batch) == 1:
                return [(False, error)]
            log.warning(
                "a batch of %d delivery writes failed (%s); retrying them one by one", len(batch), type(error).__name__
            )
        outcomes: list[tuple[bool, Any]] = []
        for write in batch:
            try:
                outcomes.append((True, self._transaction([write])[0]))
            except Exception as error:
                outcomes.append((False, error))
        return outcomes

    @staticmethod
    def _records_committed(connection: Any, batch: list[_Write]) -> list[Any]:
        """Records only, on PostgreSQL: their one statement in autocommit; one result per write (as `_apply`)."""
        new = insert_deliveries_committed(connection, [write.arg for write in batch])
        results: list[Any] = []
        for write in batch:  # the first of repeated ids in a batch is the new one
            results.append(write.arg.delivery_id in new)
            new.discard(write.arg.delivery_id)
        return results

    @staticmethod
    def _apply(connection: Any, batch: list[_Write]) -> list[Any]:
        """Inserts, then claims, then marks, in the caller's transaction; one result per write."""
        records = [write.arg for write in batch if write.kind == "record"]
        new = insert_deliveries(connection, records)
        claimed: dict[str, ClaimedDelivery] = {}
        for lease in sorted({write.lease for write in batch if write.kind == "claim"}):
            ids = [i for write in batch if write.kind == "claim" and write.lease == lease for i in write.arg]
            claimed.update(claim_batch(connection, ids, lease))
        mark_batch(connection, [mark for write in batch if write.kind == "mark" for mark in write.arg])

        results: list[Any] = []
        for write in batch:
            if write.kind == "record":  # the first of repeated ids in a batch is the new one
                results.append(write.arg.delivery_id in new)
                new.discard(write.arg.delivery_id)
            elif write.kind == "claim":
                results.append({i: claimed.pop(i) for i in write.arg if i in claimed})
            else:
                results.append(None)
        return results
