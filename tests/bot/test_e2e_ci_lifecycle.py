"""After the PR opens, end to end against the fake GitHub: the repository's own CI (other apps' check runs, commit
statuses, Actions runs with job logs) is followed; red because of the change → a new attempt is pushed, then green
→ merged (automerge on) or left for review (off); red on the base too → no retry; three red attempts → stopped and
labelled; a human push → never touched; a conflicting PR is rebuilt on the new base; a PR whose finding is gone is
closed; a forged or foreign-branch event changes nothing.

Webhooks are real `@octokit/webhooks-examples` payloads (tests/fixtures/webhooks) adjusted to the fake's state; the
engine is the stand-in of tests/fakegithub/stub_engine.py, which records the options each run got.
"""

from __future__ import annotations

from bot.db import store
from bot.db.pull_lifecycle import get_pull_state
from tests.fakegithub.fixtures import BotWorld
from tests.fakegithub.payloads import (
    check_run_completed,
    check_suite_completed,
    pull_closed,
    pull_synchronize,
    push_event,
    review,
    status_event,
    workflow_run_completed,
)
from tests.fakegithub.sample_repo import EVOLVE_YML
from tests.fakegithub.stub_engine import StubEngine

FAILING_LOG = """\
2026-12-08T00:00:01Z ##[group]Run pytest
2026-12-08T00:00:02Z FAILED tests/test_sample.py::test_add_and_get - AssertionError: assert None == 1
2026-12-08T00:00:02Z token used: ghs_0123456789abcdefABCDEF0123456789abcd
2026-12-08T00:00:03Z ##[error]Process completed with exit code 1.
"""
AUTOMERGE_YML = EVOLVE_YML + "automerge:\n  enabled: true\n  require_review: false\n  max_risk: low\n"


def _open_pr(world: BotWorld) -> tuple[int, str, str]:
    """Install, `/evolve run`, and return the PR's number, branch and head."""
    world.install()
    world.comment("alice", "/evolve run")
    number, pull = next(iter(world.repo.pulls.items()))
    return number, pull["head"], world.fake.state.head_sha(world.repo, pull["head"]) or ""


def _head(world: BotWorld, number: int) -> str:
    return world.fake.state.head_sha(world.repo, world.repo.pulls[number]["head"]) or ""


def _deliver(world: BotWorld, event: str, payload: dict) -> None:
    response = world.deliver(event, payload)
    assert response.status_code == 202, response.text
    world.drain()


def _actions_red(world: BotWorld, sha: str, branch: str, name: str = "tests (3.8)") -> None:
    """An Actions run fails on `sha`: its job (a check run) and its log, then `workflow_run.completed`."""
    run_id = world.fake.add_workflow_run(world.repo, sha, branch, "CI", [(name, "failure", FAILING_LOG)])
    _deliver(world, "workflow_run", workflow_run_completed(world.fake, world.repo, run_id, sha, branch, "failure"))


def _green(world: BotWorld, sha: str, branch: str, name: str = "tests (3.8)") -> None:
    world.fake.add_check_run(world.repo, sha, name, "success")
    _deliver(world, "check_suite", check_suite_completed(world.fake, world.repo, sha, branch, "success"))


def _metric(world: BotWorld, name: str) -> float:
    """A sample's value on /metrics (counters are per process: other tests may have added to them)."""
    lines = [line for line in world.client.get("/metrics").text.splitlines() if line.startswith(name + " ")]
    return float(lines[0].split()[-1]) if lines else 0.0


def _runs(world: BotWorld, trigger: str) -> list:
    return [r for r in store.recent_runs(world.ctx.db, BotWorld.REPO_ID, limit=50) if r.trigger == trigger]


