"""The cheap parts of the intake path: shared deadlines, batched log lines, loop-thread metrics."""

from __future__ import annotations

import asyncio
import io
import logging
import time

import pytest
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.parser import text_string_to_metric_families

from bot import metrics
from bot.intake.request_deadlines import Deadlines
from bot.log_output import BatchedStreamHandler, CachedTimeFormatter


def test_an_overrunning_task_is_cancelled_and_told_so() -> None:
    async def main() -> str:
        deadlines = Deadlines(resolution=0.01)
        task = deadlines.watch(0.05)
        try:
            await asyncio.Event().wait()  # never set
        except asyncio.CancelledError:
            if deadlines.expired(task):
                return "expired"
            raise
        finally:
            deadlines.done(task)
        return "finished"

    assert asyncio.run(main()) == "expired"


def test_a_task_within_its_deadline_is_left_alone_and_the_timer_stops() -> None:
    async def main() -> tuple[list[str], bool]:
        deadlines = Deadlines(resolution=0.01)
        results = []
        for _ in range(3):
            task = deadlines.watch(5)
            try:
                await asyncio.sleep(0.02)
                results.append("finished")
            finally:
                deadlines.done(task)
        await asyncio.sleep(0.05)  # the sweep finds nothing watched and does not re-arm
        return results, deadlines._timer is None

    assert asyncio.run(main()) == (["finished"] * 3, True)


def test_someone_elses_cancellation_is_not_taken_for_the_deadline() -> None:
    async def watched(deadlines: Deadlines) -> str:
        task = deadlines.watch(5)
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            if deadlines.expired(task):
                return "expired"
            raise
        finally:
            deadlines.done(task)
        return "finished"

    async def main() -> None:
        deadlines = Deadlines(resolution=0.01)
        task = asyncio.create_task(watched(deadlines))
        await asyncio.sleep(0.02)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    asyncio.run(main())


def test_batched_handler_writes_info_later_warnings_at_once_and_everything_on_close() -> None:
    stream = io.StringIO()
    handler = BatchedStreamHandler(stream, interval=60)  # the writer thread would wait a minute
    handler.setFormatter(logging.Formatter("%(levelname)s %(message)s"))
    log = logging.getLogger("test.batched")
    log.propagate = False
    log.addHandler(handler)
    log.setLevel(logging.INFO)
    try:
        log.info("first")
        log.info("second")
        assert stream.getvalue() == ""
        log.warning("third")
        assert stream.getvalue() == "INFO first\nINFO second\nWARNING third\n"
        log.info("fourth")
        handler.close()
        assert stream.getvalue().endswith("WARNING third\nINFO fourth\n")
        log.info("after close")  # written at once: nothing is kept once the handler is closed
        assert stream.getvalue().endswith("INFO after close\n")
    finally:
        log.removeHandler(handler)


def test_batched_handler_writes_within_its_interval() -> None:
    stream = io.StringIO()
    handler = BatchedStreamHandler(stream, interval=0.01)
    handler.setFormatter(logging.Formatter("%(message)s"))
    handler.handle(logging.LogRecord("x", logging.INFO, "", 0, "line", None, None))
    for _ in range(500):  # the writer thread, not close(), writes it
        if stream.getvalue():
            break
        time.sleep(0.01)
    assert stream.getvalue() == "line\n"
    handler.close()


def test_cached_time_formatter_writes_what_logging_writes() -> None:
    plain = logging.Formatter("%(asctime)s %(message)s")
    cached = CachedTimeFormatter("%(asctime)s %(message)s")
    for created in (1_700_000_000.123, 1_700_000_000.987, 1_700_000_001.004, 1_700_000_000.5):
        record = logging.LogRecord("x", logging.INFO, "", 0, "m", None, None)
        record.created, record.msecs = created, int((created - int(created)) * 1000) + 0.0
        assert cached.format(record) == plain.format(record)


def _samples(registry: CollectorRegistry) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(generate_latest(registry).decode())
        for sample in family.samples
    }


def test_loop_metrics_render_as_prometheus_counters_and_histograms(monkeypatch: pytest.MonkeyPatch) -> None:
    registry = CollectorRegistry()
    monkeypatch.setattr(metrics, "REGISTRY", registry)
    counter = metrics.LoopCounter("test_things", "Things", ["kind"])
    histogram = metrics.LoopHistogram("test_seconds", "Seconds", buckets=(0.01, 0.1))
    counter.inc("a")
    counter.inc("a")
    counter.inc("b")
    for value in (0.005, 0.01, 0.05, 3.0):
        histogram.observe(value)
    samples = _samples(registry)
    assert samples[("test_things_total", (("kind", "a"),))] == 2
    assert samples[("test_things_total", (("kind", "b"),))] == 1
    assert samples[("test_seconds_bucket", (("le", "0.01"),))] == 2  # `le`: the bound itself counts
    assert samples[("test_seconds_bucket", (("le", "0.1"),))] == 3
    assert samples[("test_seconds_bucket", (("le", "+Inf"),))] == 4
    assert samples[("test_seconds_count", ())] == 4
    assert samples[("test_seconds_sum", ())] == pytest.approx(3.065)


def test_unsigned_event_headers_never_become_labels() -> None:
    before = dict(metrics.WEBHOOK_RESPONSES.counts)
    metrics.count_webhook_response(b"anything-a-stranger-sends", False, "unsigned")
    metrics.count_webhook_response(b"Not An Event", True, "accepted")
    grown = {key for key, value in metrics.WEBHOOK_RESPONSES.counts.items() if value != before.get(key)}
    assert grown == {("unverified", "unsigned"), ("other", "accepted")}


def test_log_info_writes_what_logger_info_writes_through_the_serve_handler() -> None:
    from bot.log_output import TEXT_FORMAT, log_info

    stream = io.StringIO()
    handler = BatchedStreamHandler(stream, interval=60)
    handler.setFormatter(CachedTimeFormatter(TEXT_FORMAT))
    root = logging.getLogger()
    saved = root.handlers[:], root.level
    root.handlers[:] = [handler]
    root.setLevel(logging.INFO)
    try:
        log = logging.getLogger("test_log_info_direct")
        log_info(log, "delivery d-1: accepted (202) event=issues")  # the direct path
        log.info("delivery d-1: accepted (202) event=issues")  # the ordinary one
        extra = logging.NullHandler()
        root.addHandler(extra)  # another handler: log_info falls back to logger.info
        log_info(log, "fallback")
        root.removeHandler(extra)
        handler.flush()
    finally:
        root.handlers[:], _ = saved
        root.setLevel(saved[1])
        handler.close()
    direct, ordinary, fallback = stream.getvalue().splitlines()
    assert direct[23:] == ordinary[23:] == " INFO test_log_info_direct: delivery d-1: accepted (202) event=issues"
    assert direct[:17] == ordinary[:17] and direct[19] == "," and direct[:23].replace(",", ":").count(":") == 3
    assert fallback.endswith(" INFO test_log_info_direct: fallback")
