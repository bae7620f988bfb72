"""The gateway's CI reads and the merge API against the fake GitHub (shaped after `@octokit/openapi`): check runs of
every app (latest per name, re-runs with `filter=all`), commit statuses, annotations, failed Actions jobs' logs
behind a 302, branch protection's required checks, mergeable state, and merges refused by protection or a stale sha."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from bot.github.client import build_gateway
from tests.fakegithub import FakeGitHub
from tests.fakegithub.fixtures import app_settings
from tests.fakegithub.state import git


@pytest.fixture
def world(fake_github: FakeGitHub, tmp_path: Path):  # type: ignore[no-untyped-def]
    fake_github.add_installation(7, "octo-org")
    repo = fake_github.add_repo("octo-org/app", 7)
    base = fake_github.commit_files(repo, {"a.py": "x = 1\n"}, "base")
    git(repo.bare, "update-ref", "refs/heads/evolve/idioms-1", base)  # the branch starts at base
    head = fake_github.commit_files(repo, {"a.py": "x = 2\n"}, "change", branch="evolve/idioms-1")
    number = fake_github.add_pull(repo, "evolve/idioms-1", user="evolve-bot[bot]")
    return fake_github, repo, base, head, number, build_gateway(app_settings(fake_github, tmp_path / "data"))


def test_ci_results_annotations_and_logs(world) -> None:  # type: ignore[no-untyped-def]
    fake, repo, _, head, _, gateway = world
    fake.add_check_run(
        repo,
        head,
        "lint",
        "failure",
        app="circleci-checks",
        annotations=[{"path": "a.py", "start_line": 1, "message": "E1"}],
    )
    fake.add_check_run(repo, head, "lint", "success", app="circleci-checks")  # a re-run
    fake.add_status(repo, head, "ci/docs", "pending")
    fake.add_status(repo, head, "ci/docs", "error")
    run_id = fake.add_workflow_run(
        repo, head, "evolve/idioms-1", "CI", [("tests", "failure", "x" * 70_000 + "\nboom\n")]
    )

    async def scenario():  # type: ignore[no-untyped-def]
        results = {r.name: r for r in await gateway.ci_results(7, "octo-org", "app", head)}
        history = await gateway.check_run_states(7, "octo-org", "app", head, "lint")
        first_lint = min(i for i, c in repo.check_runs.items() if c["name"] == "lint")
        notes = await gateway.check_annotations(7, "octo-org", "app", first_lint)
        logs = await gateway.failed_job_logs(7, "octo-org", "app", head)
        return results, history, notes, logs

    results, history, notes, logs = asyncio.run(scenario())
    assert (results["lint"].state, results["lint"].app, results["lint"].kind) == (
        "success",
        "circleci-checks",
        "check_run",
    )
    assert (results["ci/docs"].state, results["ci/docs"].kind) == ("failure", "status")  # the newest per context
    assert results["tests"].state == "failure" and results["tests"].app == "github-actions"
    assert history == ["failure", "success"]
    assert [(a.path, a.line, a.message) for a in notes] == [("a.py", 1, "E1")]
    (log,) = logs
    assert (log.workflow, log.job) == ("CI", "tests") and log.text.endswith("boom\n") and len(log.text) <= 64 * 1024
    job_id = repo.workflow_runs[run_id]["jobs"][0]["id"]
    (download,) = fake.requests_to("GET", f"/actions/jobs/{job_id}/logs")
    assert download.status == 302


def test_merges_follow_branch_protection(world) -> None:  # type: ignore[no-untyped-def]
    fake, repo, _, head, number, gateway = world
    fake.require_checks(repo, "main", ["tests", "ci/docs"])
    fake.add_check_run(repo, head, "tests", "success")

    async def merge(sha: str):  # type: ignore[no-untyped-def]
        return await gateway.merge_pull(7, "octo-org", "app", number, sha=sha, method="squash")

    assert asyncio.run(gateway.required_checks(7, "octo-org", "app", "main")) == ("ci/docs", "tests")
    assert asyncio.run(gateway.required_checks(7, "octo-org", "app", "evolve/idioms-1")) == ()
    assert asyncio.run(gateway.get_pull(7, "octo-org", "app", number)).mergeable is True
    refused = asyncio.run(merge(head))
    assert not refused.merged and "405" in refused.message and "ci/docs" in refused.message
    fake.add_status(repo, head, "ci/docs", "success")
    stale = asyncio.run(merge("0" * 40))
    assert not stale.merged and "409" in stale.message
    done = asyncio.run(merge(head))
    assert done.merged and fake.state.head_sha(repo, "main") == done.sha and repo.pulls[number]["merged_at"]
    assert fake.file_at(repo, "main", "a.py") == "x = 2"


def test_a_conflicting_pull_is_not_mergeable(world) -> None:  # type: ignore[no-untyped-def]
    fake, repo, _, _, number, gateway = world
    fake.commit_files(repo, {"a.py": "x = 3\n"}, "main moves")
    assert asyncio.run(gateway.get_pull(7, "octo-org", "app", number)).mergeable is False
    refused = asyncio.run(
        gateway.merge_pull(
            7, "octo-org", "app", number, sha=fake.state.head_sha(repo, "evolve/idioms-1") or "", method="merge"
        )
    )
    assert not refused.merged and "not mergeable" in refused.message
