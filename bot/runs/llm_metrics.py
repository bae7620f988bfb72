"""Prometheus metrics of the LLM stage (`GET /metrics`): tokens, requests and estimated cost of the runs a
worker executed, read from each run report's `llm.usage` (`evolve.llm.provider.usage_summary`)."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from prometheus_client import Counter

LLM_TOKENS = Counter("evolve_llm_tokens", "LLM tokens spent by runs on this worker, by kind", ["kind"])
LLM_REQUESTS = Counter("evolve_llm_requests", "Requests to the LLM made by runs on this worker")
LLM_COST = Counter(
    "evolve_llm_cost_usd", "Estimated LLM cost of runs on this worker in US dollars (list prices, not billed amounts)"
)


@dataclass(frozen=True)
class LlmUsage:
    """What one run spent on the LLM."""

    input_tokens: int = 0
    output_tokens: int = 0
    requests: int = 0
    cost_usd: float = 0.0


def _count(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else 0


def _amount(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value < 0:
        return 0.0
    return float(value)


def usage_of(llm: Mapping[str, Any] | None) -> LlmUsage:
    """A report's `llm` field as an `LlmUsage` (no usage, or unreadable values: zero)."""
    usage = llm.get("usage") if isinstance(llm, Mapping) else None
    if not isinstance(usage, Mapping):
        return LlmUsage()
    return LlmUsage(
        _count(usage.get("input_tokens")),
        _count(usage.get("output_tokens")),
        _count(usage.get("requests")),
        _amount(usage.get("estimated_cost_usd")),
    )


def record_llm_usage(llm: Mapping[str, Any] | None) -> LlmUsage:
    """Add one run's LLM usage to this process's counters; what was added."""
    usage = usage_of(llm)
    if usage.input_tokens:
        LLM_TOKENS.labels("input").inc(usage.input_tokens)
    if usage.output_tokens:
        LLM_TOKENS.labels("output").inc(usage.output_tokens)
    if usage.requests:
        LLM_REQUESTS.inc(usage.requests)
    if usage.cost_usd:
        LLM_COST.inc(usage.cost_usd)
    return usage
