"""`/status`: the operators' and maintainers' window into installations, repositories, queues and runs.

Server-rendered HTML (Jinja2, autoescaped) with SVG charts drawn on the server; no script. Every page needs a
login: GitHub sign-in with the App's client id and secret (the user sees the installations and repositories
GitHub lists for them) or the operator token (sees everything; also accepted as `Authorization: Bearer`).
"""

from __future__ import annotations

import logging
import secrets
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, quote, urlsplit

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup
from starlette.concurrency import run_in_threadpool

from bot.db import status_queries as queries
from bot.db.dashboard import latest_test_gaps
from bot.db.models import RUN_STATUSES
from bot.db.pull_lifecycle import pull_states
from bot.db.status_sessions import OPERATOR, Viewer, create_session, end_session, session_viewer
from bot.failure_limits import FailureLimiter, client_address, limiter_on
from bot.settings import Settings
from bot.status import access, github_oauth, views
from bot.status.svg_charts import line_chart, stacked_bars
from evolve.plan.tasks import TEST_GAPS_METRIC

log = logging.getLogger(__name__)
router = APIRouter()
TEMPLATES = Environment(
    loader=FileSystemLoader(Path(__file__).with_name("templates")),
    autoescape=select_autoescape(default=True, default_for_string=True),
    trim_blocks=True,
    lstrip_blocks=True,
)
PAGE_SIZE = 50
MAX_FORM_BYTES = 8192
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; form-action 'self'; "
        "frame-ancestors 'none'; base-uri 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",  # "no-referrer" would make the browser send `Origin: null` on our own forms
    "Cache-Control": "no-store",
}


def _when(moment: datetime | None) -> str:
    return f"{moment.astimezone(timezone.utc):%Y-%m-%d %H:%M} UTC" if moment is not None else ""


TEMPLATES.filters["when"] = _when
TEMPLATES.filters["duration"] = lambda pair: views.duration_text(*pair)


def _settings(request: Request) -> Settings:
    ctx = getattr(request.app.state, "ctx", None)
    return ctx.settings if ctx is not None else request.app.state.settings


def _db(request: Request) -> Any:
    return request.app.state.ctx.db


def _html(template: str, http_status: int = 200, **values: Any) -> HTMLResponse:
    body = TEMPLATES.get_template(template).render(**values)
    return HTMLResponse(body, status_code=http_status, headers=SECURITY_HEADERS)


def _not_found() -> HTMLResponse:
    return HTMLResponse("<!doctype html><title>Not Found</title><h1>Not Found</h1>", 404, headers=SECURITY_HEADERS)


def _redirect(location: str) -> RedirectResponse:
    return RedirectResponse(location, status_code=303, headers=SECURITY_HEADERS)


def _base_url(request: Request, settings: Settings) -> str:
    return (settings.public_url or str(request.base_url)).rstrip("/")


def _signer(settings: Settings) -> access.CookieSigner:
    key = access.signing_key(settings)
    if key is None:  # pages_enabled() guarantees a key
        raise RuntimeError("status pages enabled without a signing key")
    return access.CookieSigner(key)


SIGN_IN_LIMITER = "status_sign_in_limiter"


def _sign_in_limiter(request: Request) -> FailureLimiter:
    return limiter_on(request.app.state, SIGN_IN_LIMITER)


def _too_many(retry_after: int) -> HTMLResponse:
    return HTMLResponse(
        "<!doctype html><title>Too many attempts</title><h1>Too many wrong tokens</h1>"
        f"<p>Too many wrong operator tokens from this address; try again in {retry_after} seconds.</p>",
        status_code=429,
        headers={"Retry-After": str(retry_after), "Cache-Control": "no-store"},
    )


def _limited(request: Request) -> HTMLResponse | None:
    """429 with `Retry-After` while this address has used up its wrong tokens (checked before any comparison)."""
    wait = _sign_in_limiter(request).retry_after(client_address(request.client))
    return _too_many(wait) if wait is not None else None


def _wrong_token(request: Request) -> None:
    _sign_in_limiter(request).failed(client_address(request.client))


async def current_viewer(request: Request) -> Viewer | None:
    """The signed-in viewer of this request: the operator token as a bearer header, else the session cookie.
    A wrong bearer token counts against the address's sign-in attempts (see `_page_viewer`)."""
    settings = _settings(request)
    scheme, _, offered = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() == "bearer":
        if access.is_operator_token(settings, offered.strip()):
            return OPERATOR
        _wrong_token(request)
    cookie = request.cookies.get(access.SESSION_COOKIE)
    if not cookie:
        return None
    session_id = _signer(settings).session_id(cookie, settings.session_hours * 3600)
    if session_id is None:
        return None
    return await run_in_threadpool(session_viewer, _db(request), session_id)