def test_red_because_of_the_change_retries_then_green_is_left_for_review(
    bot_world: BotWorld, engine: StubEngine
) -> None:
    fake, repo = bot_world.fake, bot_world.repo
    number, branch, first = _open_pr(bot_world)
    base = fake.state.head_sha(repo, "main") or ""
    fake.add_check_run(repo, base, "tests (3.8)", "success")  # the same check passes without the change
    assert get_pull_state(bot_world.ctx.db, BotWorld.REPO_ID, number).attempts == 1

    _actions_red(bot_world, first, branch)

    # a second attempt of the same theme, pushed to the bot's own branch, with the failure as evidence
    (retry,) = _runs(bot_world, "ci-retry")
    assert retry.status == "succeeded" and retry.pr_number == number
    second = _head(bot_world, number)
    assert second != first and len(repo.pulls) == 1
    feedback = engine.calls[-1].ci_feedback
    assert feedback is not None and feedback.attempts_used == 1
    assert feedback.result.gate == "ci" and "sample/__init__.py" in feedback.result.blame
    assert "FAILED tests/test_sample.py::test_add_and_get" in feedback.result.details
    assert "ghs_0123456789abcdef" not in feedback.result.details  # the log is redacted like all repository text
    comment = fake.comments(repo, number)[-1]
    assert "attempt 2 of 3" in comment and "tests (3.8)" in comment
    state = get_pull_state(bot_world.ctx.db, BotWorld.REPO_ID, number)
    assert (state.state, state.attempts, state.ci_retries, state.head_sha) == ("waiting", 2, 1, second)
    assert fake.requests_to(
        "GET", "/actions/jobs/" + str(repo.workflow_runs[max(repo.workflow_runs)]["jobs"][0]["id"]) + "/logs"
    )

    # the same red event again: nothing more (one retry per head)
    _deliver(
        bot_world, "workflow_run", workflow_run_completed(fake, repo, max(repo.workflow_runs), first, branch, "failure")
    )
    assert len(_runs(bot_world, "ci-retry")) == 1

    _green(bot_world, second, branch)
    state = get_pull_state(bot_world.ctx.db, BotWorld.REPO_ID, number)
    assert state.state == "green" and "automerge is off" in state.reason
    assert repo.pulls[number]["state"] == "open" and not fake.requests_to("PUT", f"/pulls/{number}/merge")
    assert not _runs(bot_world, "merge")


def test_automerge_merges_green_through_the_merge_api_and_learns(bot_world: BotWorld, engine: StubEngine) -> None:
    fake, repo = bot_world.fake, bot_world.repo
    fake.commit_files(repo, {".github/evolve.yml": AUTOMERGE_YML}, "Turn automerge on")
    fake.require_checks(repo, "main", ["tests (3.8)"])
    number, branch, first = _open_pr(bot_world)
    fake.add_check_run(repo, fake.state.head_sha(repo, "main") or "", "tests (3.8)", "success")

    _actions_red(bot_world, first, branch)  # red because of the change: retried, not merged
    second = _head(bot_world, number)
    assert second != first and repo.pulls[number]["state"] == "open"
    _deliver(bot_world, "pull_request", pull_synchronize(fake, repo, number, "evolve-bot[bot]"))  # no CI yet
    assert get_pull_state(bot_world.ctx.db, BotWorld.REPO_ID, number).state == "waiting"
    fake.add_status(repo, second, "ci/docs", "pending")
    _green(bot_world, second, branch)  # a status is still pending: waiting
    assert get_pull_state(bot_world.ctx.db, BotWorld.REPO_ID, number).state == "waiting"
    assert not fake.requests_to("PUT", f"/pulls/{number}/merge")

    fake.add_status(repo, second, "ci/docs", "success")
    _deliver(bot_world, "status", status_event(fake, repo, second, branch, "ci/docs", "success"))

    (merge,) = fake.requests_to("PUT", f"/repos/{repo.full_name}/pulls/{number}/merge")
    assert merge.body == {"sha": second, "merge_method": "squash"} and merge.status == 200
    assert repo.pulls[number]["merged_at"]
    state = get_pull_state(bot_world.ctx.db, BotWorld.REPO_ID, number)
    assert state.state == "merged" and state.automerged
    assert fake.comments(repo, number)[-1].startswith("Merged by Evolve (squash)")
    assert _metric(bot_world, 'evolve_automerges_total{outcome="merged"}') >= 1
    stats = {s.codemod: s for s in store.codemod_stats(bot_world.ctx.db, BotWorld.REPO_ID)}
    assert stats["none-comparison"].merged == 1  # recorded as for a human merge
    _deliver(bot_world, "pull_request", pull_closed(fake, repo, number, "evolve-bot[bot]"))
    stats = {s.codemod: s for s in store.codemod_stats(bot_world.ctx.db, BotWorld.REPO_ID)}
    assert stats["none-comparison"].merged == 1  # once per PR


