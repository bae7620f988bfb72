"""The dashboard issue end to end, through the real app, its job queue and the fake GitHub.

It is opened when the App is installed (or a repository added), created once and found again, steered by ticking boxes in an `issues.edited` delivery (run next,
skip, pause; only by people with write access, never by the App's own edits), stays under GitHub's
65,536-character body limit with 500 PRs of history (older ones on linked comment pages), and is off
with `dashboard: false`.
"""

from __future__ import annotations

import asyncio
import re
from datetime import datetime, timedelta, timezone

from bot.dashboard.body import BODY_LIMIT
from bot.dashboard.checkboxes import MARKER
from bot.dashboard.collect import skipped_themes
from bot.dashboard.handlers import refresh_dashboard
from bot.db import store
from bot.db.models import DashboardIssue, MetricSnapshot, PROutcome, Run
from bot.runs.options import run_options
from evolve.configuration.model import EvolveConfig
from tests.fakegithub.fixtures import BotWorld
from tests.fakegithub.payloads import real_payload
from tests.fakegithub.sample_repo import EVOLVE_YML
from tests.fakegithub.state import FakeRepo

PLAN = {"theme": "modernize", "score": 0.8, "alternatives": [{"theme": "docstrings", "score": 0.5}]}


def _seed_history(world: BotWorld, pulls: int = 500) -> None:
    start = datetime(2026, 1, 1, tzinfo=timezone.utc)
    with world.ctx.db.begin() as session:
        for index in range(3):
            run = Run(repository_id=BotWorld.REPO_ID, trigger="schedule", status="succeeded", theme="modernize")
            run.report = {"plan": PLAN}
            session.add(run)
            session.flush()
            session.add(MetricSnapshot(run_id=run.id, name="average complexity", base=5.0, head=4.0 - index))
        session.add(
            Run(repository_id=BotWorld.REPO_ID, trigger="comment", status="failed", theme="docstrings", message="gates")
        )
        for number in range(1000, 1000 + pulls):
            outcome = "merged" if number % 3 else "closed"
            when = start + timedelta(hours=number)
            session.add(
                PROutcome(
                    repository_id=BotWorld.REPO_ID,
                    pr_number=number,
                    codemod="dict-literal",
                    outcome=outcome,
                    recorded_at=when,
                )
            )


def _refresh(world: BotWorld) -> int | None:
    return world.client.portal.call(refresh_dashboard, world.ctx, BotWorld.REPO_ID)


def _edit(world: BotWorld, number: int, body: str, sender: str) -> dict:
    payload = real_payload("issues", "edited")
    payload["issue"].update(
        number=number,
        body=body,
        user=world.fake.state.user_json("evolve-bot[bot]"),
        updated_at=datetime.now(timezone.utc).isoformat(),
    )
    payload["repository"] = world.fake.repo_json(world.repo)
    payload["installation"] = {"id": BotWorld.INSTALLATION}
    payload["sender"] = world.fake.state.user_json(sender)
    payload["changes"] = {"body": {"from": world.repo.issues[number]["body"]}}
    world.repo.issues[number]["body"] = body  # GitHub stores the edit, then delivers it
    assert world.deliver("issues", payload).status_code == 202
    world.drain()
    return payload


def _tick(body: str, kind: str, value: str) -> str:
    return body.replace(f"- [ ] <!-- evolve:{kind}:{value} -->", f"- [x] <!-- evolve:{kind}:{value} -->")


def _dashboard_runs(world: BotWorld) -> list[Run]:
    return [r for r in store.recent_runs(world.ctx.db, BotWorld.REPO_ID, limit=50) if r.trigger == "dashboard"]


