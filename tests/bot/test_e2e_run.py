"""End to end with the real engine: install → `/evolve run` → PR with metrics, labels and check run →
merged → acceptance learned; a cron-triggered run; `/evolve plan`.

The fixture repository (tests/fakegithub/sample_repo.py) has `class Registry(object)`, `dict()` and `== None`
and one passing test; its `.github/evolve.yml` keeps the gates to syntax and tests so the suite stays fast.
"""

from __future__ import annotations

import logging

import pytest

from bot.db import store
from bot.db.models import Attempt, GateResultRow, MetricSnapshot
from tests.fakegithub.fixtures import BotWorld
from tests.fakegithub.payloads import pull_closed


def test_install_comment_pr_merge_learn(bot_world: BotWorld, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    fake, repo = bot_world.fake, bot_world.repo
    bot_world.install()
    assert store.get_repository(bot_world.ctx.db, BotWorld.REPO_ID).enrolled
    installed = len(fake.requests)  # the installation opened the dashboard issue (bot/dashboard)
    assert [(r.method, r.path) for r in fake.requests].count(("POST", "/repos/octo-org/sample/issues")) == 1
    payload = bot_world.comment("alice", "/evolve run")
    assert len(repo.pulls) == 1, fake.comments(repo, payload["issue"]["number"])
    number, pull = next(iter(repo.pulls.items()))

    # the PR: one theme, metrics table and gates in the body, labels, a passing check run on its head
    assert pull["head"].startswith("evolve/") and pull["base"] == "main" and pull["state"] == "open"
    assert "### Metrics of the changed code (before → after)" in pull["body"] and "| findings |" in pull["body"]
    assert "### Quality gates" in pull["body"]
    # On GitHub the footer offers the App's commands; the title is the one heading the body (from the edits made).
    assert "Comment `/evolve retry`" in pull["body"] and pull["body"].startswith(f"## {pull['title']}\n")
    assert repo.issue_labels[number][0] == "evolve" and repo.issue_labels[number][1].startswith("evolve:risk-")
    progress, check = repo.check_runs.values()
    head_sha = fake.state.head_sha(repo, pull["head"])
    assert (check["name"], check["conclusion"], check["head_sha"]) == ("evolve/gates", "success", head_sha)
    assert (progress["name"], progress["conclusion"], progress["head_sha"]) == (
        "evolve/gates",
        "neutral",
        fake.state.head_sha(repo, "main"),
    )
    assert fake.file_at(repo, "main", "sample/__init__.py") != fake.file_at(repo, pull["head"], "sample/__init__.py")
    assert fake.comments(repo, payload["issue"]["number"])[-1].startswith(f"Done: opened #{number}")
    assert repo.reactions[payload["comment"]["id"]] == ["eyes"]

    # the exact REST conversation, in order (git traffic and token minting aside)
    calls = [(r.method, r.path) for r in fake.requests[installed:] if not r.path.startswith(("/git/", "/app/"))]
    base = "/repos/octo-org/sample"
    assert calls[:2] == [
        ("GET", f"{base}/collaborators/alice/permission"),
        ("POST", f"{base}/issues/comments/{payload['comment']['id']}/reactions"),
    ]
    assert ("POST", f"{base}/pulls") in calls and ("POST", f"{base}/issues/{number}/labels") in calls
    revoke = calls.index(("DELETE", "/installation/token"))
    assert calls[revoke - 1 : revoke + 1] == [
        ("POST", f"{base}/issues/{payload['issue']['number']}/comments"),
        ("DELETE", "/installation/token"),
    ]  # the run's own token, revoked when it ends
    # then the dashboard issue is redrawn (bot/dashboard): the one opened at installation, not a new one
    assert calls[revoke + 1 :].count(("POST", f"{base}/issues")) == 0
    assert ("PATCH", f"{base}/issues/1") in calls[revoke + 1 :]
    create = fake.requests_to("POST", f"{base}/pulls")[0]
    assert create.body["head"] == pull["head"] and create.body["base"] == "main" and create.status == 201

    # the run, its attempts, gate results and metric snapshots are in the bot's tables
    (run,) = store.recent_runs(bot_world.ctx.db, BotWorld.REPO_ID)
    assert (run.status, run.pr_number, run.branch, run.head_sha) == ("succeeded", number, pull["head"], head_sha)
    with bot_world.ctx.db() as session:
        gates = session.query(GateResultRow).filter_by(run_id=run.id).all()
        metrics = session.query(MetricSnapshot).filter_by(run_id=run.id).all()
        attempts = session.query(Attempt).filter_by(run_id=run.id).all()
    assert {g.gate for g in gates} == {"syntax", "tests"} and all(g.status == "passed" for g in gates)
    assert len(attempts) == 1 and attempts[0].passed
    assert any(m.name == "findings" and m.head < m.base for m in metrics)

    # merge it: the outcome is learned per codemod
    codemods = sorted(m["id"] for m in run.report["codemods"])
    before, _ = store.acceptance_for(bot_world.ctx.db, BotWorld.REPO_ID)
    fake.merge_pull(repo, number)
    assert bot_world.deliver("pull_request", pull_closed(fake, repo, number, "alice")).status_code == 202
    bot_world.drain()
    after, blocked = store.acceptance_for(bot_world.ctx.db, BotWorld.REPO_ID)
    assert codemods and not blocked
    for codemod in codemods:
        assert after[codemod] > before[codemod]
    stats = {
        s.codemod: (s.proposed, s.merged, s.closed) for s in store.codemod_stats(bot_world.ctx.db, BotWorld.REPO_ID)
    }
    assert all(stats[c] == (1, 1, 0) for c in codemods)

    # the installation token went only into Authorization headers: not a URL, not a log line
    assert fake.issued_tokens
    for token in fake.issued_tokens:
        assert token not in caplog.text
        assert all(token not in r.url for r in fake.requests)


def test_cron_triggered_run_opens_a_pr_without_comments(bot_world: BotWorld) -> None:
    from bot.jobs.queue import scheduled_run_job

    bot_world.install()
    bot_world.client.portal.call(scheduled_run_job, BotWorld.REPO_ID)
    bot_world.drain()
    assert len(bot_world.repo.pulls) == 1
    (run,) = store.recent_runs(bot_world.ctx.db, BotWorld.REPO_ID)
    assert (run.trigger, run.status) == ("schedule", "succeeded")
    assert not bot_world.repo.comments  # nobody asked, so nobody is answered
    progress, check = bot_world.repo.check_runs.values()
    assert (progress["conclusion"], check["conclusion"]) == ("neutral", "success")


def test_plan_replies_with_the_plan_and_changes_nothing(bot_world: BotWorld) -> None:
    bot_world.install()
    payload = bot_world.comment("alice", "/evolve plan")
    reply = bot_world.fake.comments(bot_world.repo, payload["issue"]["number"])[-1]
    assert reply.startswith("Here is what the next run would do")
    assert "**Base's test suite:**" in reply  # the App runs base's suites first by default, as the CLI does
    assert not bot_world.repo.pulls
    assert not [r for r in bot_world.fake.requests if r.path.endswith("git-receive-pack")]
