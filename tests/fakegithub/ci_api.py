"""The fake GitHub's CI endpoints: other apps' check runs and their annotations, commit statuses, Actions workflow
runs, jobs and job logs, a branch's protection (required checks), a PR's mergeable state and the merge API.

Shapes follow GitHub's REST description (`@octokit/openapi`): bodies start from its examples (`api_examples.json`)
overlaid with the fake's state. A repository keeps:

- `check_runs` (shared with the bot's own): each may carry `app` (slug, default the bot's) and `annotations`;
- `statuses`: a list of {sha, context, state, description, target_url}, newest last;
- `workflow_runs`: id -> {name, head_sha, head_branch, status, conclusion, jobs: [{id, name, conclusion, log}]};
- `required_checks`: branch -> contexts branch protection requires.
"""

from __future__ import annotations

import subprocess
from collections.abc import Awaitable, Callable
from datetime import datetime, timezone
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, RedirectResponse, Response
from starlette.routing import Route

from tests.fakegithub.state import FakeRepo, FakeState, example, git, iso

RepoEndpoint = Callable[[Request, FakeState, FakeRepo], Awaitable[Response]]
LOG_LOCATION = "/fake-logs/{owner}/{repo}/{job_id}"  # where a job log's 302 points (GitHub: a signed blob URL)


def _error(status: int, message: str) -> JSONResponse:
    return JSONResponse({"message": message, "documentation_url": "https://docs.github.com/rest"}, status_code=status)


def statuses_for(repo: FakeRepo, sha: str) -> list[dict[str, Any]]:
    """The latest status per context on `sha` (GitHub's combined status keeps the newest of each context)."""
    latest: dict[str, dict[str, Any]] = {}
    for status in repo.statuses:
        if status["sha"] == sha:
            latest[status["context"]] = status
    return list(latest.values())


def combined_state(statuses: list[dict[str, Any]]) -> str:
    """failure when any is error/failure, pending when any is pending (or none exist), else success."""
    states = [s["state"] for s in statuses]
    if any(state in ("error", "failure") for state in states):
        return "failure"
    if not states or "pending" in states:
        return "pending"
    return "success"


def mergeable(state: FakeState, repo: FakeRepo, number: int) -> bool | None:
    """Whether the PR's head merges into its base without conflicts (`git merge-tree`), None for a missing head."""
    pr = repo.pulls[number]
    if pr.get("merged_at"):
        return None
    base, head = state.head_sha(repo, pr["base"]), state.head_sha(repo, pr["head"])
    if not base or not head:
        return None
    try:
        git(repo.bare, "merge-tree", "--write-tree", base, head)
    except subprocess.CalledProcessError:
        return False
    return True


def ref_sha(state: FakeState, repo: FakeRepo, ref: str) -> str:
    """A branch name's commit, or `ref` itself (a sha)."""
    return state.head_sha(repo, ref) or ref


def ci_routes(needs_repo: Callable[[RepoEndpoint], Callable[[Request], Awaitable[Response]]]) -> list[Route]:
    """The routes, each wrapped by the app's repository/token check."""
    return [
        Route("/repos/{owner}/{repo}/commits/{ref}/status", needs_repo(combined_status), methods=["GET"]),
        Route("/repos/{owner}/{repo}/statuses/{sha}", needs_repo(create_status), methods=["POST"]),
        Route(
            "/repos/{owner}/{repo}/check-runs/{check_id:int}/annotations",
            needs_repo(list_annotations),
            methods=["GET"],
        ),
        Route("/repos/{owner}/{repo}/actions/runs", needs_repo(list_workflow_runs), methods=["GET"]),
        Route("/repos/{owner}/{repo}/actions/runs/{run_id:int}/jobs", needs_repo(list_jobs), methods=["GET"]),
        Route("/repos/{owner}/{repo}/actions/jobs/{job_id:int}/logs", needs_repo(job_logs), methods=["GET"]),
        Route("/repos/{owner}/{repo}/branches/{branch:path}", needs_repo(get_branch), methods=["GET"]),
        Route("/repos/{owner}/{repo}/pulls/{number:int}/merge", needs_repo(merge_pull), methods=["PUT"]),
    ]


def log_routes(state: FakeState) -> list[Route]:
    """Where job logs are downloaded from after the 302 (no token needed: the URL is the credential on GitHub)."""

    async def download(request: Request) -> Response:
        repo = state.repo(request.path_params["owner"], request.path_params["repo"])
        job_id = request.path_params["job_id"]
        for run in repo.workflow_runs.values() if repo else ():
            for job in run["jobs"]:
                if job["id"] == job_id:
                    return PlainTextResponse(job.get("log", ""))
        return PlainTextResponse("not found", status_code=404)

    return [Route("/fake-logs/{owner}/{repo}/{job_id:int}", download, methods=["GET"])]