def test_red_on_the_base_too_is_not_retried(bot_world: BotWorld, engine: StubEngine) -> None:
    fake, repo = bot_world.fake, bot_world.repo
    number, branch, head = _open_pr(bot_world)
    base = fake.state.head_sha(repo, "main") or ""
    fake.add_check_run(repo, base, "lint", "failure")
    fake.add_check_run(repo, head, "lint", "failure", app="circleci-checks")
    _deliver(
        bot_world, "check_run", check_run_completed(fake, repo, head, branch, "lint", "failure", app="circleci-checks")
    )

    assert not _runs(bot_world, "ci-retry") and len(engine.calls) == 1 and _head(bot_world, number) == head
    comment = fake.comments(repo, number)[-1]
    assert "lint failed on the base commit too" in comment and "does not retry" in comment
    assert "evolve:ci-red-on-base" in repo.issue_labels[number]
    assert get_pull_state(bot_world.ctx.db, BotWorld.REPO_ID, number).state == "stopped"
    assert f"| #{number} | stopped: lint failed on the base commit too" in repo.issues[1]["body"]  # the dashboard
    redraws = len(fake.requests_to("PATCH", "/issues/1"))
    _deliver(bot_world, "check_run", check_run_completed(fake, repo, head, branch, "lint", "failure"))
    assert len(fake.requests_to("PATCH", "/issues/1")) == redraws  # redrawn only when a state changed


def test_three_red_attempts_stop_and_label(bot_world: BotWorld, engine: StubEngine) -> None:
    fake, repo = bot_world.fake, bot_world.repo
    number, branch, head = _open_pr(bot_world)
    fake.add_check_run(repo, fake.state.head_sha(repo, "main") or "", "tests (3.8)", "success")
    heads = [head]
    for _ in range(3):
        _actions_red(bot_world, heads[-1], branch)
        heads.append(_head(bot_world, number))

    assert heads[2] != heads[1] != heads[0] and heads[3] == heads[2]  # two retries pushed, no third
    assert len(_runs(bot_world, "ci-retry")) == 2 and len(engine.calls) == 3
    assert [c.ci_feedback.attempts_used for c in engine.calls[1:]] == [1, 2]
    assert "evolve:stopped" in repo.issue_labels[number]
    assert "still failed after 3 attempts" in fake.comments(repo, number)[-1]
    state = get_pull_state(bot_world.ctx.db, BotWorld.REPO_ID, number)
    assert (state.state, state.attempts, state.ci_retries) == ("stopped", 3, 2)
    _actions_red(bot_world, heads[-1], branch)  # stopped is stopped
    assert len(engine.calls) == 3


