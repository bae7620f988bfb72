"""Prometheus metrics of one process (`GET /metrics`): intake, delivery processing, leases, runs and
GitHub calls. Each process (web or worker) serves its own; Prometheus sums them across processes."""

from __future__ import annotations

import bisect
import re
from collections.abc import Iterator, Sequence

from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, Counter, Gauge, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, HistogramMetricFamily, Metric

__all__ = ["CONTENT_TYPE_LATEST", "render_metrics"]

_EVENT_NAME = re.compile(r"[a-z_]{1,40}")


class LoopCounter:
    """A labelled counter for the per-delivery path, updated from the event loop's thread only: one
    dict increment, where `prometheus_client`'s `labels().inc()` validates, hashes and locks each time.
    Exported like a `Counter` (`NAME_total`); the label sets are bounded by the callers."""

    def __init__(self, name: str, documentation: str, labelnames: Sequence[str]) -> None:
        self.name, self.documentation, self.labelnames = name, documentation, list(labelnames)
        self.counts: dict[tuple[str, ...], float] = {}
        REGISTRY.register(self)

    def inc(self, *labels: str) -> None:
        """Add one to the series of `labels` (in `labelnames` order)."""
        self.counts[labels] = self.counts.get(labels, 0.0) + 1.0

    def describe(self) -> list[Metric]:
        """The family, without samples (for the registry's name check)."""
        return [CounterMetricFamily(self.name, self.documentation, labels=self.labelnames)]

    def collect(self) -> Iterator[Metric]:
        """The family with one sample per label set seen."""
        family = CounterMetricFamily(self.name, self.documentation, labels=self.labelnames)
        for labels, value in list(self.counts.items()):
            family.add_metric(list(labels), value)
        yield family


class LoopHistogram:
    """A histogram for the per-delivery path, updated from the event loop's thread only (a bisect and
    two additions, no lock). Exported like a `Histogram` (`_bucket`, `_count`, `_sum`)."""

    def __init__(self, name: str, documentation: str, buckets: Sequence[float]) -> None:
        self.name, self.documentation = name, documentation
        self.bounds = sorted(buckets)
        self.counts = [0] * (len(self.bounds) + 1)  # the last one: above every bound (+Inf)
        self.sum = 0.0
        REGISTRY.register(self)

    def observe(self, value: float) -> None:
        """Count one observation."""
        self.counts[bisect.bisect_left(self.bounds, value)] += 1
        self.sum += value

    def describe(self) -> list[Metric]:
        """The family, without samples (for the registry's name check)."""
        return [HistogramMetricFamily(self.name, self.documentation)]

    def collect(self) -> Iterator[Metric]:
        """Cumulative buckets, count and sum."""
        cumulative, buckets = 0, []
        for bound, count in zip([*map(str, self.bounds), "+Inf"], list(self.counts)):
            cumulative += count
            buckets.append((bound, float(cumulative)))
        yield HistogramMetricFamily(self.name, self.documentation, buckets=buckets, sum_value=self.sum)


WEBHOOK_RESPONSES = LoopCounter(
    "evolve_webhook_responses", "Deliveries answered at intake, by event and outcome", ["event", "outcome"]
)
INTAKE_SECONDS = LoopHistogram(
    "evolve_intake_seconds",
    "Time from a delivery's headers to its answer",
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0),
)
DELIVERIES_PROCESSED = LoopCounter(
    "evolve_deliveries_processed", "Deliveries processed by the workers, by event and final status", ["event", "status"]
)
DELIVERIES_REFUSED = LoopCounter(
    "evolve_deliveries_refused",
    "Delivery rows a worker refused to dispatch (marked ignored): no seal, or a seal that does not match",
    ["reason"],
)
QUEUE_DEPTH = Gauge("evolve_delivery_queue_depth", "Deliveries waiting in this worker's in-process queue")
LEASE_TAKEOVERS = Counter(
    "evolve_lease_takeovers", "Work taken over after its worker's lease ran out (delivery or run)", ["kind"]
)
RUNS = Counter("evolve_runs", "Runs finished by this worker, by final status", ["status"])
RUN_SECONDS = Histogram(
    "evolve_run_seconds",
    "Wall time of a run on this worker",
    buckets=(1, 5, 15, 30, 60, 120, 300, 600, 1200, 1800, 3600, 7200),
)
CI_RETRIES = Counter("evolve_ci_retries", "Runs started because the repository's CI failed on an Evolve PR")
AUTOMERGES = Counter("evolve_automerges", "Evolve PRs merged by Evolve on green, by outcome", ["outcome"])
GITHUB_CALLS = Counter("evolve_github_calls", "GitHub REST calls, by endpoint and status", ["endpoint", "status"])
GITHUB_RATE_REMAINING = Gauge("evolve_github_rate_limit_remaining", "x-ratelimit-remaining of GitHub's last answer")


def event_label(event: bytes | str | None, signed: bool) -> str:
    """A bounded label for an event header: a stranger's unsigned header never becomes a label value."""
    if not signed or not event:
        return "unverified"
    text = event.decode("latin-1") if isinstance(event, bytes) else event
    return text if _EVENT_NAME.fullmatch(text) else "other"


# Event labels by the raw header value (bytes or str): the check of the name runs once per event.
_EVENT_LABELS: dict[bytes | str, str] = {}
_EVENT_LABELS_LIMIT = 1024  # signed event names are GitHub's (a few dozen); beyond this nothing new is kept


def _signed_event_label(event: bytes | str) -> str:
    label = _EVENT_LABELS.get(event)
    if label is None:
        label = event_label(event, True)
        if len(_EVENT_LABELS) < _EVENT_LABELS_LIMIT:
            _EVENT_LABELS[event] = label
    return label


def count_webhook_response(event: bytes | str | None, signed: bool, outcome: str) -> None:
    """One more delivery answered at intake (`WEBHOOK_RESPONSES`): its event (when signed) and outcome."""
    WEBHOOK_RESPONSES.inc(_signed_event_label(event) if signed and event else "unverified", outcome)


def count_processed(event: str, status: str) -> None:
    """One more delivery processed by a worker (`DELIVERIES_PROCESSED`), by event and final status."""
    DELIVERIES_PROCESSED.inc(_signed_event_label(event) if event else "unverified", status)


def count_refused(reason: str) -> None:
    """One more delivery row refused before dispatch (`DELIVERIES_REFUSED`): `not_sealed`, `altered` or `no_key`."""
    DELIVERIES_REFUSED.inc(reason)


def render_metrics() -> bytes:
    """This process's metrics in Prometheus text format."""
    return generate_latest()
