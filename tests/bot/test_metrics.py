"""`GET /metrics`: Prometheus text with intake, processing, run and GitHub-call figures of this process."""

from __future__ import annotations

from prometheus_client.parser import text_string_to_metric_families

from tests.fakegithub.fixtures import BotWorld
from tests.fakegithub.stub_engine import StubEngine


def _samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def _value(samples: dict, name: str, **labels: str) -> float:  # type: ignore[type-arg]
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


def test_metrics_count_a_comment_from_intake_to_run(bot_world: BotWorld, engine: StubEngine) -> None:
    bot_world.install()
    before = _samples(bot_world.client.get("/metrics").text)
    bot_world.comment("alice", "/evolve run")
    response = bot_world.client.get("/metrics")
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/plain")
    after = _samples(response.text)

    def grew(name: str, **labels: str) -> float:
        return _value(after, name, **labels) - _value(before, name, **labels)

    assert grew("evolve_webhook_responses_total", event="issue_comment", outcome="accepted") == 1
    assert grew("evolve_deliveries_processed_total", event="issue_comment", status="processed") == 1
    assert grew("evolve_intake_seconds_count") == 1
    assert grew("evolve_runs_total", status="succeeded") == 1
    assert grew("evolve_run_seconds_count") == 1
    assert grew("evolve_github_calls_total", endpoint="POST /repos/{o}/{r}/pulls", status="201") == 1
    assert ("evolve_delivery_queue_depth", ()) in after


def test_an_unsigned_event_header_never_becomes_a_label(bot_world: BotWorld) -> None:
    response = bot_world.client.post(
        "/webhook", content=b"{}", headers={"X-GitHub-Event": "x" * 30 + "-evil", "X-GitHub-Delivery": "d"}
    )
    assert response.status_code == 401
    text = bot_world.client.get("/metrics").text
    assert "evil" not in text and 'event="unverified",outcome="unsigned"' in text
