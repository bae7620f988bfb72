"""Installation lifecycle: installs, uninstalls, suspensions and selection changes drive enrolment
and per-repository cron schedules."""

from __future__ import annotations

import pytest

from bot.db import store
from bot.handlers import installations
from bot.jobs.queue import schedule_id
from bot.routing import Router
from tests.bot.conftest import context_of, drain, example, post_webhook


@pytest.fixture
def client(app_factory):
    return app_factory(router=Router(installations.router))


def _schedules(client) -> dict[int, str]:
    return client.portal.call(context_of(client).jobs.schedules)


def _deliver(client, event, payload):
    assert post_webhook(client, event, payload).status_code == 202
    drain(client)


def _installed(client, repos=((1001, "octo/one"), (1002, "octo/two")), installation_id=77):
    payload = example("installation", "created")
    payload["installation"]["id"] = installation_id
    payload["repositories"] = [
        {"id": rid, "name": name.split("/")[1], "full_name": name, "private": False} for rid, name in repos
    ]
    _deliver(client, "installation", payload)
    return payload


def test_installation_created_enrols_repositories_with_weekly_schedules(client):
    _installed(client)
    db = context_of(client).db
    installation = store.get_installation(db, 77)
    assert installation is not None and not installation.suspended and not installation.deleted
    assert installation.account_login
    repos = {r.full_name: r for r in store.repositories_of(db, 77)}
    assert set(repos) == {"octo/one", "octo/two"}
    assert all(r.enrolled and r.schedule == "0 6 * * 1" for r in repos.values())
    schedules = _schedules(client)
    assert set(schedules) == {1001, 1002}
    assert "minute='0'" in schedules[1001] and "hour='6'" in schedules[1001] and "day_of_week='mon'" in schedules[1001]


def test_real_installation_payload_enrols_its_repositories(client):
    payload = example("installation", "created")
    _deliver(client, "installation", payload)
    expected = {r["full_name"] for r in payload.get("repositories") or []}
    names = {r.full_name for r in store.repositories_of(context_of(client).db, payload["installation"]["id"])}
    assert names == expected


def test_installation_deleted_unenrols_and_unschedules(client):
    payload = _installed(client)
    payload["action"] = "deleted"
    _deliver(client, "installation", payload)
    db = context_of(client).db
    assert store.get_installation(db, 77).deleted
    assert not any(r.enrolled for r in store.repositories_of(db, 77))
    assert _schedules(client) == {}


def test_suspend_and_unsuspend_stop_and_restore_schedules(client):
    payload = _installed(client)
    _deliver(client, "installation", {**payload, "action": "suspend"})
    assert store.get_installation(context_of(client).db, 77).suspended
    assert _schedules(client) == {}
    assert store.enrolled_repositories(context_of(client).db) == []
    _deliver(client, "installation", {**payload, "action": "unsuspend"})
    assert not store.get_installation(context_of(client).db, 77).suspended
    assert set(_schedules(client)) == {1001, 1002}


def test_repositories_added_and_removed(client):
    _installed(client, repos=((1001, "octo/one"),))
    change = example("installation_repositories", "added")
    change["installation"]["id"] = 77
    change["repositories_added"] = [{"id": 1003, "name": "three", "full_name": "octo/three", "private": True}]
    _deliver(client, "installation_repositories", change)
    assert set(_schedules(client)) == {1001, 1003}
    assert store.get_repository(context_of(client).db, 1003).private

    removal = {
        **change,
        "action": "removed",
        "repositories_added": [],
        "repositories_removed": [{"id": 1001, "name": "one", "full_name": "octo/one"}],
    }
    _deliver(client, "installation_repositories", removal)
    assert set(_schedules(client)) == {1003}
    assert not store.get_repository(context_of(client).db, 1001).enrolled


def test_custom_schedule_is_applied_and_survives_a_restart(app_factory, settings):
    client = app_factory(router=Router(installations.router))
    _installed(client, repos=((1001, "octo/one"),))
    client.portal.call(context_of(client).jobs.set_schedule, 1001, "30 2 * * *")
    assert "hour='2'" in _schedules(client)[1001]
    client.__exit__(None, None, None)
    again = app_factory(router=Router(installations.router))
    assert "hour='2'" in _schedules(again)[1001]
    assert store.get_repository(context_of(again).db, 1001).schedule == "30 2 * * *"


def test_schedule_ids_are_stable():
    assert schedule_id(42) == "repository-42"


def test_ensure_repository_records_a_repository_seen_first_in_a_comment(client):
    from bot.routing import Event

    payload = example("issue_comment", "created")
    event = Event.from_payload("issue_comment", payload, "x")
    repo = client.portal.call(installations.ensure_repository, context_of(client), event)
    assert repo is not None and repo.full_name == payload["repository"]["full_name"] and repo.enrolled
    assert payload["repository"]["id"] in _schedules(client)
