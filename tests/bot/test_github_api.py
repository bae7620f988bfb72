"""The gateway before `/setup`: every GitHub call fails with a clear error; scoping and revoking are no-ops."""

from __future__ import annotations

import asyncio

import pytest

from bot.github.api import GitHubAPI, GitHubNotConfigured
from bot.github.client import GitHubError


def test_calls_before_setup_fail_clearly() -> None:
    gateway: GitHubAPI = GitHubNotConfigured()  # it satisfies the protocol (mypy checks this line)
    assert gateway.scoped() is gateway
    asyncio.run(gateway.revoke_tokens())
    with pytest.raises(GitHubError, match="not configured yet"):
        asyncio.run(gateway.get_repo(1, "octo-org", "sample"))
    with pytest.raises(GitHubError, match="/setup"):
        asyncio.run(gateway.create_comment(1, "octo-org", "sample", 2, "hello"))
