"""The GitHub gateway interface: every GitHub call the bot makes, as one typed `Protocol`.

`BotContext.github` is typed by it, so the type checker sees each call's arguments and results.
`bot.github.client.GitHubGateway` implements it with githubkit; tests point that same gateway at the
fake GitHub in `tests/fakegithub` (an HTTP server), or pass any other object that satisfies it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:  # pragma: no cover
    from bot.github.ci_reads import Annotation, CiResult, JobLog, MergeResult
    from bot.github.client import (
        CommentInfo,
        GitHubError,
        IssueInfo,
        PullInfo,
        ReactionContent,
        RepoInfo,
        TokenScope,
    )


class GitHubAPI(Protocol):
    """The REST endpoints the bot uses, authenticated as the App's installations (errors as `GitHubError`)."""

    # ---- tokens -----------------------------------------------------------------------------------
    async def installation_token(self, installation_id: int) -> str:
        """A current installation token (cached until shortly before it expires)."""
        ...

    def scoped(self, scope: TokenScope | None = None) -> GitHubAPI:
        """A gateway with its own tokens, restricted to `scope` (a run's repository and permissions)."""
        ...

    async def revoke_tokens(self) -> None:
        """Revoke every token this gateway minted (best effort)."""
        ...

    # ---- repositories and files -------------------------------------------------------------------
    async def get_repo(self, installation_id: int, owner: str, repo: str) -> RepoInfo:
        """The repository's name, default branch and clone URL."""
        ...

    async def get_file(
        self, installation_id: int, owner: str, repo: str, path: str, ref: str | None = None
    ) -> str | None:
        """A file's text on `ref` (default branch when None); None when it does not exist."""
        ...

    async def get_permission(self, installation_id: int, owner: str, repo: str, user: str) -> str:
        """The user's role on the repository: admin, maintain, write, triage, read or none."""
        ...

    async def can_write(self, installation_id: int, owner: str, repo: str, user: str) -> bool:
        """Whether the user has write, maintain or admin permission."""
        ...

    # ---- issues, comments and reactions -----------------------------------------------------------
    async def add_reaction(
        self, installation_id: int, owner: str, repo: str, comment_id: int, content: ReactionContent = "+1"
    ) -> None:
        """React to an issue comment."""
        ...

    async def create_comment(self, installation_id: int, owner: str, repo: str, number: int, body: str) -> int:
        """Comment on an issue or PR; the comment id."""
        ...

    async def list_comments(self, installation_id: int, owner: str, repo: str, number: int) -> list[CommentInfo]:
        """Every comment on an issue or PR, oldest first."""
        ...

    async def update_comment(self, installation_id: int, owner: str, repo: str, comment_id: int, body: str) -> bool:
        """Replace an issue comment's body; False when the comment is gone."""
        ...

    async def create_issue(self, installation_id: int, owner: str, repo: str, title: str, body: str) -> IssueInfo:
        """Open an issue."""
        ...

    async def get_open_issue(self, installation_id: int, owner: str, repo: str, number: int) -> IssueInfo | None:
        """An open issue; None when it is closed or gone."""
        ...

    async def list_open_issues(self, installation_id: int, owner: str, repo: str, creator: str) -> list[IssueInfo]:
        """Open issues (not PRs) opened by `creator`, first page of 100."""
        ...

    async def update_issue(self, installation_id: int, owner: str, repo: str, number: int, body: str) -> None:
        """Replace an issue's body."""
        ...

    # ---- pull requests ----------------------------------------------------------------------------
    async def list_open_pulls(
        self, installation_id: int, owner: str, repo: str, head_prefix: str = ""
    ) -> list[PullInfo]:
        """Open PRs whose head branch starts with `head_prefix`."""
        ...

    async def get_pull(self, installation_id: int, owner: str, repo: str, number: int) -> PullInfo:
        """One pull request."""
        ...

    async def create_pull(
        self, installation_id: int, owner: str, repo: str, *, head: str, base: str, title: str, body: str
    ) -> PullInfo:
        """Open a pull request."""
        ...

    async def update_pull(self, installation_id: int, owner: str, repo: str, number: int, **fields: Any) -> PullInfo:
        """Change a PR's title, body, state or base."""
        ...

    async def add_labels(
        self, installation_id: int, owner: str, repo: str, number: int, labels: Mapping[str, str]
    ) -> None:
        """Ensure each label exists (name -> colour), then put them on the issue or PR."""
        ...

    # ---- check runs -------------------------------------------------------------------------------
    async def create_check_run(
        self, installation_id: int, owner: str, repo: str, *, name: str, head_sha: str, **fields: Any
    ) -> int:
        """Create a check run; its id."""
        ...

    async def find_check_run(
        self, installation_id: int, owner: str, repo: str, *, head_sha: str, name: str, external_id: str
    ) -> int | None:
        """The id of the check run `name` on `head_sha` created with `external_id`, if any."""
        ...

    async def update_check_run(
        self, installation_id: int, owner: str, repo: str, check_run_id: int, **fields: Any
    ) -> None:
        """Update a check run (status, conclusion, output)."""
        ...

    # ---- the repository's CI ----------------------------------------------------------------------
    async def ci_results(self, installation_id: int, owner: str, repo: str, ref: str) -> list[CiResult]:
        """Every check run (latest per name) and commit status on `ref`."""
        ...

    async def check_run_states(self, installation_id: int, owner: str, repo: str, ref: str, name: str) -> list[str]:
        """The states of every run of the check `name` on `ref` (re-runs included), oldest first."""
        ...

    async def check_annotations(
        self, installation_id: int, owner: str, repo: str, check_run_id: int
    ) -> list[Annotation]:
        """A check run's annotations (first 100)."""
        ...

    async def failed_job_logs(self, installation_id: int, owner: str, repo: str, head_sha: str) -> list[JobLog]:
        """The tails of the failed Actions jobs' logs on `head_sha`."""
        ...

    async def required_checks(self, installation_id: int, owner: str, repo: str, branch: str) -> tuple[str, ...]:
        """The checks `branch`'s protection requires."""
        ...

    async def merge_pull(
        self, installation_id: int, owner: str, repo: str, number: int, *, sha: str, method: str
    ) -> MergeResult:
        """Merge PR #`number` at `sha` with `method` (merge, squash, rebase)."""
        ...