def test_a_human_commit_on_the_branch_is_never_touched(bot_world: BotWorld, engine: StubEngine) -> None:
    fake, repo = bot_world.fake, bot_world.repo
    number, branch, _ = _open_pr(bot_world)
    opened = len(fake.requests)
    fake.add_check_run(repo, fake.state.head_sha(repo, "main") or "", "tests (3.8)", "success")
    human = fake.commit_files(repo, {"NOTES.md": "mine\n"}, "A human commit", branch=branch)
    _deliver(bot_world, "pull_request", pull_synchronize(fake, repo, number, "alice"))
    _actions_red(bot_world, human, branch)
    before = fake.commit_files(repo, {"sample/__init__.py": "x = 1\n"}, "Rewrite on main")
    _deliver(bot_world, "push", push_event(fake, repo, "0" * 40, before, ["sample/__init__.py"]))
    bot_world.comment("alice", "/evolve rebase", number=number, on_pull=True)

    assert len(engine.calls) == 1 and _head(bot_world, number) == human
    assert not _runs(bot_world, "ci-retry") and not _runs(bot_world, "rebase")
    assert get_pull_state(bot_world.ctx.db, BotWorld.REPO_ID, number).state == "hands-off"
    assert "someone else pushed to its branch" in fake.comments(repo, number)[-1]
    assert not [r for r in fake.requests[opened:] if r.path.endswith("/git-receive-pack")]  # no push at all


def test_a_conflicting_pr_is_rebuilt_on_the_new_base(bot_world: BotWorld, engine: StubEngine) -> None:
    fake, repo = bot_world.fake, bot_world.repo
    number, _, head = _open_pr(bot_world)
    text = fake.file_at(repo, "main", "sample/__init__.py")
    new_main = fake.commit_files(repo, {"sample/__init__.py": text + "# a line of main's own\n"}, "Change on main")
    assert fake.pull_json(repo, number)["mergeable"] is False
    _deliver(bot_world, "push", push_event(fake, repo, "0" * 40, new_main, ["README.md"]))

    (rebase,) = _runs(bot_world, "rebase")
    assert rebase.status == "succeeded" and engine.calls[-1].base_ref == "refs/heads/main"
    rebuilt = _head(bot_world, number)
    assert rebuilt != head and fake.pull_json(repo, number)["mergeable"] is True
    assert fake.state.head_sha(repo, "main") == new_main and len(repo.pulls) == 1
    assert "# a line of main's own" in fake.file_at(repo, rebuilt, "sample/__init__.py")
    comment = fake.comments(repo, number)[-1]
    assert comment.startswith("Rebuilt on the latest `main` (it conflicted with the new base)")
    assert get_pull_state(bot_world.ctx.db, BotWorld.REPO_ID, number).state == "waiting"


def test_a_pr_whose_finding_is_gone_is_closed_with_a_comment(bot_world: BotWorld, engine: StubEngine) -> None:
    fake, repo = bot_world.fake, bot_world.repo
    number, _, _ = _open_pr(bot_world)
    fixed = fake.file_at(repo, "main", "sample/__init__.py").replace("== None", "is None")
    new_main = fake.commit_files(repo, {"sample/__init__.py": fixed + "\n"}, "Fix it on main")
    engine.edit = False  # on the new base there is nothing left to do
    _deliver(bot_world, "push", push_event(fake, repo, "0" * 40, new_main, ["sample/__init__.py"]))

    assert repo.pulls[number]["state"] == "closed" and not repo.pulls[number].get("merged_at")
    assert fake.comments(repo, number)[-1].startswith("Closing: on the latest `main` there is nothing left")
    assert get_pull_state(bot_world.ctx.db, BotWorld.REPO_ID, number).state == "closed"
    _deliver(bot_world, "pull_request", pull_closed(fake, repo, number, "evolve-bot[bot]"))
    stats = {s.codemod: s for s in store.codemod_stats(bot_world.ctx.db, BotWorld.REPO_ID)}
    assert stats["none-comparison"].closed == 0  # Evolve's own close is no reviewer's verdict