def test_created_once_found_again_and_under_the_limit_with_500_prs(bot_world: BotWorld) -> None:
    bot_world.install()
    _seed_history(bot_world)
    number = _refresh(bot_world)
    assert number is not None
    issue = bot_world.repo.issues[number]
    body = issue["body"]
    assert issue["title"] == "Evolve dashboard" and MARKER in body and len(body) < BODY_LIMIT
    assert "- [ ] <!-- evolve:run-next:modernize --> run **modernize** next" in body
    assert "<!-- evolve:skip:docstrings -->" in body and "<!-- evolve:retry:4 -->" in body
    assert "```mermaid\nflowchart LR" in body and "xychart-beta" in body and "line [4.00, 3.00, 2.00]" in body
    assert "500 closed pull requests in all: 334 merged, 166 closed unmerged." in body
    assert "| #1499 | merged |" in body and "| #1400 |" not in body  # the newest 20 in the body
    pages = bot_world.fake.comments(bot_world.repo, number)
    assert len(pages) == 2 and all(len(page) < BODY_LIMIT for page in pages)
    assert "| #1000 | merged |" in pages[1] and "| #1002 | closed |" in pages[1] and "page 2 of 2" in pages[1]
    links = re.findall(r"\[page (\d)\]\(([^)]+)\)", body)
    assert [n for n, _ in links] == ["1", "2"] and all("#issuecomment-" in url for _, url in links)

    assert _refresh(bot_world) == number  # idempotent: same issue, same pages
    assert len(bot_world.fake.comments(bot_world.repo, number)) == 2
    with bot_world.ctx.db.begin() as session:  # the store forgot it: found again by its marker
        session.delete(session.get(DashboardIssue, BotWorld.REPO_ID))
    assert _refresh(bot_world) == number
    assert sum(1 for i in bot_world.repo.issues.values() if MARKER in (i.get("body") or "")) == 1


def test_ticks_queue_skip_and_pause_only_for_writers(bot_world: BotWorld) -> None:
    bot_world.install()
    _seed_history(bot_world, pulls=3)
    number = _refresh(bot_world)
    assert number is not None
    body = bot_world.repo.issues[number]["body"]

    # a reader ticks "run next": nothing is queued and the box is shown unticked again
    _edit(bot_world, number, _tick(body, "run-next", "modernize"), "rita")
    assert _dashboard_runs(bot_world) == []
    assert "- [ ] <!-- evolve:run-next:modernize -->" in bot_world.repo.issues[number]["body"]
    # the App's own edit is ignored even with ticks in it
    _edit(bot_world, number, _tick(body, "run-next", "modernize"), "evolve-bot[bot]")
    assert _dashboard_runs(bot_world) == []

    # a writer: pause (so queued runs stop before the engine), skip docstrings, run modernize next, retry run 4
    edited = _tick(_tick(_tick(body, "pause", "repository"), "skip", "docstrings"), "run-next", "modernize")
    edited = _tick(edited, "retry", "4")
    payload = _edit(bot_world, number, edited, "alice")
    assert bot_world.deliver("issues", payload).status_code == 202  # GitHub redelivers it: no second run
    bot_world.drain()
    retry, run = _dashboard_runs(bot_world)  # newest first
    assert (run.focus, run.requested_by, run.comment_issue_number) == ("modernize", "alice", number)
    assert (retry.focus, retry.requested_by) == ("docstrings", "alice")  # the failed run's theme again
    assert skipped_themes(bot_world.ctx.db, BotWorld.REPO_ID) == {"docstrings"}
    options = run_options(bot_world.ctx, run, EvolveConfig(), None, None, "main")
    assert options.themes_to_skip == {"docstrings"}  # the planner of the next run leaves it out
    assert options.surface == "app"  # its PR body offers the App's commands (a CLI report does not)
    assert store.get_repository(bot_world.ctx.db, BotWorld.REPO_ID).paused
    redrawn = bot_world.repo.issues[number]["body"]
    assert "- [x] <!-- evolve:skip:docstrings -->" in redrawn and "- [x] <!-- evolve:pause:repository -->" in redrawn
    assert "- [ ] <!-- evolve:run-next:modernize -->" in redrawn  # the action box is unticked again

    # unticking skip and pause undoes them
    _edit(bot_world, number, redrawn.replace("- [x]", "- [ ]"), "alice")
    assert skipped_themes(bot_world.ctx.db, BotWorld.REPO_ID) == frozenset()
    assert not store.get_repository(bot_world.ctx.db, BotWorld.REPO_ID).paused
    assert len(_dashboard_runs(bot_world)) == 2