def _not_configured() -> GitHubError:
    from bot.github.client import GitHubError

    return GitHubError("the GitHub App's credentials are not configured yet (see /setup)")


class GitHubNotConfigured:
    """`BotContext.github` before the App's credentials are known (before `/setup`): every call fails clearly."""

    async def installation_token(self, installation_id: int) -> str:
        """Fails: no credentials."""
        raise _not_configured()

    def scoped(self, scope: TokenScope | None = None) -> GitHubAPI:
        """Itself: there is nothing to scope."""
        return self

    async def revoke_tokens(self) -> None:
        """Nothing was minted."""

    async def get_repo(self, installation_id: int, owner: str, repo: str) -> RepoInfo:
        """Fails: no credentials."""
        raise _not_configured()

    async def get_file(
        self, installation_id: int, owner: str, repo: str, path: str, ref: str | None = None
    ) -> str | None:
        """Fails: no credentials."""
        raise _not_configured()

    async def get_permission(self, installation_id: int, owner: str, repo: str, user: str) -> str:
        """Fails: no credentials."""
        raise _not_configured()

    async def can_write(self, installation_id: int, owner: str, repo: str, user: str) -> bool:
        """Fails: no credentials."""
        raise _not_configured()

    async def add_reaction(
        self, installation_id: int, owner: str, repo: str, comment_id: int, content: ReactionContent = "+1"
    ) -> None:
        """Fails: no credentials."""
        raise _not_configured()

    async def create_comment(self, installation_id: int, owner: str, repo: str, number: int, body: str) -> int:
        """Fails: no credentials."""
        raise _not_configured()

    async def list_comments(self, installation_id: int, owner: str, repo: str, number: int) -> list[CommentInfo]:
        """Fails: no credentials."""
        raise _not_configured()

    async def update_comment(self, installation_id: int, owner: str, repo: str, comment_id: int, body: str) -> bool:
        """Fails: no credentials."""
        raise _not_configured()

    async def create_issue(self, installation_id: int, owner: str, repo: str, title: str, body: str) -> IssueInfo:
        """Fails: no credentials."""
        raise _not_configured()

    async def get_open_issue(self, installation_id: int, owner: str, repo: str, number: int) -> IssueInfo | None:
        """Fails: no credentials."""
        raise _not_configured()

    async def list_open_issues(self, installation_id: int, owner: str, repo: str, creator: str) -> list[IssueInfo]:
        """Fails: no credentials."""
        raise _not_configured()

    async def update_issue(self, installation_id: int, owner: str, repo: str, number: int, body: str) -> None:
        """Fails: no credentials."""
        raise _not_configured()

    async def list_open_pulls(
        self, installation_id: int, owner: str, repo: str, head_prefix: str = ""
    ) -> list[PullInfo]:
        """Fails: no credentials."""
        raise _not_configured()

    async def get_pull(self, installation_id: int, owner: str, repo: str, number: int) -> PullInfo:
        """Fails: no credentials."""
        raise _not_configured()

    async def create_pull(
        self, installation_id: int, owner: str, repo: str, *, head: str, base: str, title: str, body: str
    ) -> PullInfo:
        """Fails: no credentials."""
        raise _not_configured()

    async def update_pull(self, installation_id: int, owner: str, repo: str, number: int, **fields: Any) -> PullInfo:
        """Fails: no credentials."""
        raise _not_configured()

    async def add_labels(
        self, installation_id: int, owner: str, repo: str, number: int, labels: Mapping[str, str]
    ) -> None:
        """Fails: no credentials."""
        raise _not_configured()

    async def create_check_run(
        self, installation_id: int, owner: str, repo: str, *, name: str, head_sha: str, **fields: Any
    ) -> int:
        """Fails: no credentials."""
        raise _not_configured()

    async def find_check_run(
        self, installation_id: int, owner: str, repo: str, *, head_sha: str, name: str, external_id: str
    ) -> int | None:
        """Fails: no credentials."""
        raise _not_configured()

    async def update_check_run(
        self, installation_id: int, owner: str, repo: str, check_run_id: int, **fields: Any
    ) -> None:
        """Fails: no credentials."""
        raise _not_configured()

    # ---- the repository's CI ----------------------------------------------------------------------
    async def ci_results(self, installation_id: int, owner: str, repo: str, ref: str) -> list[CiResult]:
        """Fails: no credentials. Every check run (latest per name) and commit status on `ref`."""
        raise _not_configured()

    async def check_run_states(self, installation_id: int, owner: str, repo: str, ref: str, name: str) -> list[str]:
        """Fails: no credentials. The states of every run of the check `name` on `ref`."""
        raise _not_configured()

    async def check_annotations(
        self, installation_id: int, owner: str, repo: str, check_run_id: int
    ) -> list[Annotation]:
        """Fails: no credentials. A check run's annotations (first 100)."""
        raise _not_configured()

    async def failed_job_logs(self, installation_id: int, owner: str, repo: str, head_sha: str) -> list[JobLog]:
        """Fails: no credentials. The tails of the failed Actions jobs' logs on `head_sha`."""
        raise _not_configured()

    async def required_checks(self, installation_id: int, owner: str, repo: str, branch: str) -> tuple[str, ...]:
        """Fails: no credentials. The checks `branch`'s protection requires."""
        raise _not_configured()

    async def merge_pull(
        self, installation_id: int, owner: str, repo: str, number: int, *, sha: str, method: str
    ) -> MergeResult:
        """Fails: no credentials. Merge PR #`number` at `sha` with `method` (merge, squash, rebase)."""
        raise _not_configured()