def test_forged_and_foreign_branch_events_are_ignored(bot_world: BotWorld, engine: StubEngine) -> None:
    fake, repo = bot_world.fake, bot_world.repo
    number, branch, head = _open_pr(bot_world)
    fake.add_check_run(repo, fake.state.head_sha(repo, "main") or "", "tests (3.8)", "success")
    seen = len(fake.requests)
    # a foreign branch: not even looked at
    _deliver(bot_world, "check_run", check_run_completed(fake, repo, head, "feature/x", "tests (3.8)", "failure"))
    assert not [r for r in fake.requests[seen:] if "/check-runs" in r.path or "/pulls" in r.path]
    # an Evolve branch name but a commit that is no PR's head
    _deliver(bot_world, "check_run", check_run_completed(fake, repo, "f" * 40, branch, "tests (3.8)", "failure"))
    # the PR's head, claiming a failure GitHub does not show: the API's answer counts, not the payload's
    fake.add_check_run(repo, head, "tests (3.8)", "success")
    _deliver(bot_world, "check_run", check_run_completed(fake, repo, head, branch, "tests (3.8)", "failure"))
    # Evolve's own check run is not the repository's CI
    _deliver(
        bot_world,
        "check_run",
        check_run_completed(fake, repo, head, branch, "evolve/gates", "failure", app="evolve-bot"),
    )

    assert len(engine.calls) == 1 and _head(bot_world, number) == head and not _runs(bot_world, "ci-retry")
    assert get_pull_state(bot_world.ctx.db, BotWorld.REPO_ID, number).state == "green"
    # paused (`/evolve pause`): a real failure is not followed either
    store.set_repository_paused(bot_world.ctx.db, BotWorld.REPO_ID, True)
    _actions_red(bot_world, head, branch, name="lint")
    assert (
        not _runs(bot_world, "ci-retry") and get_pull_state(bot_world.ctx.db, BotWorld.REPO_ID, number).state == "green"
    )
    assert not [c for c in fake.comments(repo, number) if "Evolve stopped" in c]


def test_a_flaky_check_is_not_retried(bot_world: BotWorld, engine: StubEngine) -> None:
    fake, repo = bot_world.fake, bot_world.repo
    number, branch, head = _open_pr(bot_world)
    fake.add_check_run(repo, fake.state.head_sha(repo, "main") or "", "tests (3.8)", "success")
    fake.add_check_run(repo, head, "tests (3.8)", "success")  # it passed on this commit once ...
    fake.add_check_run(repo, head, "tests (3.8)", "failure")  # ... and failed when re-run
    _deliver(bot_world, "check_run", check_run_completed(fake, repo, head, branch, "tests (3.8)", "failure"))

    assert not _runs(bot_world, "ci-retry") and _head(bot_world, number) == head
    assert "evolve:ci-flaky" in repo.issue_labels[number]
    assert "flaky" in fake.comments(repo, number)[-1]
    assert get_pull_state(bot_world.ctx.db, BotWorld.REPO_ID, number).state == "stopped"


def test_automerge_waits_for_an_approving_review_when_required(bot_world: BotWorld, engine: StubEngine) -> None:
    fake, repo = bot_world.fake, bot_world.repo
    config = EVOLVE_YML + "automerge:\n  enabled: true\n  method: merge\n"  # require_review is on by default
    fake.commit_files(repo, {".github/evolve.yml": config}, "Turn automerge on")
    number, branch, head = _open_pr(bot_world)
    _green(bot_world, head, branch)
    state = get_pull_state(bot_world.ctx.db, BotWorld.REPO_ID, number)
    assert state.state == "green" and "approving review" in state.reason and repo.pulls[number]["state"] == "open"

    _deliver(bot_world, "pull_request_review", review(fake, repo, number, "rita", "approved"))  # a reader: no
    assert repo.pulls[number]["state"] == "open"
    fake.set_permission(repo, "bob", "write")
    _deliver(bot_world, "pull_request_review", review(fake, repo, number, "bob", "changes_requested"))
    _deliver(bot_world, "pull_request_review", review(fake, repo, number, "alice", "approved"))  # a writer ...
    assert repo.pulls[number]["state"] == "open"  # ... but another writer asked for changes
    _deliver(bot_world, "pull_request_review", review(fake, repo, number, "bob", "approved"))
    (merge,) = fake.requests_to("PUT", f"/repos/{repo.full_name}/pulls/{number}/merge")
    assert merge.body == {"sha": head, "merge_method": "merge"} and repo.pulls[number]["merged_at"]