async def combined_status(request: Request, state: FakeState, repo: FakeRepo) -> Response:
    """GET /repos/{o}/{r}/commits/{ref}/status"""
    sha = ref_sha(state, repo, request.path_params["ref"])
    statuses = statuses_for(repo, sha)
    body = example("combined-commit-status")
    template = body["statuses"][0]
    body.update(
        state=combined_state(statuses),
        sha=sha,
        total_count=len(statuses),
        repository=state.repo_json(repo),
        statuses=[
            {
                **template,
                "id": s["id"],
                "node_id": f"SC_{s['id']}",
                "state": s["state"],
                "context": s["context"],
                "description": s.get("description"),
                "target_url": s.get("target_url"),
                "url": f"{state.base_url}/repos/{repo.full_name}/statuses/{sha}",
            }
            for s in statuses
        ],
    )
    return JSONResponse(body)


async def create_status(request: Request, state: FakeState, repo: FakeRepo) -> Response:
    """POST /repos/{o}/{r}/statuses/{sha}"""
    try:
        data = await request.json()
    except ValueError:
        data = {}
    if data.get("state") not in ("error", "failure", "pending", "success"):
        return _error(422, "Validation Failed")
    status = {
        "id": state.next_id(),
        "sha": request.path_params["sha"],
        "context": data.get("context") or "default",
        "state": data["state"],
        "description": data.get("description"),
        "target_url": data.get("target_url"),
    }
    with state.lock:
        repo.statuses.append(status)
    return JSONResponse({"id": status["id"], "state": status["state"], "context": status["context"]}, status_code=201)


async def list_annotations(request: Request, state: FakeState, repo: FakeRepo) -> Response:
    """GET /repos/{o}/{r}/check-runs/{id}/annotations"""
    check = repo.check_runs.get(request.path_params["check_id"])
    if check is None:
        return _error(404, "Not Found")
    template = example("check-annotation-items")[0]
    return JSONResponse(
        [
            {
                **template,
                "path": a["path"],
                "start_line": a.get("start_line", 1),
                "end_line": a.get("end_line", a.get("start_line", 1)),
                "annotation_level": a.get("annotation_level", "failure"),
                "message": a.get("message", ""),
                "title": a.get("title"),
                "raw_details": a.get("raw_details"),
            }
            for a in check.get("annotations", [])
        ]
    )


def workflow_run_json(state: FakeState, repo: FakeRepo, run_id: int) -> dict[str, Any]:
    """A workflow-run object."""
    run = repo.workflow_runs[run_id]
    body = example("workflow-run")
    api = f"{state.base_url}/repos/{repo.full_name}/actions/runs/{run_id}"
    body.update(
        id=run_id,
        name=run["name"],
        head_sha=run["head_sha"],
        head_branch=run["head_branch"],
        status=run.get("status", "completed"),
        conclusion=run.get("conclusion"),
        url=api,
        jobs_url=f"{api}/jobs",
        logs_url=f"{api}/logs",
        pull_requests=[],
        repository=body["repository"],
    )
    return body


async def list_workflow_runs(request: Request, state: FakeState, repo: FakeRepo) -> Response:
    """GET /repos/{o}/{r}/actions/runs (branch, head_sha, status), newest first, one page"""
    query = request.query_params
    ids = sorted(repo.workflow_runs, reverse=True)
    chosen = [
        i
        for i in ids
        if (not query.get("branch") or repo.workflow_runs[i]["head_branch"] == query["branch"])
        and (not query.get("head_sha") or repo.workflow_runs[i]["head_sha"] == query["head_sha"])
        and (not query.get("status") or repo.workflow_runs[i].get("status", "completed") == query["status"])
    ][: int(query.get("per_page", 30))]
    runs = [workflow_run_json(state, repo, i) for i in chosen]
    return JSONResponse({"total_count": len(runs), "workflow_runs": runs})


async def list_jobs(request: Request, state: FakeState, repo: FakeRepo) -> Response:
    """GET /repos/{o}/{r}/actions/runs/{id}/jobs"""
    run_id = request.path_params["run_id"]
    run = repo.workflow_runs.get(run_id)
    if run is None:
        return _error(404, "Not Found")
    jobs = []
    for job in run["jobs"]:
        body = example("job")
        body.update(
            id=job["id"],
            run_id=run_id,
            name=job["name"],
            head_sha=run["head_sha"],
            status="completed",
            conclusion=job["conclusion"],
            created_at=iso(datetime.now(timezone.utc)),
            workflow_name=run["name"],
            head_branch=run["head_branch"],
            steps=[],
            url=f"{state.base_url}/repos/{repo.full_name}/actions/jobs/{job['id']}",
            run_url=f"{state.base_url}/repos/{repo.full_name}/actions/runs/{run_id}",
        )
        jobs.append(body)
    return JSONResponse({"total_count": len(jobs), "jobs": jobs})