async def _page_viewer(request: Request) -> Viewer | Response:
    """The viewer, or the response to send instead: 404 while the pages are off, else a redirect to sign in."""
    if not access.pages_enabled(_settings(request)):
        return _not_found()
    if request.headers.get("authorization", "").lower().startswith("bearer") and (limited := _limited(request)):
        return limited
    viewer = await current_viewer(request)
    if viewer is not None:
        return viewer
    here = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return _redirect(f"{access.LOGIN_PATH}?next={quote(here, safe='')}")


def _layout(viewer: Viewer, active: str) -> dict[str, Any]:
    return {"viewer": viewer, "active": active}


# ---- sign-in -------------------------------------------------------------------------------------------


@router.get("/status/login", response_class=HTMLResponse)
async def login_page(request: Request, next: str = "") -> Response:
    """The sign-in page: GitHub, the operator token, or both, as configured."""
    settings = _settings(request)
    if not access.pages_enabled(settings):
        return _not_found()
    return _login_form(settings, access.safe_next(next))


def _login_form(settings: Settings, next_path: str, error: str = "", status: int = 200) -> HTMLResponse:
    return _html(
        "login.html",
        status,
        oauth=access.oauth_ready(settings),
        operator=access.operator_token(settings) is not None,
        next_path=next_path,
        error=error,
    )


@router.get("/status/login/github")
async def login_github(request: Request, next: str = "") -> Response:
    """Send the browser to GitHub with a fresh `state`, remembered in a signed, short-lived cookie."""
    settings = _settings(request)
    if not access.pages_enabled(settings):
        return _not_found()
    if not access.oauth_ready(settings):
        return _login_form(settings, access.safe_next(next), "GitHub sign-in is not configured.", 404)
    state = secrets.token_urlsafe(24)
    redirect_uri = f"{_base_url(request, settings)}/status/callback"
    target = github_oauth.authorize_url(settings.web_url, str(settings.client_id), redirect_uri, state)
    response = _redirect(target)
    response.set_cookie(
        access.STATE_COOKIE,
        _signer(settings).oauth_state(state, access.safe_next(next)),
        max_age=access.STATE_SECONDS,
        path="/status",
        httponly=True,
        samesite="lax",
        secure=access.secure_cookies(settings, request.url.scheme),
    )
    return response


@router.get("/status/callback")
async def oauth_callback(request: Request, code: str = "", state: str = "", error: str = "") -> Response:
    """GitHub's redirect back: check `state`, exchange the code, list what the user may see, start a session."""
    settings = _settings(request)
    if not access.pages_enabled(settings) or not access.oauth_ready(settings):
        return _not_found()
    next_path = _signer(settings).check_state(request.cookies.get(access.STATE_COOKIE, ""), state)
    if next_path is None:
        return _login_form(settings, "/status", "The sign-in expired or was not started here; please try again.", 400)
    if error or not code:
        return _login_form(settings, next_path, f"GitHub did not sign you in ({error or 'no code'}).", 400)
    redirect_uri = f"{_base_url(request, settings)}/status/callback"
    try:
        token = await github_oauth.exchange_code(
            settings.web_url, str(settings.client_id), _client_secret(settings), code, redirect_uri
        )
        user = await github_oauth.user_access(settings.github_url, token)
    except github_oauth.OAuthError as failure:
        log.warning("status pages: GitHub sign-in failed: %s", failure)
        return _login_form(settings, next_path, str(failure), 403)
    viewer = Viewer(user.login, False, user.installation_ids, user.repository_ids)
    log.info(
        "status pages: %s signed in (%d installation(s), %d repositories)",
        user.login,
        len(user.installation_ids),
        len(user.repository_ids),
    )
    response = await _start_session(request, settings, viewer, next_path)
    response.delete_cookie(access.STATE_COOKIE, path="/status")
    return response


def _client_secret(settings: Settings) -> str:
    secret = settings.client_secret
    return secret.get_secret_value() if secret is not None else ""


async def _start_session(request: Request, settings: Settings, viewer: Viewer, next_path: str) -> Response:
    session_id = secrets.token_urlsafe(32)
    lifetime = timedelta(hours=settings.session_hours)
    await run_in_threadpool(create_session, _db(request), session_id, viewer, lifetime)
    response = _redirect(next_path)
    response.set_cookie(
        access.SESSION_COOKIE,
        _signer(settings).session(session_id),
        max_age=int(lifetime.total_seconds()),
        path="/status",
        httponly=True,
        samesite="lax",
        secure=access.secure_cookies(settings, request.url.scheme),
    )
    return response


