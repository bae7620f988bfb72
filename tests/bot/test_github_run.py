"""Runs from GitHub through the real app and the fake GitHub, with a stand-in for the engine.

The stand-in keeps the engine's contract (a branch with one commit in the given checkout, HEAD left
alone, a RunReport) so these tests check the bot's half quickly: PR opened or updated, labels,
check run, replies, limits, learning. The real engine runs in tests/bot/test_e2e_*.py.
"""

from __future__ import annotations

from bot.db import store
from tests.fakegithub.fixtures import BotWorld
from tests.fakegithub.payloads import pull_closed
from tests.fakegithub.stub_engine import StubEngine


def _run_rows(world: BotWorld) -> list:  # type: ignore[type-arg]
    return store.recent_runs(world.ctx.db, BotWorld.REPO_ID, limit=50)


def test_comment_run_opens_pr_with_labels_check_and_reply(bot_world: BotWorld, engine: StubEngine) -> None:
    bot_world.install()
    payload = bot_world.comment("alice", "Could you tidy this?\n/evolve run")
    fake, repo = bot_world.fake, bot_world.repo
    (pull,) = repo.pulls.values()
    number = next(iter(repo.pulls))
    assert pull["head"].startswith("evolve/idioms-") and pull["base"] == "main"
    assert pull["body"].startswith("## Metrics") and pull["title"] == "Use idiomatic comparisons"
    assert repo.issue_labels[number] == ["evolve", "evolve:risk-low"]
    progress, check = repo.check_runs.values()  # in progress on main while it ran, then the PR head's verdict
    assert check["name"] == "evolve/gates" and check["conclusion"] == "success"
    assert check["head_sha"] == fake.state.head_sha(repo, pull["head"])
    assert (progress["name"], progress["status"], progress["conclusion"]) == ("evolve/gates", "completed", "neutral")
    assert progress["head_sha"] == fake.state.head_sha(repo, "main")
    assert f"#{number}" in progress["output"]["title"]
    assert "| tests | passed | 1 passed |" in check["output"]["summary"]
    assert "is None" in fake.file_at(repo, pull["head"], "sample/__init__.py")
    assert repo.reactions[payload["comment"]["id"]] == ["eyes"]
    assert fake.comments(repo, payload["issue"]["number"])[-1].startswith(f"Done: opened #{number}")
    (run,) = _run_rows(bot_world)
    assert (run.status, run.pr_number, run.theme, run.trigger) == ("succeeded", number, "idioms", "comment")
    assert [(s.codemod, s.proposed) for s in store.codemod_stats(bot_world.ctx.db, BotWorld.REPO_ID)] == [
        ("none-comparison", 1)
    ]
    assert engine.calls[0].focus is None and engine.calls[0].branch_name is None


def test_same_theme_updates_the_open_pr_and_retry_reuses_it(bot_world: BotWorld, engine: StubEngine) -> None:
    bot_world.install()
    bot_world.comment("alice", "/evolve run")
    number = next(iter(bot_world.repo.pulls))
    head = bot_world.repo.pulls[number]["head"]
    bot_world.comment("alice", "/evolve run idioms")
    bot_world.comment("alice", "/evolve retry", number=number, on_pull=True)
    assert list(bot_world.repo.pulls) == [number]  # never a duplicate
    assert engine.calls[1].branch_name == head and engine.calls[2].branch_name == head
    assert engine.calls[2].focus == "idioms"
    assert len(bot_world.fake.requests_to("POST", "/repos/octo-org/sample/pulls")) == 1
    assert len(bot_world.fake.requests_to("PATCH", f"/repos/octo-org/sample/pulls/{number}")) == 2
    assert bot_world.fake.comments(bot_world.repo, number)[-1].startswith(f"Done: updated #{number}")
    assert [r.trigger for r in _run_rows(bot_world)] == ["retry", "comment", "comment"]


