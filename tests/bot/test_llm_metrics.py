"""LLM tokens, requests and estimated cost on /metrics: read from each run report's `llm.usage`."""

from __future__ import annotations

import re

import pytest

from bot.db.run_request import RunRequest
from bot.routing import Router
from bot.runs.llm_metrics import LlmUsage, usage_of
from tests.bot.conftest import context_of, drain
from tests.bot.test_service_jobs import _repo, engine_runs

__all__ = ["engine_runs"]  # the fixture

USAGE = {"usage": {"input_tokens": 1200, "output_tokens": 300, "requests": 2, "estimated_cost_usd": 0.0081}}


def test_usage_is_read_from_the_report_llm_field():
    assert usage_of(USAGE) == LlmUsage(1200, 300, 2, 0.0081)


def test_missing_or_unreadable_usage_counts_nothing():
    assert usage_of(None) == usage_of({}) == usage_of({"notes": ["off"]}) == LlmUsage()
    hostile = {
        "usage": {"input_tokens": -5, "output_tokens": "9", "requests": True, "estimated_cost_usd": float("nan")}
    }
    assert usage_of(hostile) == LlmUsage()


def _sample(text: str, name: str) -> float:
    found = re.search(rf"^{re.escape(name)} ([0-9.e+-]+)$", text, re.M)
    return float(found.group(1)) if found else 0.0


def test_a_finished_run_adds_its_usage_to_metrics(app_factory, engine_runs):
    client = app_factory(router=Router())
    ctx = context_of(client)
    _repo(ctx)
    before = client.get("/metrics").text
    engine_runs.llm = USAGE
    client.portal.call(lambda: ctx.jobs.enqueue_run(RunRequest(5, "comment")))
    drain(client)
    after = client.get("/metrics").text
    added = {
        name: _sample(after, name) - _sample(before, name)
        for name in (
            'evolve_llm_tokens_total{kind="input"}',
            'evolve_llm_tokens_total{kind="output"}',
            "evolve_llm_requests_total",
            "evolve_llm_cost_usd_total",
        )
    }
    assert added == pytest.approx(
        {
            'evolve_llm_tokens_total{kind="input"}': 1200,
            'evolve_llm_tokens_total{kind="output"}': 300,
            "evolve_llm_requests_total": 2,
            "evolve_llm_cost_usd_total": 0.0081,
        }
    )