def _cross_site(request: Request) -> bool:
    """A form posted from another site (its Origin differs from this server's host)."""
    origin = request.headers.get("origin")
    if not origin or origin == "null":
        return origin == "null"
    return urlsplit(origin).netloc.lower() != request.headers.get("host", "").lower()


async def _form(request: Request) -> dict[str, str] | None:
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_FORM_BYTES:
            return None
    fields = parse_qs(body.decode("utf-8", "replace"), keep_blank_values=True)
    return {name: values[0] for name, values in fields.items()}


@router.post("/status/login/token")
async def login_token(request: Request) -> Response:
    """Sign in with the operator token (a form field); a wrong token gets the form again, with a 403."""
    settings = _settings(request)
    if not access.pages_enabled(settings) or access.operator_token(settings) is None:
        return _not_found()
    if _cross_site(request):
        return _login_form(settings, "/status", "Sign in from this site's own form.", 403)
    limited = _limited(request)
    if limited is not None:
        log.warning("status pages: sign-in attempts from %s are limited (429)", client_address(request.client))
        return limited
    form = await _form(request)
    if form is None:
        return _login_form(settings, "/status", "The form is too large.", 413)
    next_path = access.safe_next(form.get("next"))
    if not access.is_operator_token(settings, form.get("token", "").strip()):
        _wrong_token(request)
        log.warning("status pages: a wrong operator token was offered")
        return _login_form(settings, next_path, "That is not the operator token.", 403)
    log.info("status pages: the operator signed in")
    return await _start_session(request, settings, OPERATOR, next_path)


@router.post("/status/logout")
async def logout(request: Request) -> Response:
    """End the session (server-side too: a copied cookie stops working) and forget the cookie."""
    settings = _settings(request)
    if not access.pages_enabled(settings):
        return _not_found()
    if _cross_site(request):
        return _redirect("/status")
    cookie = request.cookies.get(access.SESSION_COOKIE)
    if cookie:
        session_id = _signer(settings).session_id(cookie, settings.session_hours * 3600)
        if session_id is not None:
            await run_in_threadpool(end_session, _db(request), session_id)
    response = _redirect(access.LOGIN_PATH)
    response.delete_cookie(access.SESSION_COOKIE, path="/status")
    return response


# ---- pages ---------------------------------------------------------------------------------------------


@router.get("/status", response_class=HTMLResponse)
async def overview(request: Request) -> Response:
    """Installations and repositories: enrolled, paused, last run, open PRs, queued and running runs."""
    viewer = await _page_viewer(request)
    if isinstance(viewer, Response):
        return viewer
    db = _db(request)
    repositories = await run_in_threadpool(queries.repositories, db, viewer.repository_ids)
    installations = await run_in_threadpool(queries.installations, db, viewer.installation_ids, viewer.repository_ids)
    return _html(
        "overview.html",
        **_layout(viewer, "overview"),
        installations=installations,
        repositories=repositories,
        web_url=_settings(request).web_url,
    )


@router.get("/status/queue", response_class=HTMLResponse)
async def queue(request: Request) -> Response:
    """Queue depth: deliveries waiting (operator), queued and running runs per repository, the active runs."""
    viewer = await _page_viewer(request)
    if isinstance(viewer, Response):
        return viewer
    db = _db(request)
    deliveries = await run_in_threadpool(queries.delivery_queue, db) if viewer.operator else None
    repositories = await run_in_threadpool(queries.repositories, db, viewer.repository_ids)
    running = await run_in_threadpool(
        lambda: queries.run_page(db, viewer.repository_ids, status="running", limit=PAGE_SIZE)
    )
    queued = await run_in_threadpool(
        lambda: queries.run_page(db, viewer.repository_ids, status="queued", limit=PAGE_SIZE)
    )
    busy = tuple(r for r in repositories if r.queued or r.running)
    return _html(
        "queue.html",
        **_layout(viewer, "queue"),
        deliveries=deliveries,
        delivery_attempts=_settings(request).delivery_attempts,
        busy=busy,
        running=running.runs,
        queued=queued.runs,
        total_queued=sum(r.queued for r in repositories),
        total_running=sum(r.running for r in repositories),
    )


