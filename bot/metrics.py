"""Prometheus metrics of one process (`GET /metrics`): intake, delivery processing, leases, runs and
GitHub calls. Each process (web or worker) serves its own; Prometheus sums them across processes."""

from __future__ import annotations

import re

from prometheus_client import CONTENT_TYPE_LATEST, Counter, Gauge, Histogram, generate_latest

__all__ = ["CONTENT_TYPE_LATEST", "render_metrics"]

_EVENT_NAME = re.compile(r"[a-z_]{1,40}")

WEBHOOK_RESPONSES = Counter(
    "evolve_webhook_responses", "Deliveries answered at intake, by event and outcome", ["event", "outcome"]
)
INTAKE_SECONDS = Histogram(
    "evolve_intake_seconds",
    "Time from a delivery's headers to its answer",
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0),
)
DELIVERIES_PROCESSED = Counter(
    "evolve_deliveries_processed", "Deliveries processed by the workers, by event and final status", ["event", "status"]
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
GITHUB_CALLS = Counter("evolve_github_calls", "GitHub REST calls, by endpoint and status", ["endpoint", "status"])
GITHUB_RATE_REMAINING = Gauge("evolve_github_rate_limit_remaining", "x-ratelimit-remaining of GitHub's last answer")


def event_label(event: bytes | str | None, signed: bool) -> str:
    """A bounded label for an event header: a stranger's unsigned header never becomes a label value."""
    if not signed or not event:
        return "unverified"
    text = event.decode("latin-1") if isinstance(event, bytes) else event
    return text if _EVENT_NAME.fullmatch(text) else "other"


def render_metrics() -> bytes:
    """This process's metrics in Prometheus text format."""
    return generate_latest()