def _dashboards(world: BotWorld, repo: FakeRepo | None = None) -> list[int]:
    """Numbers of the open issues carrying the dashboard marker, opened by the App."""
    issues = (repo or world.repo).issues
    return [
        n
        for n, i in issues.items()
        if MARKER in (i.get("body") or "") and i.get("state", "open") == "open" and i.get("user") == "evolve-bot[bot]"
    ]


def test_dashboard_false_in_the_config_keeps_none(bot_world: BotWorld) -> None:
    bot_world.fake.commit_files(
        bot_world.repo, {".github/evolve.yml": EVOLVE_YML + "dashboard: false\n"}, "no dashboard"
    )
    bot_world.install()  # opted out: none is opened at installation either
    assert _refresh(bot_world) is None
    assert not any(MARKER in (i.get("body") or "") for i in bot_world.repo.issues.values())


def test_installing_the_app_or_adding_a_repository_opens_its_dashboard(bot_world: BotWorld) -> None:
    bot_world.install()
    (number,) = _dashboards(bot_world)  # before any run
    assert not store.recent_runs(bot_world.ctx.db, BotWorld.REPO_ID, limit=5)
    assert "None yet." in bot_world.repo.issues[number]["body"]

    other = bot_world.fake.add_repo(f"{BotWorld.OWNER}/other", BotWorld.INSTALLATION, repo_id=90211)
    bot_world.fake.commit_files(other, {"README.md": "hello\n"}, "Initial commit")
    payload = real_payload("installation_repositories", "added")
    payload["installation"].update(id=BotWorld.INSTALLATION)
    payload["repositories_added"] = [
        {"id": other.id, "node_id": "R_other", "name": other.name, "full_name": other.full_name, "private": False}
    ]
    payload["sender"] = bot_world.fake.state.user_json("alice")
    assert bot_world.deliver("installation_repositories", payload).status_code == 202
    bot_world.drain()
    assert len(_dashboards(bot_world, other)) == 1
    bot_world.install()  # GitHub redelivers the installation: still one each
    assert len(_dashboards(bot_world)) == 1 and len(_dashboards(bot_world, other)) == 1


def test_closed_prs_show_their_title(bot_world: BotWorld) -> None:
    bot_world.install()
    with bot_world.ctx.db.begin() as session:
        run = Run(repository_id=BotWorld.REPO_ID, trigger="comment", status="succeeded", theme="modernize")
        run.pr_number = 77
        run.report = {"plan": {**PLAN, "title": "Evolve: modernize | dict literals"}}
        session.add(run)
        session.add(PROutcome(repository_id=BotWorld.REPO_ID, pr_number=77, codemod="dict-literal", outcome="merged"))
        session.add(PROutcome(repository_id=BotWorld.REPO_ID, pr_number=78, codemod="dict-literal", outcome="closed"))
    number = _refresh(bot_world)
    assert number is not None
    body = bot_world.repo.issues[number]["body"]
    assert "| #77 | merged |" in body and "Evolve: modernize \\| dict literals |" in body  # the title, escaped
    assert "| #78 | closed |" in body  # no run of ours knew it: no title, still listed


def test_a_run_ending_while_a_pr_closes_opens_one_dashboard(bot_world: BotWorld) -> None:
    bot_world.install()
    (first,) = _dashboards(bot_world)
    bot_world.repo.issues[first]["state"] = "closed"  # someone closed it: the next redraw opens a new one

    async def together() -> list[int | None]:
        return list(await asyncio.gather(*(refresh_dashboard(bot_world.ctx, BotWorld.REPO_ID) for _ in range(5))))

    numbers = bot_world.client.portal.call(together)
    (second,) = _dashboards(bot_world)  # one drawer at a time: one new issue, not five
    assert second != first and second in numbers
    assert _refresh(bot_world) == second