@router.get("/status/runs", response_class=HTMLResponse)
async def run_list(
    request: Request, repo: int | None = None, status: str = "", before: int | None = None, after: int | None = None
) -> Response:
    """Runs newest first, 50 a page (keyset pagination), filtered by repository and status."""
    viewer = await _page_viewer(request)
    if isinstance(viewer, Response):
        return viewer
    if status and status not in RUN_STATUSES:
        return _html("error.html", 400, **_layout(viewer, "runs"), message=f"Unknown run status: {status}")
    if repo is not None and not viewer.sees_repository(repo):
        return _html("error.html", 404, **_layout(viewer, "runs"), message="No such repository.")
    db = _db(request)
    page = await run_in_threadpool(
        lambda: queries.run_page(
            db,
            viewer.repository_ids,
            repository_id=repo,
            status=status or None,
            before=before,
            after=after,
            limit=PAGE_SIZE,
        )
    )
    counts = await run_in_threadpool(queries.run_counts, db, viewer.repository_ids, repo)
    repositories = await run_in_threadpool(queries.repository_names, db, viewer.repository_ids)

    def link(**cursor: int) -> str:
        query = [(k, str(v)) for k, v in (("repo", repo), ("status", status)) if v not in (None, "")]
        query += [(k, str(v)) for k, v in cursor.items()]
        return "/status/runs" + ("?" + "&".join(f"{k}={quote(v, safe='')}" for k, v in query) if query else "")

    return _html(
        "runs.html",
        **_layout(viewer, "runs"),
        page=page,
        counts=counts,
        repositories=repositories,
        statuses=RUN_STATUSES,
        repo=repo,
        status_filter=status,
        older_link=link(before=page.older) if page.older is not None else None,
        newer_link=link(after=page.newer) if page.newer is not None else None,
    )


@router.get("/status/runs/{run_id:int}", response_class=HTMLResponse)
async def run_page(request: Request, run_id: int) -> Response:
    """One run: its timeline, outcome, PR link, gate results and metrics."""
    viewer = await _page_viewer(request)
    if isinstance(viewer, Response):
        return viewer
    record = await run_in_threadpool(queries.run_record, _db(request), run_id, viewer.repository_ids)
    if record is None:
        return _html("error.html", 404, **_layout(viewer, "runs"), message=f"No run {run_id} here.")
    settings = _settings(request)
    pr_url = (
        f"{settings.web_url}/{record.run.full_name}/pull/{record.run.pr_number}"
        if record.run.pr_number is not None
        else None
    )
    plan = record.report.get("plan") if isinstance(record.report.get("plan"), dict) else None
    return _html(
        "run.html",
        **_layout(viewer, "runs"),
        record=record,
        run=record.run,
        plan=plan,
        timeline=views.timeline(record),
        gates=views.gate_lines(record.report),
        pr_url=pr_url,
    )


@router.get("/status/repositories/{repository_id:int}", response_class=HTMLResponse)
async def repository_page(request: Request, repository_id: int) -> Response:
    """A repository: charts of its metrics over time and of its PR outcomes, and its latest runs."""
    viewer = await _page_viewer(request)
    if isinstance(viewer, Response):
        return viewer
    db = _db(request)
    line = await run_in_threadpool(queries.repository, db, repository_id, viewer.repository_ids)
    if line is None:
        return _html("error.html", 404, **_layout(viewer, "overview"), message="No such repository.")
    points = await run_in_threadpool(queries.metric_history, db, repository_id, views.CHARTED_METRICS)
    pulls = await run_in_threadpool(queries.pull_history, db, repository_id)
    states = await run_in_threadpool(pull_states, db, repository_id)  # waiting for CI, retrying n/3, stopped: why
    recent = await run_in_threadpool(
        lambda: queries.run_page(db, viewer.repository_ids, repository_id=repository_id, limit=10)
    )
    charts = [Markup(line_chart(chart.title, chart.series, unit=chart.unit)) for chart in views.metric_charts(points)]
    gap_points = await run_in_threadpool(queries.metric_history, db, repository_id, (TEST_GAPS_METRIC,))
    latest_gaps = await run_in_threadpool(latest_test_gaps, db, repository_id)
    gap_chart = Markup(
        line_chart(
            "Mutation score of the test-gap sample",
            views.test_gap_series(gap_points),
            unit="%",
            empty_note="no test-gap sample yet",
        )
    )
    bars = views.pull_outcome_bars(pulls, datetime.now(timezone.utc))
    outcome_chart = Markup(stacked_bars("Evolve pull requests opened per week, by outcome", bars, views.OUTCOMES))
    return _html(
        "repository.html",
        **_layout(viewer, "overview"),
        repo=line,
        charts=charts,
        gap_chart=gap_chart,
        gaps=views.test_gaps_view(latest_gaps),
        outcome_chart=outcome_chart,
        totals=views.outcome_totals(pulls),
        lifecycle=[states[number] for number in sorted(states, reverse=True)][:50],
        recent=recent.runs,
        web_url=_settings(request).web_url,
    )