def test_merge_and_close_teach_acceptance_and_blocking(bot_world: BotWorld, engine: StubEngine) -> None:
    bot_world.install()
    bot_world.comment("alice", "/evolve run")
    first = next(iter(bot_world.repo.pulls))
    before = store.acceptance_for(bot_world.ctx.db, BotWorld.REPO_ID)[0]
    bot_world.fake.merge_pull(bot_world.repo, first)
    assert (
        bot_world.deliver("pull_request", pull_closed(bot_world.fake, bot_world.repo, first, "alice")).status_code
        == 202
    )
    bot_world.drain()
    after = store.acceptance_for(bot_world.ctx.db, BotWorld.REPO_ID)[0]
    assert after["none-comparison"] > before.get("none-comparison", 0.5)
    for _ in range(2):  # closed unmerged twice → blocked
        bot_world.comment("alice", "/evolve run")
        number = max(bot_world.repo.pulls)
        bot_world.fake.close_pull(bot_world.repo, number)
        bot_world.deliver("pull_request", pull_closed(bot_world.fake, bot_world.repo, number, "alice"))
        bot_world.drain()
    bot_world.comment("alice", "/evolve run")
    assert "none-comparison" in engine.calls[-1].blocked_codemods
    stats = {s.codemod: (s.merged, s.closed) for s in store.codemod_stats(bot_world.ctx.db, BotWorld.REPO_ID)}
    assert stats["none-comparison"] == (1, 2)


def test_limits_pause_and_failures_are_reported(bot_world: BotWorld, engine: StubEngine) -> None:
    bot_world.install()
    bot_world.fake.commit_files(bot_world.repo, {".github/evolve.yml": "limits:\n  max_open_prs: 1\n"}, "limit")
    bot_world.comment("alice", "/evolve run")
    payload = bot_world.comment("alice", "/evolve run")
    assert "limit is 1" in bot_world.fake.comments(bot_world.repo, payload["issue"]["number"])[-1]
    bot_world.comment("alice", "/evolve pause")
    payload = bot_world.comment("alice", "/evolve retry", number=next(iter(bot_world.repo.pulls)), on_pull=True)
    assert "paused" in bot_world.fake.comments(bot_world.repo, payload["issue"]["number"])[-1]
    bot_world.comment("alice", "/evolve resume")
    engine.passes = False
    bot_world.fake.commit_files(bot_world.repo, {".github/evolve.yml": "limits:\n  max_open_prs: 3\n"}, "limit")
    payload = bot_world.comment("alice", "/evolve run")
    reply = bot_world.fake.comments(bot_world.repo, payload["issue"]["number"])[-1]
    assert "did not produce a change" in reply and "| tests | failed | 1 failed |" in reply
    engine.passes, engine.edit = True, False
    payload = bot_world.comment("alice", "/evolve run")
    assert "Nothing to do" in bot_world.fake.comments(bot_world.repo, payload["issue"]["number"])[-1]
    bot_world.fake.commit_files(bot_world.repo, {".github/evolve.yml": "limits:\n  runs_per_hour: 3\n"}, "rate")
    payload = bot_world.comment("alice", "/evolve run")
    assert "3 run(s) per hour" in bot_world.fake.comments(bot_world.repo, payload["issue"]["number"])[-1]
    assert len(bot_world.repo.pulls) == 1
    statuses = [r.status for r in _run_rows(bot_world)]
    assert statuses == ["cancelled", "nothing-to-do", "failed", "cancelled", "cancelled", "succeeded"]


def test_scheduled_run_with_invalid_config_fails_a_check_run(bot_world: BotWorld, engine: StubEngine) -> None:
    from bot.jobs.queue import scheduled_run_job

    bot_world.install()
    sha = bot_world.fake.commit_files(bot_world.repo, {".github/evolve.yml": "attempts: 9\n"}, "bad config")
    bot_world.client.portal.call(scheduled_run_job, BotWorld.REPO_ID)
    bot_world.drain()
    (check,) = bot_world.repo.check_runs.values()
    assert (check["name"], check["conclusion"], check["head_sha"]) == ("evolve/config", "failure", sha)
    assert "attempts" in check["output"]["summary"]
    assert not bot_world.repo.pulls and not engine.calls
    assert not [r for r in bot_world.fake.requests if r.path.endswith("git-receive-pack")]


def test_execute_run_leaves_finished_runs_alone(bot_world: BotWorld, engine: StubEngine) -> None:
    from bot.runs.github_run import execute_run

    bot_world.install()
    bot_world.comment("alice", "/evolve run")
    (run,) = _run_rows(bot_world)
    requests = len(bot_world.fake.requests)
    assert bot_world.client.portal.call(execute_run, bot_world.ctx, run.id) is None
    assert len(bot_world.fake.requests) == requests and len(engine.calls) == 1


def test_resumed_run_finds_the_pr_it_opened(bot_world: BotWorld, engine: StubEngine) -> None:
    """A worker died after opening the PR: the run is executed again and updates, never duplicates."""
    from bot.runs.github_run import execute_run

    bot_world.install()
    bot_world.comment("alice", "/evolve run")
    (run,) = _run_rows(bot_world)
    store.update_run(bot_world.ctx.db, run.id, status="running", finished_at=None)
    report = bot_world.client.portal.call(execute_run, bot_world.ctx, run.id)
    assert report is not None and report.status == "succeeded"
    assert len(bot_world.repo.pulls) == 1
    assert engine.calls[1].branch_name == next(iter(bot_world.repo.pulls.values()))["head"]


