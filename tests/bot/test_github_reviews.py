"""Reviews of bot PRs: noted per run when the reviewer has write access, weighed as half a close when they
ask for changes (never on top of a close), shown in `/evolve status`, and fed to the next plan."""

from __future__ import annotations

import pytest

from bot.db import store
from bot.db.run_notes import REVIEWS, run_notes
from bot.outcomes.acceptance import learned_acceptance, next_review_state, weighted_acceptance
from evolve.plan.learning import acceptance_rate
from tests.fakegithub.fixtures import BotWorld
from tests.fakegithub.payloads import pull_closed, review
from tests.fakegithub.stub_engine import StubEngine

CODEMOD = "none-comparison"


@pytest.mark.parametrize(("merged", "closed"), [(0, 0), (3, 1), (0, 5), (7, 7)])
def test_weighting_keeps_acceptance_rate_semantics(merged: int, closed: int) -> None:
    assert weighted_acceptance(merged, closed) == acceptance_rate(merged, closed)
    assert (
        acceptance_rate(merged, closed + 1) < weighted_acceptance(merged, closed, 1) < acceptance_rate(merged, closed)
    )
    assert weighted_acceptance(merged, closed, 2) == pytest.approx(acceptance_rate(merged, closed + 1))
    with pytest.raises(ValueError):
        weighted_acceptance(0, 0, -1)


def test_a_comment_does_not_undo_a_verdict() -> None:
    assert next_review_state(None, "commented") == "commented"
    assert next_review_state("changes_requested", "commented") == "changes_requested"
    assert next_review_state("approved", "commented") == "approved"
    assert next_review_state("changes_requested", "approved") == "approved"
    assert next_review_state("changes_requested", "dismissed") == "dismissed"


def _review(world: BotWorld, number: int, reviewer: str, state: str, action: str = "submitted") -> None:
    response = world.deliver("pull_request_review", review(world.fake, world.repo, number, reviewer, state, action))
    assert response.status_code == 202
    world.drain()


def _acceptance(world: BotWorld) -> float:
    return learned_acceptance(world.ctx.db, BotWorld.REPO_ID)[0][CODEMOD]


def test_changes_requested_by_a_writer_weighs_half_a_close(bot_world: BotWorld, engine: StubEngine) -> None:
    bot_world.install()
    bot_world.comment("alice", "/evolve run")
    number = next(iter(bot_world.repo.pulls))
    (run,) = store.recent_runs(bot_world.ctx.db, BotWorld.REPO_ID)
    assert _acceptance(bot_world) == 0.5

    _review(bot_world, number, "rita", "changes_requested")  # a reader: asked, then ignored
    _review(bot_world, number, "ci[bot]", "changes_requested")  # a bot: not even asked
    assert bot_world.fake.requests_to("GET", "/collaborators/rita/permission")
    assert not bot_world.fake.requests_to("GET", "/collaborators/ci[bot]/permission")
    assert REVIEWS not in run_notes(bot_world.ctx.db, run.id) and _acceptance(bot_world) == 0.5

    _review(bot_world, number, "alice", "changes_requested")
    _review(bot_world, number, "alice", "commented")
    assert run_notes(bot_world.ctx.db, run.id)[REVIEWS] == {"alice": "changes_requested"}
    assert _acceptance(bot_world) == pytest.approx(weighted_acceptance(0, 0, 1)) == pytest.approx(1 / 2.5)

    bot_world.comment("alice", "/evolve run idioms")  # the next plan sees it
    assert engine.calls[-1].acceptance[CODEMOD] == pytest.approx(0.4)
    payload = bot_world.comment("rita", "/evolve status")
    status = bot_world.fake.comments(bot_world.repo, payload["issue"]["number"])[-1]
    assert f"| {CODEMOD} | 1 | 0 | 0 | 0 | 1 | 0.40 |" in status

    _review(bot_world, number, "alice", "approved")  # the newest run of the PR: the earlier version keeps its verdict
    newest = store.recent_runs(bot_world.ctx.db, BotWorld.REPO_ID)[0]
    assert run_notes(bot_world.ctx.db, newest.id)[REVIEWS] == {"alice": "approved"}
    assert _acceptance(bot_world) == pytest.approx(0.4)


def test_dismissal_and_approval_lift_it_and_a_close_replaces_it(bot_world: BotWorld, engine: StubEngine) -> None:
    bot_world.install()
    bot_world.comment("alice", "/evolve run")
    number = next(iter(bot_world.repo.pulls))
    _review(bot_world, number, "alice", "changes_requested")
    _review(bot_world, number, "alice", "dismissed", action="dismissed")
    assert _acceptance(bot_world) == 0.5
    _review(bot_world, number, "alice", "changes_requested")
    bot_world.fake.close_pull(bot_world.repo, number)
    bot_world.deliver("pull_request", pull_closed(bot_world.fake, bot_world.repo, number, "alice"))
    bot_world.drain()
    assert _acceptance(bot_world) == pytest.approx(acceptance_rate(0, 1))  # one close, not one and a half


def test_merged_after_changes_requested_counts_the_rework(bot_world: BotWorld, engine: StubEngine) -> None:
    bot_world.install()
    bot_world.comment("alice", "/evolve run")
    number = next(iter(bot_world.repo.pulls))
    _review(bot_world, number, "alice", "changes_requested")
    bot_world.fake.merge_pull(bot_world.repo, number)
    bot_world.deliver("pull_request", pull_closed(bot_world.fake, bot_world.repo, number, "alice"))
    bot_world.drain()
    assert _acceptance(bot_world) == pytest.approx(weighted_acceptance(1, 0, 1))
    assert acceptance_rate(0, 0) < _acceptance(bot_world) < acceptance_rate(1, 0)
    assert not learned_acceptance(bot_world.ctx.db, BotWorld.REPO_ID)[1]  # reviews never block
