"""Every real payload of the subscribed events (GitHub.com and Enterprise Server), signed, is
accepted or cleanly ignored: never a 5xx, and never a failed delivery in the service's handlers."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from bot.db.models import Delivery
from bot.handlers import installations
from bot.routing import Event, Router
from tests.bot.conftest import SUBSCRIBED_EVENTS, context_of, drain, post_webhook, webhook_examples

EXAMPLES = webhook_examples()


def test_fixtures_cover_every_subscribed_event_from_every_source():
    sources = {source for source, *_ in EXAMPLES}
    assert {"api.github.com", "ghes-35"} <= sources
    for source in sources:
        assert {event for s, event, *_ in EXAMPLES if s == source} == set(SUBSCRIBED_EVENTS)
    assert len(EXAMPLES) >= 150


def test_every_real_payload_is_accepted_and_handled(app_factory):
    client = app_factory(router=Router(installations.router))
    statuses = {}
    for number, (source, event, index, payload) in enumerate(EXAMPLES):
        response = post_webhook(client, event, payload, delivery_id=f"{number}-{source}-{event}-{index}")
        statuses[(source, event, index)] = response.status_code
    assert not {key: code for key, code in statuses.items() if code >= 500}
    assert {code for (_, event, _), code in statuses.items() if event == "ping"} == {200}
    assert {code for (_, event, _), code in statuses.items() if event != "ping"} == {202}
    drain(client)
    with context_of(client).db() as session:
        rows = list(session.scalars(select(Delivery)))
    assert len(rows) == len([e for e in EXAMPLES if e[1] != "ping"])
    assert {row.status for row in rows} <= {"processed", "ignored"}, [
        (row.delivery_id, row.error) for row in rows if row.status not in ("processed", "ignored")
    ]


@pytest.mark.parametrize(
    "source,event,index,payload",
    EXAMPLES[:: max(1, len(EXAMPLES) // 40)],
    ids=lambda v: v if isinstance(v, (str, int)) else "",
)
def test_event_parsing_is_lenient(source, event, index, payload):
    parsed = Event.from_payload(event, payload, "id")
    assert parsed.name == event
    assert parsed.action == payload.get("action")
    assert parsed.payload is payload


@pytest.mark.parametrize(
    "payload",
    [
        {},
        {"action": 3},
        {"installation": "nope"},
        {"installation": {"id": "12"}},
        {"repository": None, "sender": []},
        {"action": "created", "installation": {"id": 1}, "repositories": "x"},
    ],
)
def test_odd_shaped_payloads_never_5xx(app_factory, payload):
    client = app_factory(router=Router(installations.router))
    for event in ("installation", "installation_repositories", "issue_comment", "pull_request"):
        assert post_webhook(client, event, payload).status_code == 202
    drain(client)
    with context_of(client).db() as session:
        assert {row.status for row in session.scalars(select(Delivery))} <= {"processed", "ignored"}
