"""The `evolve/gates` check runs of a run: in progress on the base commit while it works, then the PR head's
verdict and the in-progress one closed as neutral (or cancelled on errors), never left in progress."""

from __future__ import annotations

from bot.db import store
from bot.db.run_notes import PROGRESS_CHECK, run_notes
from tests.fakegithub.fixtures import BotWorld
from tests.fakegithub.stub_engine import StubEngine

BASE = "/repos/octo-org/sample/check-runs"


def _check_requests(world: BotWorld) -> list[tuple[str, str, dict]]:  # type: ignore[type-arg]
    """(method, path after /check-runs, body) of every check-run request, in order."""
    return [(r.method, r.path.removeprefix(BASE), r.body) for r in world.fake.requests if r.path.startswith(BASE)]


def test_successful_run_check_run_sequence(bot_world: BotWorld, engine: StubEngine) -> None:
    bot_world.install()
    main_sha = bot_world.fake.state.head_sha(bot_world.repo, "main")
    bot_world.comment("alice", "/evolve run")
    ((number, pull),) = bot_world.repo.pulls.items()
    head_sha = bot_world.fake.state.head_sha(bot_world.repo, pull["head"])
    (m1, p1, start), (m2, p2, verdict), (m3, p3, close) = _check_requests(bot_world)
    progress_id = next(iter(bot_world.repo.check_runs))
    assert (m1, p1, start["name"], start["status"], start["head_sha"]) == (
        "POST",
        "",
        "evolve/gates",
        "in_progress",
        main_sha,
    )
    assert "researching" in start["output"]["title"]
    assert (m2, p2, verdict["status"], verdict["conclusion"], verdict["head_sha"]) == (
        "POST",
        "",
        "completed",
        "success",
        head_sha,
    )
    assert (m3, p3, close["status"], close["conclusion"]) == ("PATCH", f"/{progress_id}", "completed", "neutral")
    assert close["output"]["title"] == f"Proposed in #{number}" and f"/pull/{number})" in close["output"]["summary"]
    (run,) = store.recent_runs(bot_world.ctx.db, BotWorld.REPO_ID)
    assert PROGRESS_CHECK not in run_notes(bot_world.ctx.db, run.id)
    assert all(c["status"] == "completed" for c in bot_world.repo.check_runs.values())


def test_failing_run_closes_its_check_as_neutral_with_the_gates(bot_world: BotWorld, engine: StubEngine) -> None:
    bot_world.install()
    engine.passes = False
    bot_world.comment("alice", "/evolve run")
    assert not bot_world.repo.pulls
    (m1, _, start), (m2, _, close) = _check_requests(bot_world)
    assert (m1, start["status"], m2, close["status"], close["conclusion"]) == (
        "POST",
        "in_progress",
        "PATCH",
        "completed",
        "neutral",
    )
    assert close["output"]["title"] == "No pull request: the gates did not pass"
    assert "| tests | failed | 1 failed |" in close["output"]["summary"]


def test_nothing_to_do_and_crash_never_leave_it_in_progress(bot_world: BotWorld, engine: StubEngine) -> None:
    bot_world.install()
    engine.edit = False
    bot_world.comment("alice", "/evolve run")
    engine.edit, engine.crash = True, RuntimeError("engine exploded with /secret/path")
    bot_world.comment("alice", "/evolve run")
    nothing, crashed = bot_world.repo.check_runs.values()
    assert (nothing["conclusion"], nothing["output"]["title"]) == ("neutral", "Nothing to do")
    assert (crashed["status"], crashed["conclusion"]) == ("completed", "cancelled")
    assert "RuntimeError" in crashed["output"]["summary"] and "/secret/path" not in crashed["output"]["summary"]
    assert [r.status for r in store.recent_runs(bot_world.ctx.db, BotWorld.REPO_ID)] == ["error", "nothing-to-do"]


def test_git_errors_cancel_the_check(bot_world: BotWorld, engine: StubEngine) -> None:
    bot_world.install()
    bot_world.fake.fail_next("POST", r"/git-receive-pack$", status=403, message="denied")
    payload = bot_world.comment("alice", "/evolve run")
    assert bot_world.fake.comments(bot_world.repo, payload["issue"]["number"])[-1].startswith("The run stopped")
    (check,) = bot_world.repo.check_runs.values()
    assert (check["status"], check["conclusion"]) == ("completed", "cancelled")


def test_a_check_left_in_progress_is_closed_by_the_next_run(bot_world: BotWorld, engine: StubEngine) -> None:
    bot_world.install()
    engine.edit = False
    # GitHub refuses the update that would close it: the run ends, its check stays in progress, noted
    bot_world.fake.fail_next("PATCH", r"/check-runs/\d+$", status=422, message="Validation Failed")
    bot_world.comment("alice", "/evolve run")
    ((orphan_id, orphan),) = bot_world.repo.check_runs.items()
    assert orphan["status"] == "in_progress"
    (first,) = store.recent_runs(bot_world.ctx.db, BotWorld.REPO_ID)
    assert run_notes(bot_world.ctx.db, first.id)[PROGRESS_CHECK] == orphan_id
    bot_world.comment("alice", "/evolve run")
    assert (orphan["status"], orphan["conclusion"]) == ("completed", "cancelled")
    assert orphan["output"]["title"] == "The run was interrupted"
    assert PROGRESS_CHECK not in run_notes(bot_world.ctx.db, first.id)
    assert all(c["status"] == "completed" for c in bot_world.repo.check_runs.values())