def test_evolve_rebase_rebuilds_by_hand(bot_world: BotWorld, engine: StubEngine) -> None:
    fake, repo = bot_world.fake, bot_world.repo
    number, _, head = _open_pr(bot_world)
    new_main = fake.commit_files(repo, {"README.md": "news\n"}, "Unrelated change on main")
    bot_world.comment("rita", "/evolve rebase", number=number, on_pull=True)  # a reader may not
    assert not _runs(bot_world, "rebase")
    payload = bot_world.comment("alice", "/evolve rebase", number=number, on_pull=True)

    (rebase,) = _runs(bot_world, "rebase")
    assert rebase.status == "succeeded" and rebase.requested_by == "alice"
    rebuilt = _head(bot_world, number)
    assert rebuilt != head and fake.file_at(repo, rebuilt, "README.md") == "news"
    assert fake.state.head_sha(repo, "main") == new_main
    assert fake.comments(repo, number)[-1].startswith("Rebuilt on the latest `main` (asked for by alice)")
    assert repo.reactions[payload["comment"]["id"]] == ["eyes"]


def test_with_the_real_engine_a_retry_that_narrows_everything_away_stops(bot_world: BotWorld) -> None:
    """The real engine: CI blames the one file the change edits, so the retry drops it and nothing is left."""
    fake, repo = bot_world.fake, bot_world.repo
    number, branch, head = _open_pr(bot_world)
    fake.add_check_run(repo, fake.state.head_sha(repo, "main") or "", "tests (3.8)", "success")
    _actions_red(bot_world, head, branch)

    (retry,) = _runs(bot_world, "ci-retry")
    assert retry.status == "failed" and _head(bot_world, number) == head  # nothing pushed
    ci_attempt = retry.report["attempts"][0]
    assert ci_attempt["number"] == 1 and ci_attempt["narrowed"] == ["sample/__init__.py"]
    assert ci_attempt["gates"][0]["gate"] == "ci"
    assert "evolve:stopped" in repo.issue_labels[number]
    assert "no other version" in fake.comments(repo, number)[-1]
    assert get_pull_state(bot_world.ctx.db, BotWorld.REPO_ID, number).state == "stopped"


def test_a_failure_that_passes_on_rerun_before_the_retry_starts_is_flaky(
    bot_world: BotWorld, engine: StubEngine
) -> None:
    fake, repo = bot_world.fake, bot_world.repo
    number, branch, head = _open_pr(bot_world)
    fake.add_check_run(repo, fake.state.head_sha(repo, "main") or "", "tests (3.8)", "success")
    # Someone re-runs the job and it passes while the retry waits for its turn: by the time the run mints its own
    # token (restricted to the repository), the check is green on the same commit.
    fake.when_requested(
        "POST",
        r"/access_tokens$",
        lambda: fake.add_check_run(repo, head, "tests (3.8)", "success"),
        body=lambda body: isinstance(body, dict) and body.get("repositories"),
    )
    _actions_red(bot_world, head, branch)

    (retry,) = _runs(bot_world, "ci-retry")
    assert retry.status == "cancelled" and "flaky" in (retry.message or "")
    assert len(engine.calls) == 1 and _head(bot_world, number) == head  # no new attempt
    assert "evolve:ci-flaky" in repo.issue_labels[number]
    assert "passed when re-run on the same commit" in fake.comments(repo, number)[-1]
    assert get_pull_state(bot_world.ctx.db, BotWorld.REPO_ID, number).state == "stopped"
