"""Webhook intake: signatures, size limit, malformed bodies, duplicates, health probes."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from bot.db import store
from bot.db.models import Delivery
from tests.bot.conftest import (
    RecordingRouter,
    context_of,
    drain,
    example,
    post_webhook,
    sealer_of,
    sign,
    webhook_headers,
)


def _rows(client) -> list[Delivery]:
    with context_of(client).db() as session:
        return list(session.scalars(select(Delivery)))


@pytest.fixture
def recorder() -> RecordingRouter:
    return RecordingRouter()


@pytest.fixture
def client(app_factory, recorder):
    return app_factory(router=recorder)


def test_valid_delivery_is_recorded_queued_and_processed(client, recorder):
    payload = example("issue_comment", "created")
    response = post_webhook(client, "issue_comment", payload, delivery_id="d-1")
    assert response.status_code == 202
    assert response.json()["delivery"] == "d-1"
    drain(client)
    [row] = _rows(client)
    assert (row.delivery_id, row.event, row.action, row.status) == ("d-1", "issue_comment", "created", "processed")
    assert row.installation_id == payload.get("installation", {}).get("id")
    assert json.loads(row.payload) == payload
    assert [(e.name, e.action, e.delivery_id) for e in recorder.seen] == [("issue_comment", "created", "d-1")]


@pytest.mark.parametrize("secret", [None, "wrong secret"])
def test_unsigned_or_wrongly_signed_delivery_is_rejected_without_trace(client, recorder, secret):
    response = post_webhook(client, "issues", example("issues"), secret=secret)
    assert response.status_code == 401
    drain(client)
    assert _rows(client) == [] and recorder.seen == []


def test_tampered_body_is_rejected(client, recorder):
    body = json.dumps(example("issues")).encode()
    headers = webhook_headers("issues", body)
    response = client.post("/webhook", content=body.replace(b"}", b" }", 1), headers=headers)
    assert response.status_code == 401
    assert _rows(client) == []


def test_sha1_style_signature_in_the_sha256_header_is_rejected(client):
    import hashlib
    import hmac

    body = b'{"action": "opened"}'
    headers = webhook_headers("issues", body)
    headers["X-Hub-Signature-256"] = "sha1=" + hmac.new(b"it's a secret to everybody", body, hashlib.sha1).hexdigest()
    assert client.post("/webhook", content=body, headers=headers).status_code == 401
    assert _rows(client) == []


def test_no_configured_secret_rejects_everything(app_factory, make_settings):
    client = app_factory(settings=make_settings(webhook_secret=None), router=RecordingRouter())
    assert post_webhook(client, "issues", example("issues")).status_code == 401
    assert _rows(client) == []


def test_duplicate_delivery_is_acknowledged_and_processed_once(client, recorder):
    payload = example("issues", "opened")
    first = post_webhook(client, "issues", payload, delivery_id="same")
    second = post_webhook(client, "issues", payload, delivery_id="same")
    drain(client)
    third = post_webhook(client, "issues", payload, delivery_id="same")
    drain(client)
    assert first.status_code == 202
    assert second.status_code == 200 and third.status_code == 200
    assert len(_rows(client)) == 1
    assert len(recorder.seen) == 1


def test_body_over_the_limit_is_413_and_not_recorded(app_factory, make_settings):
    client = app_factory(settings=make_settings(max_body_bytes=1024), router=RecordingRouter())
    body = json.dumps({"action": "opened", "padding": "x" * 2000}).encode()
    response = client.post("/webhook", content=body, headers=webhook_headers("issues", body))
    assert response.status_code == 413
    assert _rows(client) == []


def test_body_over_the_limit_without_content_length_is_413(app_factory, make_settings):
    client = app_factory(settings=make_settings(max_body_bytes=1024), router=RecordingRouter())
    body = json.dumps({"padding": "x" * 4000}).encode()

    def chunks():
        for start in range(0, len(body), 500):
            yield body[start : start + 500]

    response = client.post("/webhook", content=chunks(), headers=webhook_headers("issues", body))
    assert response.status_code == 413
    assert _rows(client) == []


@pytest.mark.parametrize("body", [b"{not json", b"\xff\xfe{}", b"[1, 2]", b'"text"'])
def test_malformed_json_with_valid_signature_is_400_and_not_recorded(client, body):
    response = client.post("/webhook", content=body, headers=webhook_headers("issues", body))
    assert response.status_code == 400
    assert _rows(client) == []


def test_missing_delivery_header_is_400(client):
    body = json.dumps(example("issues")).encode()
    headers = webhook_headers("issues", body)
    del headers["X-GitHub-Delivery"]
    assert client.post("/webhook", content=body, headers=headers).status_code == 400
    assert _rows(client) == []


def test_missing_event_header_is_400(client):
    body = b"{}"
    headers = webhook_headers("issues", body)
    del headers["X-GitHub-Event"]
    assert client.post("/webhook", content=body, headers=headers).status_code == 400


def test_ping_answers_200_and_records_nothing(client):
    payload = example("ping")
    response = post_webhook(client, "ping", payload)
    assert response.status_code == 200
    assert response.json()["message"] == "pong"
    assert _rows(client) == []


def test_ping_still_needs_a_signature(client):
    assert post_webhook(client, "ping", example("ping"), secret=None).status_code == 401


def test_unhandled_event_is_recorded_and_ignored(client):
    assert post_webhook(client, "star", {"action": "created"}, delivery_id="s-1").status_code == 202
    drain(client)
    assert [r.status for r in _rows(client)] == ["ignored"]


def test_failing_handler_is_retried_then_processed(client, recorder):
    recorder.fail_times = 1
    post_webhook(client, "issues", example("issues"), delivery_id="flaky")
    drain(client)
    row = store.get_delivery(context_of(client).db, "flaky")
    assert row.status == "queued" and row.attempts == 1 and "failed on purpose" in row.error
    # The retry is due after a backoff; make it due now and let the sweep find it.
    store.mark_delivery(context_of(client).db, "flaky", "queued")
    client.portal.call(context_of(client).jobs.sweep)
    drain(client)
    row = store.get_delivery(context_of(client).db, "flaky")
    assert (row.status, row.attempts) == ("processed", 2)
    assert len(recorder.seen) == 2


def test_delivery_failing_every_time_ends_failed(app_factory, make_settings):
    recorder = RecordingRouter()
    recorder.fail_times = 100
    client = app_factory(settings=make_settings(delivery_attempts=1), router=recorder)
    post_webhook(client, "issues", example("issues"), delivery_id="doomed")
    drain(client)
    row = store.get_delivery(context_of(client).db, "doomed")
    assert row.status == "failed" and "RuntimeError" in row.error


def test_healthz_and_readyz(client):
    assert client.get("/healthz").json() == {"status": "ok"}
    ready = client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json() == {"status": "ready", "database": True, "migrated": True, "scheduler": True}


def test_readyz_is_503_when_the_scheduler_is_down(client):
    scheduler = context_of(client).jobs.scheduler
    client.portal.call(scheduler.stop)
    client.portal.call(scheduler.wait_until_stopped)
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["scheduler"] is False


def test_signature_helper_matches_githubkit():
    from githubkit.webhooks import sign as githubkit_sign

    assert sign(b"abc") == githubkit_sign("it's a secret to everybody", b"abc", "sha256")


def test_signature_check_accepts_only_a_well_formed_sha256_hmac():
    from bot.intake.webhooks import signature_ok
    from tests.bot.conftest import WEBHOOK_SECRET, sign

    body = b'{"zen": "x"}'
    good = sign(body)
    assert signature_ok(WEBHOOK_SECRET, body, good)
    for bad in (
        None,
        "",
        good[:-1],
        good + "0",
        "sha1=" + good[7:],
        good.replace("sha256=", "sha512="),
        "sha256=" + "zz" * 32,
        "sha256=" + "é" * 64,
        sign(body + b" "),
    ):
        assert not signature_ok(WEBHOOK_SECRET, body, bad), bad
    assert not signature_ok(None, body, good) and not signature_ok("other", body, good)


def test_every_delivery_outcome_is_one_log_line_with_the_delivery_id(client, caplog):
    caplog.set_level("INFO", logger="bot.intake.webhooks")
    payload = example("issues", "opened")
    post_webhook(client, "issues", payload, delivery_id="log-ok")
    post_webhook(client, "issues", payload, delivery_id="log-ok")
    post_webhook(client, "issues", payload, delivery_id="log-unsigned", secret=None)
    body = b"{not json"
    client.post("/webhook", content=body, headers=webhook_headers("issues", body, "log-bad"))
    lines = [r.getMessage() for r in caplog.records if r.name == "bot.intake.webhooks"]
    assert lines == [
        "delivery log-ok: accepted (202) event=issues",
        "delivery log-ok: duplicate (200) event=issues",
        "delivery log-unsigned: unsigned (401) event=issues",
        "delivery log-bad: malformed (400) event=issues",
    ]


def test_deeply_nested_signed_payload_is_400_not_500(client):
    for body in (b"[" * 100_000 + b"]" * 100_000, b'{"a":' * 5000 + b"1" + b"}" * 5000):
        response = client.post("/webhook", content=body, headers=webhook_headers("issues", body))
        assert response.status_code == 400
    assert _rows(client) == []


def test_the_web_process_records_what_it_does_not_parse(app_factory, recorder):
    """`--role web` only summarises a body (it never handles the delivery): same answers, same row."""
    client = app_factory(router=recorder, role="web")
    assert not context_of(client).jobs.works
    payload = example("installation", "created")
    assert post_webhook(client, "installation", payload, delivery_id="web-1").status_code == 202
    [row] = _rows(client)
    assert (row.delivery_id, row.action, row.status) == ("web-1", "created", "queued")
    assert row.installation_id == payload["installation"]["id"] and json.loads(row.payload) == payload
    assert recorder.seen == []  # a worker handles it, not the web process
    answers = {}
    for name, body in {"array": b"[1]", "broken": b"{not json", "deep": b"[" * 100_000 + b"]" * 100_000}.items():
        response = client.post("/webhook", content=body, headers=webhook_headers("issues", body, f"web-{name}"))
        answers[name] = (response.status_code, response.json()["message"])
    assert answers == {
        "array": (400, "payload is not a JSON object"),
        "broken": (400, "payload is not valid JSON"),
        "deep": (400, "payload is not valid JSON"),
    }
    ping = json.dumps({"zen": "Keep it logically awesome.", "hook_id": 1}).encode()
    response = client.post("/webhook", content=ping, headers=webhook_headers("ping", ping, "web-ping"))
    assert response.status_code == 200 and response.json() == {"message": "pong", "zen": "Keep it logically awesome."}
    assert [row.delivery_id for row in _rows(client)] == ["web-1"]


def test_a_worker_ignores_a_stored_payload_only_the_web_process_summary_accepted(app_factory):
    """What `--role web` may let through (bot/intake/payloads.py) reaches no handler: the worker marks it ignored."""
    from bot.intake.payloads import summarize_payload

    recorder = RecordingRouter(events=("issues",))
    client = app_factory(router=recorder, role="worker")
    ctx = context_of(client)
    long_number = '{"action": "opened", "n": ' + "9" * 5000 + "}"
    deep = '{"action": "opened", "z": ' + "[" * 1100 + "]" * 1100 + "}"
    assert summarize_payload(long_number.encode()).action == "opened"  # intake would have taken it
    for delivery_id, payload in {"long": long_number, "deep": deep, "fine": '{"action": "opened"}'}.items():
        store.record_delivery(ctx.engine, delivery_id, "issues", payload, action="opened", sealer=sealer_of(ctx))
    client.portal.call(ctx.jobs.sweep_deliveries)
    drain(client)
    assert [e.delivery_id for e in recorder.seen] == ["fine"]
    rows = {row.delivery_id: row for row in _rows(client)}
    assert {i: rows[i].status for i in rows} == {"long": "ignored", "deep": "ignored", "fine": "processed"}
    assert rows["long"].error.startswith("payload is not valid JSON: Exceeds the limit (4300 digits)")
    assert rows["deep"].error == "payload is not valid JSON: payload nested too deeply"