def test_github_errors_are_retried_or_reported(bot_world: BotWorld, engine: StubEngine) -> None:
    bot_world.install()
    bot_world.fake.fail_next("POST", r"/repos/octo-org/sample/pulls$", status=502)  # retried with backoff
    bot_world.comment("alice", "/evolve run")
    assert len(bot_world.repo.pulls) == 1
    assert [r.status for r in bot_world.fake.requests_to("POST", "/repos/octo-org/sample/pulls")] == [502, 201]
    bot_world.fake.fail_next("PATCH", r"/pulls/\d+$", status=403, message="Resource not accessible by integration")
    payload = bot_world.comment("alice", "/evolve run")
    reply = bot_world.fake.comments(bot_world.repo, payload["issue"]["number"])[-1]
    assert reply.startswith("The run stopped with an error: GitHub answered 403")
    assert "Resource not accessible by integration" in reply
    assert _run_rows(bot_world)[0].status == "error"
    assert len(bot_world.repo.pulls) == 1


def test_retry_on_a_closed_pr_opens_a_new_one(bot_world: BotWorld, engine: StubEngine) -> None:
    bot_world.install()
    bot_world.comment("alice", "/evolve run")
    old = next(iter(bot_world.repo.pulls))
    bot_world.fake.close_pull(bot_world.repo, old)
    bot_world.deliver("pull_request", pull_closed(bot_world.fake, bot_world.repo, old, "alice"))
    bot_world.drain()
    bot_world.fake.commit_files(bot_world.repo, {"NEWS.md": "moved on\n"}, "main moved")
    payload = bot_world.comment("alice", "/evolve retry", number=old, on_pull=True)
    assert payload["comment"]["id"] in bot_world.repo.reactions
    (new,) = [n for n in bot_world.repo.pulls if n != old]
    assert bot_world.repo.pulls[old]["state"] == "closed" and bot_world.repo.pulls[new]["state"] == "open"
    assert bot_world.repo.pulls[new]["head"] != bot_world.repo.pulls[old]["head"]
    assert bot_world.fake.file_at(bot_world.repo, bot_world.repo.pulls[new]["head"], "NEWS.md") == "moved on"
    assert engine.calls[-1].focus == "idioms" and engine.calls[-1].branch_name is None
    answer = bot_world.fake.comments(bot_world.repo, old)[-1]
    assert answer.startswith(f"Opened [#{new}](") and f"/pull/{new})" in answer and "stays closed" in answer
    retry = _run_rows(bot_world)[0]
    assert (retry.trigger, retry.status, retry.pr_number) == ("retry", "succeeded", new)


def test_retry_on_a_merged_pr_is_refused(bot_world: BotWorld, engine: StubEngine) -> None:
    bot_world.install()
    bot_world.comment("alice", "/evolve run")
    number = next(iter(bot_world.repo.pulls))
    bot_world.fake.merge_pull(bot_world.repo, number)
    payload = bot_world.comment("alice", "/evolve retry", number=number, on_pull=True)
    assert bot_world.repo.reactions[payload["comment"]["id"]] == ["confused"]
    assert "already merged" in bot_world.fake.comments(bot_world.repo, number)[-1]
    assert "/evolve run idioms" in bot_world.fake.comments(bot_world.repo, number)[-1]
    assert len(engine.calls) == 1 and len(bot_world.repo.pulls) == 1


def test_the_run_token_is_revoked_when_the_run_ends(bot_world: BotWorld, engine: StubEngine) -> None:
    bot_world.install()
    bot_world.comment("alice", "/evolve run")
    fake = bot_world.fake
    (revoke,) = fake.requests_to("DELETE", "/installation/token")
    assert revoke.status == 204
    (revoked,) = fake.revoked_tokens
    assert not fake.token_works(revoked, bot_world.repo)
    # webhook handlers keep their cached token; only the run's own one is gone
    assert [t for t in fake.issued_tokens if fake.token_works(t, bot_world.repo)] == [
        t for t in fake.issued_tokens if t != revoked
    ]
    fake.fail_next("DELETE", r"/installation/token$", status=401, message="Bad credentials")
    bot_world.comment("alice", "/evolve run idioms")  # a failed revocation does not fail the run
    assert _run_rows(bot_world)[0].status == "succeeded"
