"""The status pages in the real app against the fake GitHub: login required, GitHub sign-in (state checked, the
user sees only what GitHub lists for them), the operator token, logout, cookies, pagination and escaping."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from pydantic import SecretStr

from bot.db import status_queries
from bot.db.run_request import RunRequest
from bot.db.status_sessions import Viewer, create_session, session_viewer
from tests.bot.conftest import context_of
from tests.bot.status_world import DOCSTRINGS, GAP_SCORES, HOSTILE, MAINTAINABILITY, NOW, fill

OPERATOR_TOKEN = "operator-token-for-the-status-pages-0123456789"
PAGES = ("/status", "/status/queue", "/status/runs", "/status/runs/1", "/status/repositories/9001")


@pytest.fixture
def site(fake_github, make_settings, app_factory) -> Any:
    """The app with GitHub sign-in and an operator token, a filled store, and alice known to the fake GitHub."""
    fake = fake_github
    fake.add_installation(501, "acme")
    fake.add_installation(502, "other")
    widgets = fake.add_repo("acme/widgets", 501, repo_id=9001)
    gadgets = fake.add_repo("acme/gadgets", 501, repo_id=9002)
    fake.add_repo("other/secret-plans", 502, repo_id=9003)
    fake.set_permission(widgets, "alice", "write")
    fake.set_permission(gadgets, "alice", "read")
    settings = make_settings(
        github_url=fake.base_url,
        client_id=fake.state.client_id,
        client_secret=SecretStr(fake.state.client_secret),
        operator_token=SecretStr(OPERATOR_TOKEN),
    )
    client = app_factory(settings=settings, role="web")  # no worker: the stored runs stay as they are
    world = fill(context_of(client).db)
    return client, fake, world


def _sign_in_with_github(client: Any, fake: Any, login: str, next_path: str = "/status") -> httpx.Response:
    fake.sign_in(login)
    start = client.get("/status/login/github", params={"next": next_path}, follow_redirects=False)
    assert start.status_code == 303
    authorize = httpx.get(start.headers["location"], follow_redirects=False)
    assert authorize.status_code == 302
    back = urlsplit(authorize.headers["location"])
    assert back.path == "/status/callback"
    return client.get(f"{back.path}?{back.query}", follow_redirects=False)


def _sign_in_with_token(client: Any, token: str = OPERATOR_TOKEN, next_path: str = "/status") -> httpx.Response:
    return client.post(
        "/status/login/token",
        content=f"token={token}&next={next_path}",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
        follow_redirects=False,
    )


def test_the_pages_are_off_until_someone_can_sign_in(app_factory, make_settings):
    client = app_factory(settings=make_settings())
    for path in (*PAGES, "/status/login"):
        assert client.get(path, follow_redirects=False).status_code == 404


def test_every_page_sends_a_stranger_to_the_sign_in_page(site):
    client, _, _ = site
    for path in PAGES:
        answer = client.get(path, follow_redirects=False)
        assert answer.status_code == 303, path
        location = urlsplit(answer.headers["location"])
        assert location.path == "/status/login"
        assert parse_qs(location.query)["next"] == [path]
    login = client.get("/status/login")
    assert "Sign in with GitHub" in login.text and 'name="token"' in login.text


def test_the_operator_token_signs_in_and_sees_every_installation(site):
    client, _, world = site
    answer = _sign_in_with_token(client, next_path="/status/queue")
    assert answer.status_code == 303 and answer.headers["location"] == "/status/queue"
    cookie = answer.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie and "Path=/status" in cookie
    assert "Secure" not in cookie  # plain http here; see the https test below
    overview = client.get("/status").text
    for name in ("acme/widgets", "acme/gadgets", "other/secret-plans"):
        assert name in overview
    queue = client.get("/status/queue").text
    assert re.search(r'data-deliveries="queued">2</div>deliveries queued<', queue)
    assert re.search(r'id="runs-queued">1</div>run queued<', queue)  # "1 run", never "1 runs"
    assert client.get(f"/status/runs/{world.secret_run}").status_code == 200


def test_a_wrong_operator_token_is_refused(site):
    client, _, _ = site
    answer = _sign_in_with_token(client, token="not-the-token")
    assert answer.status_code == 403 and "not the operator token" in answer.text
    assert "set-cookie" not in answer.headers
    assert client.get("/status", follow_redirects=False).status_code == 303


def test_scripts_may_send_the_operator_token_as_a_bearer_header(site):
    client, _, _ = site
    assert client.get("/status/runs", headers={"Authorization": f"Bearer {OPERATOR_TOKEN}"}).status_code == 200
    wrong = client.get("/status/runs", headers={"Authorization": "Bearer nope"}, follow_redirects=False)
    assert wrong.status_code == 303


def test_a_github_user_sees_only_what_github_lists_for_them(site):
    client, fake, world = site
    answer = _sign_in_with_github(client, fake, "alice", "/status/runs")
    assert answer.status_code == 303 and answer.headers["location"] == "/status/runs"
    overview = client.get("/status").text
    assert "acme/widgets" in overview and "acme/gadgets" in overview
    assert "secret-plans" not in overview and ">other<" not in overview
    runs = client.get("/status/runs").text
    assert "secret-plans" not in runs and "secret-theme" not in runs
    queue = client.get("/status/queue").text
    assert "secret-plans" not in queue and "data-deliveries" not in queue  # deliveries: operator only
    assert client.get(f"/status/runs/{world.secret_run}").status_code == 404
    assert client.get(f"/status/repositories/{world.secret}").status_code == 404
    assert client.get(f"/status/runs?repo={world.secret}").status_code == 404
    assert client.get(f"/status/runs/{world.widget_runs[0]}").status_code == 200
    # What GitHub was asked, with the user's token: who they are and what they can access.
    asked = [r.path for r in fake.requests if r.path.startswith("/user")]
    assert asked == ["/user", "/user/installations", "/user/installations/501/repositories"]


def test_a_user_github_lists_nothing_for_sees_nothing(site):
    client, fake, _ = site
    assert _sign_in_with_github(client, fake, "mallory").status_code == 303
    overview = client.get("/status").text
    assert "No repository you can see." in overview and "acme/widgets" not in overview
    assert "secret-plans" not in client.get("/status/runs").text


def test_a_callback_without_the_state_this_browser_started_with_is_refused(site):
    client, fake, _ = site
    fake.sign_in("alice")
    start = client.get("/status/login/github", follow_redirects=False)
    authorize = httpx.get(start.headers["location"], follow_redirects=False)
    query = parse_qs(urlsplit(authorize.headers["location"]).query)
    forged = client.get(f"/status/callback?code={query['code'][0]}&state=forged", follow_redirects=False)
    assert forged.status_code == 400
    assert "evolve_status_session" not in forged.headers.get("set-cookie", "")
    client.cookies.clear()
    no_cookie = client.get(
        f"/status/callback?code={query['code'][0]}&state={query['state'][0]}", follow_redirects=False
    )
    assert no_cookie.status_code == 400
    assert client.get("/status", follow_redirects=False).status_code == 303


def test_a_code_github_refuses_does_not_sign_in(site):
    client, fake, _ = site
    fake.sign_in("alice")
    start = client.get("/status/login/github", follow_redirects=False)
    state = parse_qs(urlsplit(start.headers["location"]).query)["state"][0]
    answer = client.get(f"/status/callback?code=made-up&state={state}", follow_redirects=False)
    assert answer.status_code == 403 and "incorrect or expired" in answer.text
    assert client.get("/status", follow_redirects=False).status_code == 303


def test_logout_ends_the_session_for_every_copy_of_the_cookie(site):
    client, _, _ = site
    _sign_in_with_token(client)
    copied = dict(client.cookies)
    out = client.post("/status/logout", follow_redirects=False)
    assert out.status_code == 303 and out.headers["location"] == "/status/login"
    client.cookies.clear()
    for name, value in copied.items():
        client.cookies.set(name, value)
    assert client.get("/status", follow_redirects=False).status_code == 303


def test_cookies_are_secure_when_the_public_url_is_https(fake_github, make_settings, app_factory):
    settings = make_settings(operator_token=SecretStr(OPERATOR_TOKEN), public_url="https://evolve.example.com")
    client = app_factory(settings=settings)
    assert "Secure" in _sign_in_with_token(client).headers["set-cookie"]


def test_after_sign_in_the_browser_never_leaves_the_status_pages(site):
    client, _, _ = site
    for target in ("https://evil.example/", "//evil.example/status", "/setup", "/status\\@evil"):
        answer = _sign_in_with_token(client, next_path=target)
        assert answer.headers["location"] == "/status", target


def test_text_from_repositories_and_users_is_escaped(site):
    client, _, _ = site
    _sign_in_with_token(client)
    runs = client.get("/status/runs").text
    page = client.get("/status/runs?status=failed").text
    run_id = re.search(r'href="/status/runs/(\d+)"', page).group(1)
    run = client.get(f"/status/runs/{run_id}").text
    for text in (runs, run):
        assert HOSTILE not in text
        assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in text


def test_the_repository_page_charts_the_stored_metrics(site):
    client, _, world = site
    _sign_in_with_token(client)
    page = client.get(f"/status/repositories/{world.widgets}").text
    charts = re.findall(r"<svg.*?</svg>", page, re.S)
    by_title = {re.search(r'aria-label="([^"]+)"', svg).group(1): svg for svg in charts}
    maintainability = by_title["Maintainability index"]
    assert [float(v) for v in re.findall(r'data-value="([^"]+)"', maintainability)] == list(MAINTAINABILITY)
    coverage = by_title["Coverage"]
    docstrings = re.search(r'data-series="docstring coverage">(.*?)</g>', coverage, re.S).group(1)
    assert [float(v) for v in re.findall(r'data-value="([^"]+)"', docstrings)] == list(DOCSTRINGS)
    outcomes = by_title["Evolve pull requests opened per week, by outcome"]
    counted = {
        category: sum(int(n) for n in re.findall(rf'data-category="{category}" data-count="(\d+)"', outcomes))
        for category in ("merged", "closed", "open")
    }
    assert counted == {"merged": 5, "closed": 2, "open": 1}
    assert re.search(r'data-outcome="open">1<', page)


def test_the_repository_page_charts_the_test_gap_score_and_lists_the_newest_survivors(site):
    client, _, world = site
    _sign_in_with_token(client)
    page = client.get(f"/status/repositories/{world.widgets}").text
    chart = re.search(r'id="test-gap-chart">(.*?)</div>', page, re.S).group(1)
    assert 'aria-label="Mutation score of the test-gap sample"' in chart
    assert [float(v) for v in re.findall(r'data-value="([^"]+)"', chart)] == list(GAP_SCORES)
    summary = re.search(r'id="test-gap-summary">(.*?)</p>', page, re.S).group(1)
    newest = world.widget_runs[-1]
    assert f'href="/status/runs/{newest}"' in summary
    assert "40 mutants over 10 functions: 30 killed, 10 survived, 0 timed out; score 75%" in summary
    table = re.search(r'id="test-gap-survivors">(.*?)</table>', page, re.S).group(1)
    assert "<code>src/a.py:12</code>" in table and "<code>parse</code>" in table
    assert "<code>- n &lt; 3 + n &lt;= 3</code>" in table
    assert HOSTILE not in page and "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in table
    # A repository no run sampled says so in its chart, and lists nothing.
    other = client.get(f"/status/repositories/{world.gadgets}").text
    assert "no test-gap sample yet" in re.search(r'id="test-gap-chart">(.*?)</div>', other, re.S).group(1)
    assert 'id="test-gap-summary"' not in other


def test_the_run_page_shows_the_timeline_gates_and_pull_request(site):
    client, _, world = site
    _sign_in_with_token(client)
    page = client.get(f"/status/runs/{world.widget_runs[1]}").text
    assert 'id="pr-link"' in page and "/acme/widgets/pull/41" in page
    assert "412 tests passed on base and head" in page
    timeline = re.search(r'<ol class="timeline" id="timeline">(.*?)</ol>', page, re.S).group(1)
    labels = re.findall(r"<strong>(.*?)</strong>", timeline)
    assert labels == ["queued", "started", "planned", "attempt 1", "finished: succeeded", "pull request #41: closed"]


def test_the_run_list_pages_through_every_run_once(site):
    client, _, world = site
    db = context_of(client).db
    from bot.db import store

    for _ in range(120):
        store.create_run(db, RunRequest(world.gadgets, "schedule"))
    _sign_in_with_token(client)
    seen: list[int] = []
    url = f"/status/runs?repo={world.gadgets}"
    while url:
        page = client.get(url).text
        seen += [int(n) for n in re.findall(r'<td><a href="/status/runs/(\d+)">', page)]
        older = re.search(r'href="([^"]+)" rel="next"', page)
        url = older.group(1).replace("&amp;", "&") if older else ""
    assert len(seen) == 121 == len(set(seen)) and seen == sorted(seen, reverse=True)
    # Back from the last page to the first through the "newer" links.
    page = client.get(f"/status/runs?repo={world.gadgets}&before={seen[-1] + 1}").text
    back: list[int] = []
    while True:
        back = [int(n) for n in re.findall(r'<td><a href="/status/runs/(\d+)">', page)] + back
        newer = re.search(r'href="([^"]+)" rel="prev"', page)
        if not newer:
            break
        page = client.get(newer.group(1).replace("&amp;", "&")).text
    assert back == seen
    assert client.get("/status/runs?status=bogus").status_code == 400


def test_a_session_stops_working_when_it_expires(site):
    client, _, _ = site
    db = context_of(client).db
    viewer = Viewer("alice", False, frozenset({501}), frozenset({9001}))
    create_session(db, "a-session-id", viewer, timedelta(hours=1))
    assert session_viewer(db, "a-session-id") == viewer
    assert session_viewer(db, "a-session-id", now=NOW + timedelta(hours=2)) is None
    assert session_viewer(db, "another-id") is None


def test_queries_keep_to_the_repositories_a_viewer_sees(site):
    client, _, world = site
    db = context_of(client).db
    alice = frozenset({world.widgets, world.gadgets})
    assert {r.full_name for r in status_queries.repositories(db, alice)} == {"acme/widgets", "acme/gadgets"}
    assert {i.account_login for i in status_queries.installations(db, frozenset({world.acme}), alice)} == {"acme"}
    assert status_queries.run_record(db, world.secret_run, alice) is None
    widgets = next(r for r in status_queries.repositories(db, None) if r.id == world.widgets)
    assert (widgets.open_prs, widgets.queued, widgets.running) == (1, 1, 0)
    assert widgets.last_run is not None and widgets.last_run.id == world.queued_run


def test_the_repository_page_shows_where_each_evolve_pr_stands(site):
    from bot.db.pull_lifecycle import set_pull_state

    client, _, world = site
    db = client.app.state.ctx.db
    set_pull_state(db, world.widgets, 41, state="retrying", attempts=1, ci_retries=1, reason="CI failed: tests")
    set_pull_state(db, world.widgets, 42, state="stopped", attempts=3, ci_retries=2, reason="<b>tests</b> still failed")
    _sign_in_with_token(client)
    page = client.get(f"/status/repositories/{world.widgets}").text
    rows = re.search(r'<table id="pull-states">(.*?)</table>', page, re.S).group(1)
    assert re.search(r'#41</a></td><td data-state="retrying">retrying 2/3</td><td>1/3</td><td>1</td>', rows)
    assert "stopped: &lt;b&gt;tests&lt;/b&gt; still failed" in rows and rows.index("#42") < rows.index("#41")
