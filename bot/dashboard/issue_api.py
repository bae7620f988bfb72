"""GitHub's issue endpoints the dashboard needs, through the bot's gateway (errors as `GitHubError`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bot.dashboard.checkboxes import MARKER


@dataclass(frozen=True)
class IssueRef:
    """An issue's number, body and web address."""

    number: int
    body: str
    html_url: str


def _issue(data: Any) -> IssueRef:
    return IssueRef(int(data["number"]), str(data.get("body") or ""), str(data.get("html_url") or ""))


async def create_issue(gateway: Any, installation_id: int, owner: str, repo: str, title: str, body: str) -> IssueRef:
    """Open an issue as the App."""
    gh = await gateway._as_installation(installation_id)
    response = await gateway._call(
        "POST /repos/{o}/{r}/issues", gh.rest.issues.async_create(owner, repo, title=title, body=body)
    )
    return _issue(response.json())


async def get_issue(gateway: Any, installation_id: int, owner: str, repo: str, number: int) -> IssueRef | None:
    """An open issue, or None when it is gone or closed (a closed dashboard is replaced by a new one)."""
    from bot.github_client import GitHubError

    gh = await gateway._as_installation(installation_id)
    try:
        response = await gateway._call("GET /repos/{o}/{r}/issues/{n}", gh.rest.issues.async_get(owner, repo, number))
    except GitHubError as error:
        if error.status in (404, 410):
            return None
        raise
    data = response.json()
    return _issue(data) if data.get("state") == "open" else None


async def find_dashboard(gateway: Any, installation_id: int, owner: str, repo: str, creator: str) -> IssueRef | None:
    """The open issue carrying the dashboard marker, opened by the App (when the store lost its number)."""
    gh = await gateway._as_installation(installation_id)
    response = await gateway._call(
        "GET /repos/{o}/{r}/issues",
        gh.rest.issues.async_list_for_repo(owner, repo, state="open", creator=creator, per_page=100),
    )
    for item in response.json():
        if MARKER in str(item.get("body") or "") and "pull_request" not in item:
            return _issue(item)
    return None


async def update_issue_body(gateway: Any, installation_id: int, owner: str, repo: str, number: int, body: str) -> None:
    """Replace an issue's body."""
    gh = await gateway._as_installation(installation_id)
    await gateway._call("PATCH /repos/{o}/{r}/issues/{n}", gh.rest.issues.async_update(owner, repo, number, body=body))


async def create_comment(
    gateway: Any, installation_id: int, owner: str, repo: str, number: int, body: str
) -> tuple[int, str]:
    """Comment on the issue; return the comment's id and web address."""
    gh = await gateway._as_installation(installation_id)
    response = await gateway._call(
        "POST /repos/{o}/{r}/issues/{n}/comments", gh.rest.issues.async_create_comment(owner, repo, number, body=body)
    )
    data = response.json()
    return int(data["id"]), str(data.get("html_url") or "")


async def update_comment(
    gateway: Any, installation_id: int, owner: str, repo: str, comment_id: int, body: str
) -> str | None:
    """Replace a comment's body; its web address, or None when the comment is gone."""
    from bot.github_client import GitHubError

    gh = await gateway._as_installation(installation_id)
    try:
        response = await gateway._call(
            "PATCH /repos/{o}/{r}/issues/comments/{id}",
            gh.rest.issues.async_update_comment(owner, repo, comment_id, body=body),
        )
    except GitHubError as error:
        if error.status == 404:
            return None
        raise
    return str(response.json().get("html_url") or "")
