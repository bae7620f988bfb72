"""What the repository's own CI says about a commit, read through the REST API: check runs of every app, commit
statuses, a check run's annotations, the logs of failed Actions jobs, a branch's required checks, and a merge.

Values are frozen dataclasses; the functions take a githubkit client (`GitHubGateway` passes its installation
client) and the gateway's `_call`/`_collect` wrappers, so errors arrive as `GitHubError` like every other call.
Nothing read here is trusted: it is text from the repository's CI, shown only through `evolve/untrusted_text.py`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Literal

CiState = Literal["pending", "success", "failure"]
LOG_TAIL_BYTES = 64 * 1024  # the end of a failed job's log holds its error; more is never read into a comment
MAX_FAILED_JOBS = 5
GREEN_CONCLUSIONS = frozenset({"success", "neutral", "skipped"})

Call = Callable[[str, Any], Awaitable[Any]]


@dataclass(frozen=True)
class CiResult:
    """One check of a commit: a check run (`kind="check_run"`, with its app) or a commit status context."""

    name: str
    state: CiState
    kind: Literal["check_run", "status"]
    app: str = ""  # the check run's app slug ("" for a status)
    id: int = 0  # the check run's id (0 for a status)
    summary: str = ""
    annotations_count: int = 0


@dataclass(frozen=True)
class Annotation:
    """A check run's annotation: where the check points and what it says."""

    path: str
    line: int
    message: str


@dataclass(frozen=True)
class JobLog:
    """The end of a failed Actions job's log."""

    workflow: str
    job: str
    text: str


@dataclass(frozen=True)
class MergeResult:
    """What the merge API answered: merged, or why not (GitHub's message)."""

    merged: bool
    message: str
    sha: str = ""


def check_state(status: str | None, conclusion: str | None) -> CiState:
    """A check run's state: pending until completed, then success for success/neutral/skipped, else failure."""
    if status != "completed" or conclusion is None:
        return "pending"
    return "success" if conclusion in GREEN_CONCLUSIONS else "failure"


def status_state(state: str) -> CiState:
    """A commit status's state (error counts as failure)."""
    return {"success": "success", "pending": "pending"}.get(state, "failure")  # type: ignore[return-value]


async def ci_results(gh: Any, call: Call, collect: Call, owner: str, repo: str, ref: str) -> list[CiResult]:
    """Every check run (the latest of each name, all pages) and every status context on `ref`."""
    pages = gh.rest.paginate(
        gh.rest.checks.async_list_for_ref,
        map_func=lambda response: response.parsed_data.check_runs,
        owner=owner,
        repo=repo,
        ref=ref,
        filter_="latest",
        per_page=100,
    )
    checks = await collect("GET /repos/{o}/{r}/commits/{ref}/check-runs", pages)
    results = [
        CiResult(
            name=check.name,
            state=check_state(check.status, check.conclusion),
            kind="check_run",
            app=(check.app.slug or "") if check.app else "",
            id=int(check.id),
            summary=(check.output.summary or "") if check.output else "",
            annotations_count=int(check.output.annotations_count or 0) if check.output else 0,
        )
        for check in checks
    ]
    combined = await call(
        "GET /repos/{o}/{r}/commits/{ref}/status",
        gh.rest.repos.async_get_combined_status_for_ref(owner, repo, ref, per_page=100),
    )
    for status in combined.parsed_data.statuses:
        results.append(
            CiResult(
                name=status.context, state=status_state(status.state), kind="status", summary=status.description or ""
            )
        )
    return results


async def check_run_states(gh: Any, call: Call, owner: str, repo: str, ref: str, name: str) -> list[CiState]:
    """Every run of the check `name` on `ref`, re-runs included (`filter=all`), oldest first."""
    response = await call(
        "GET /repos/{o}/{r}/commits/{ref}/check-runs",
        gh.rest.checks.async_list_for_ref(owner, repo, ref, check_name=name, filter_="all", per_page=100),
    )
    checks = sorted(response.parsed_data.check_runs, key=lambda check: check.id)
    return [check_state(check.status, check.conclusion) for check in checks]


async def check_annotations(gh: Any, call: Call, owner: str, repo: str, check_run_id: int) -> list[Annotation]:
    """The first 100 annotations of a check run."""
    response = await call(
        "GET /repos/{o}/{r}/check-runs/{id}/annotations",
        gh.rest.checks.async_list_annotations(owner, repo, check_run_id, per_page=100),
    )
    return [Annotation(item.path, int(item.start_line or 0), item.message or "") for item in response.parsed_data]


async def failed_job_logs(gh: Any, call: Call, owner: str, repo: str, head_sha: str) -> list[JobLog]:
    """The tails of the logs of the failed jobs of the Actions runs on `head_sha` (a few at most)."""
    runs = await call(
        "GET /repos/{o}/{r}/actions/runs",
        gh.rest.actions.async_list_workflow_runs_for_repo(owner, repo, head_sha=head_sha, per_page=30),
    )
    logs: list[JobLog] = []
    # Read as plain JSON: only ids, names and conclusions are needed, and a field GitHub adds or drops must not
    # cost the evidence.
    for run in _items(runs.json(), "workflow_runs"):
        if run.get("conclusion") != "failure" or not isinstance(run.get("id"), int):
            continue
        jobs = await call(
            "GET /repos/{o}/{r}/actions/runs/{id}/jobs",
            gh.rest.actions.async_list_jobs_for_workflow_run(owner, repo, run["id"], filter_="latest", per_page=100),
        )
        for job in _items(jobs.json(), "jobs"):
            if job.get("conclusion") != "failure" or not isinstance(job.get("id"), int) or len(logs) >= MAX_FAILED_JOBS:
                continue
            response = await call(
                "GET /repos/{o}/{r}/actions/jobs/{id}/logs",
                gh.rest.actions.async_download_job_logs_for_workflow_run(owner, repo, job["id"]),
            )
            raw: bytes = response.content[-LOG_TAIL_BYTES:]
            logs.append(JobLog(str(run.get("name") or ""), str(job.get("name") or ""), raw.decode("utf-8", "replace")))
    return logs


def _items(data: Any, key: str) -> list[dict[str, Any]]:
    items = data.get(key) if isinstance(data, dict) else None
    return [item for item in items if isinstance(item, dict)] if isinstance(items, list) else []


async def required_checks(gh: Any, call: Call, owner: str, repo: str, branch: str) -> tuple[str, ...]:
    """The checks branch protection requires on `branch` (none when it is not protected)."""
    response = await call("GET /repos/{o}/{r}/branches/{branch}", gh.rest.repos.async_get_branch(owner, repo, branch))
    data = response.json()
    protection = data.get("protection") if isinstance(data, dict) else None
    checks = protection.get("required_status_checks") if isinstance(protection, dict) else None
    contexts = checks.get("contexts") if isinstance(checks, dict) else None
    named = (
        [c.get("context") for c in checks.get("checks") or [] if isinstance(c, dict)]
        if isinstance(checks, dict)
        else []
    )
    return tuple(sorted({str(c) for c in [*(contexts or []), *named] if c}))