async def job_logs(request: Request, state: FakeState, repo: FakeRepo) -> Response:
    """GET /repos/{o}/{r}/actions/jobs/{id}/logs: 302 to where the plain-text log is downloaded."""
    job_id = request.path_params["job_id"]
    if not any(job["id"] == job_id for run in repo.workflow_runs.values() for job in run["jobs"]):
        return _error(404, "Not Found")
    location = state.base_url + LOG_LOCATION.format(owner=repo.owner, repo=repo.name, job_id=job_id)
    return RedirectResponse(location, status_code=302)


async def get_branch(request: Request, state: FakeState, repo: FakeRepo) -> Response:
    """GET /repos/{o}/{r}/branches/{branch}: with `protection.required_status_checks` when the branch has some."""
    name = request.path_params["branch"]
    sha = state.head_sha(repo, name)
    if sha is None:
        return _error(404, "Branch not found")
    body = example("branch-with-protection")
    required = repo.required_checks.get(name)
    body.update(name=name, protected=required is not None)
    body["commit"].update(sha=sha, url=f"{state.base_url}/repos/{repo.full_name}/commits/{sha}")
    body["protection"] = (
        {"enabled": True, "required_status_checks": {"enforcement_level": "everyone", "contexts": list(required)}}
        if required is not None
        else {"enabled": False, "required_status_checks": {"enforcement_level": "off", "contexts": []}}
    )
    return JSONResponse(body)


def _check_conclusions(state: FakeState, repo: FakeRepo, sha: str) -> dict[str, str]:
    """Each context's latest result on `sha`: check runs (by name) and commit statuses."""
    found: dict[str, str] = {}
    for _, check in sorted(repo.check_runs.items()):
        if check["head_sha"] == sha:
            found[check["name"]] = check.get("conclusion") or "pending"
    for status in statuses_for(repo, sha):
        found[status["context"]] = status["state"]
    return found


async def merge_pull(request: Request, state: FakeState, repo: FakeRepo) -> Response:
    """PUT /repos/{o}/{r}/pulls/{n}/merge: 405 when not mergeable or a required check has not passed, 409 on a
    stale `sha`; otherwise a merge, squash or rebase commit on the base branch (one commit per method here)."""
    number = request.path_params["number"]
    pr = repo.pulls.get(number)
    if pr is None:
        return _error(404, "Not Found")
    try:
        data = await request.json()
    except ValueError:
        data = {}
    data = data if isinstance(data, dict) else {}
    head_sha = state.head_sha(repo, pr["head"])
    base_sha = state.head_sha(repo, pr["base"])
    if pr["state"] != "open" or not head_sha or not base_sha:
        return _error(405, "Pull Request is not mergeable")
    if data.get("sha") and data["sha"] != head_sha:
        return _error(409, "Head branch was modified. Review and try the merge again.")
    if mergeable(state, repo, number) is False:
        return _error(405, "Pull Request is not mergeable")
    results = _check_conclusions(state, repo, head_sha)
    for context in repo.required_checks.get(pr["base"], ()):
        if results.get(context) not in ("success", "neutral", "skipped"):
            return _error(405, f'Required status check "{context}" is expected.')
    method = data.get("merge_method") or "merge"
    if method not in ("merge", "squash", "rebase"):
        return _error(422, "Validation Failed")
    tree = git(repo.bare, "merge-tree", "--write-tree", base_sha, head_sha).splitlines()[0]
    parents = ["-p", base_sha] + (["-p", head_sha] if method == "merge" else [])
    who = ["-c", "user.name=GitHub", "-c", "user.email=noreply@github.com"]
    title = data.get("commit_title") or f"{pr['title']} (#{number})"
    merged = git(repo.bare, *who, "commit-tree", tree, *parents, "-m", title)
    git(repo.bare, "update-ref", f"refs/heads/{pr['base']}", merged)
    now = iso(datetime.now(timezone.utc))
    with state.lock:
        pr.update(
            state="closed", merged_at=now, closed_at=now, merge_commit_sha=merged, head_sha=head_sha, merged_by="bot"
        )
    body = dict(example("pull-request-merge-result-response-if-merge-was-successful"))
    body.update(sha=merged, merged=True)
    return JSONResponse(body)
