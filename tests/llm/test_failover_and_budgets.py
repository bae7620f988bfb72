"""Retries, the fallback model, giving up cleanly, and budgets — all against the fake Messages API."""

from __future__ import annotations

import time

from evolve.llm.provider import CATALOG_ONLY
from evolve.llm.repository import repository_key
from evolve.llm.usage import UsageLedger
from evolve.plan.tasks import Plan, Task
from tests.llm.fake_anthropic import error, finish, slow, tool_call, tools

DOC = "Return a new Box whose width and height are multiplied by factor."


def plan() -> Plan:
    return Plan("docstrings", "Document Box.scaled", (Task("docstring", "pkg/shapes.py", symbol="Box.scaled"),), 1.0)


def good_answer():
    return tools(tool_call("set_docstring", target="pkg/shapes.py:Box.scaled", docstring=DOC))


def test_429_is_retried_then_succeeds(repo, fake_api, make_provider):
    fake_api.add(error(429), good_answer(), finish())
    outcome = make_provider().propose(repo, plan(), None)

    assert len(outcome.edits) == 1
    assert "retried after 429 rate_limit_error" in outcome.notes
    assert [r.model for r in fake_api.requests] == ["claude-sonnet-5-5"] * 3
    assert fake_api.requests[0].raw == fake_api.requests[1].raw, "a retry resends the same request"


def test_repeated_529_falls_back_to_the_second_model(repo, fake_api, make_provider):
    fake_api.for_model("claude-sonnet-5-5", [error(529)] * 3)
    fake_api.add(good_answer(), finish())
    provider = make_provider()
    outcome = provider.propose(repo, plan(), None)

    assert len(outcome.edits) == 1
    assert [r.model for r in fake_api.requests] == ["claude-sonnet-5-5"] * 3 + ["claude-haiku-5-5"] * 2
    assert "retried after 529 overloaded_error" in outcome.notes
    assert "fell back to claude-haiku-5-5 after claude-sonnet-5-5 failed (529 overloaded_error)" in outcome.notes
    assert outcome.usage["models"] == ["claude-haiku-5-5"]
    summary = provider.usage_summary()
    assert summary["fallbacks"] == ["claude-haiku-5-5"] and summary["requests"] == 2


def test_500s_then_timeouts_end_with_no_edits_and_a_clear_note(repo, fake_api, make_provider):
    too_late = slow(good_answer(), 1.5)
    fake_api.for_model("claude-sonnet-5-5", [error(500), too_late, error(503)])
    fake_api.for_model("claude-haiku-5-5", [too_late, error(500), too_late])
    provider = make_provider(llm={"timeout_seconds": 0.3})
    started = time.monotonic()
    outcome = provider.propose(repo, plan(), None)

    assert time.monotonic() - started < 10
    assert outcome.edits == () and outcome.provider == "llm"
    [final] = [n for n in outcome.notes if n.startswith(CATALOG_ONLY)]
    assert "claude-sonnet-5-5, claude-haiku-5-5" in final and "last error: timeout" in final
    assert "fell back to claude-haiku-5-5 after claude-sonnet-5-5 failed (503 api_error)" in outcome.notes
    assert "retried after 500 api_error" in outcome.notes and "retried after timeout" in outcome.notes
    assert len(fake_api.requests) == 6
    again = provider.propose(repo, plan(), None)
    assert again.edits == () and len(fake_api.requests) == 6, "a dead API is not called again in the same run"
    assert again.notes[-1].startswith(CATALOG_ONLY)


def test_rejected_key_stops_at_once_without_fallback(repo, fake_api, make_provider):
    fake_api.add(error(401, None, "invalid x-api-key"))
    outcome = make_provider().propose(repo, plan(), None)
    assert outcome.edits == () and len(fake_api.requests) == 1
    assert any("refused the key (401 authentication_error)" in n for n in outcome.notes)


def test_run_token_budget_stops_before_any_request(repo, fake_api, make_provider):
    outcome = make_provider(llm={"tokens_per_run": 1000}).propose(repo, plan(), None)
    assert fake_api.requests == [] and outcome.edits == ()
    assert any(n.startswith(f"{CATALOG_ONLY}: LLM budget exceeded: run token budget of 1000") for n in outcome.notes)


def test_budget_reached_mid_conversation_keeps_accepted_edits_and_stops_calling(repo, fake_api, make_provider):
    fake_api.add(
        tools(
            tool_call("set_docstring", target="pkg/shapes.py:Box.scaled", docstring=DOC),
            input_tokens=20_000,
            output_tokens=500,
        )
    )
    provider = make_provider(llm={"tokens_per_run": 22_000})
    outcome = provider.propose(repo, plan(), None)

    assert len(fake_api.requests) == 1 and len(outcome.edits) == 1
    assert any("run token budget of 22000 reached (20500 used)" in n and "kept 1 edit" in n for n in outcome.notes)
    assert provider.usage_summary()["stopped"].startswith("LLM budget exceeded")


def test_daily_cost_budget_is_shared_across_runs_through_sqlite(repo, fake_api, make_provider, tmp_path):
    UsageLedger(tmp_path / "usage.sqlite").record(repository_key(repo), 1000, 1000, 4.99)
    fake_api.add(good_answer(), finish())
    first = make_provider(llm={"cost_per_day_usd": 5.10}).propose(repo, plan(), None)
    assert len(first.edits) == 1 and len(fake_api.requests) == 2, "under the daily budget the run proceeds"
    day = UsageLedger(tmp_path / "usage.sqlite").day(repository_key(repo))
    assert day.requests == 3 and day.cost_usd > 5.0

    fake_api.requests.clear()
    second = make_provider(llm={"cost_per_day_usd": 5.0}).propose(repo, plan(), None)
    assert fake_api.requests == [] and second.edits == ()
    assert any("daily cost budget of $5.00 for this repository reached" in n for n in second.notes)


def test_usage_summary_reports_tokens_cost_and_models(repo, fake_api, make_provider):
    fake_api.add(good_answer(), finish())
    provider = make_provider()
    provider.propose(repo, plan(), None)
    summary = provider.usage_summary()
    assert summary["input_tokens"] == 2400 and summary["output_tokens"] == 600 and summary["requests"] == 2
    assert summary["models"] == ["claude-sonnet-5-5"]
    assert abs(summary["estimated_cost_usd"] - (2400 * 3 + 600 * 15) / 1e6) < 1e-9
    assert summary["budget"]["tokens_per_run"] == 200_000 and "estimated" in summary["cost_note"]
