"""A cached `git clone --mirror` per repository, working checkouts made from it, and pushes of `evolve/...`.

The installation token travels only as an HTTP header, and the header only through git's environment
(`GIT_CONFIG_COUNT`/`GIT_CONFIG_KEY_0`/`GIT_CONFIG_VALUE_0`), so it is in no URL, no argv (`ps`), no
remote configuration written to disk and no log line. Errors are scrubbed of it too.

All functions are blocking; call them with `asyncio.to_thread`.
"""

from __future__ import annotations

import base64
import logging
import os
import shutil
import subprocess
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger(__name__)

BOT_NAME = "evolve-bot[bot]"
BOT_EMAIL = "evolve-bot[bot]@users.noreply.github.com"
_locks: dict[Path, threading.Lock] = {}
_locks_guard = threading.Lock()


class GitError(Exception):
    """A git command failed; the message holds git's stderr with any secret removed."""


@dataclass(frozen=True)
class Credentials:
    """An installation token for git over HTTPS; `repr` never shows it."""

    token: str

    def __repr__(self) -> str:
        return "Credentials(token=***)"

    def header(self) -> str:
        """The `Authorization` header value GitHub accepts for installation tokens."""
        raw = base64.b64encode(f"x-access-token:{self.token}".encode()).decode()
        return f"AUTHORIZATION: basic {raw}"

    def scrub(self, text: str) -> str:
        """`text` without the token or its encoded header."""
        encoded = self.header().split()[-1]
        return text.replace(self.token, "***").replace(encoded, "***")


def git_env(credentials: Credentials | None = None) -> dict[str, str]:
    """The environment for git: no prompts, no system/global config, the auth header when given."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("GIT_")}
    env.update(GIT_TERMINAL_PROMPT="0", GIT_CONFIG_NOSYSTEM="1", GIT_CONFIG_GLOBAL=os.devnull, GIT_ASKPASS="true")
    if credentials is not None:
        env.update(
            GIT_CONFIG_COUNT="2",
            GIT_CONFIG_KEY_0="http.extraHeader",
            GIT_CONFIG_VALUE_0=credentials.header(),
            GIT_CONFIG_KEY_1="credential.helper",
            GIT_CONFIG_VALUE_1="",
        )
    return env


def run_git(
    args: Sequence[str], cwd: Path | None = None, credentials: Credentials | None = None, timeout: float = 600
) -> str:
    """Run `git ARGS`, returning stdout; raise :class:`GitError` with a scrubbed message on failure."""
    try:
        done = subprocess.run(
            ["git", *args],
            cwd=cwd,
            env=git_env(credentials),
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
    except subprocess.TimeoutExpired:
        raise GitError(f"git {args[0]} timed out after {timeout:.0f}s") from None
    if done.returncode != 0:
        message = done.stderr.strip() or done.stdout.strip()
        if credentials is not None:
            message = credentials.scrub(message)
        raise GitError(f"git {args[0]} failed: {message}")
    return done.stdout.strip()


def _lock_for(path: Path) -> threading.Lock:
    with _locks_guard:
        return _locks.setdefault(path, threading.Lock())


class GitMirror:
    """The cached mirror of one repository at `<workdir>/<owner>/<name>.git`, checkouts beside it."""

    def __init__(self, workdir: Path, full_name: str) -> None:
        owner, name = full_name.split("/", 1)
        self.full_name = full_name
        self.path = Path(workdir) / owner / f"{name}.git"
        self.checkouts = Path(workdir) / owner / f"{name}.checkouts"

    def sync(self, clone_url: str, credentials: Credentials) -> None:
        """Clone the mirror on first use, fetch (with prune) afterwards."""
        with _lock_for(self.path):
            if not (self.path / "HEAD").exists():
                self.path.parent.mkdir(parents=True, exist_ok=True)
                shutil.rmtree(self.path, ignore_errors=True)
                run_git(["clone", "--mirror", "--quiet", clone_url, str(self.path)], credentials=credentials)
                log.info("mirrored %s", self.full_name)
                return
            run_git(["remote", "set-url", "origin", clone_url], cwd=self.path)
            run_git(["fetch", "--prune", "--quiet", "origin"], cwd=self.path, credentials=credentials)
            log.info("fetched %s", self.full_name)

    def branch_sha(self, branch: str) -> str | None:
        """Where `branch` pointed on GitHub at the last sync; None when it did not exist."""
        try:
            return run_git(["rev-parse", "--verify", "--quiet", f"refs/heads/{branch}^{{commit}}"], cwd=self.path)
        except GitError:
            return None

    def checkout(self, branch: str, name: str) -> Path:
        """A fresh working checkout of `branch` from the mirror (no network, no token), for the engine."""
        dest = self.checkouts / name
        shutil.rmtree(dest, ignore_errors=True)
        dest.parent.mkdir(parents=True, exist_ok=True)
        with _lock_for(self.path):
            run_git(["clone", "--quiet", "--branch", branch, str(self.path), str(dest)])
        run_git(["config", "user.name", BOT_NAME], cwd=dest)
        run_git(["config", "user.email", BOT_EMAIL], cwd=dest)
        return dest

    def remove_checkout(self, path: Path) -> None:
        """Delete a checkout made by :meth:`checkout` (and any worktrees the engine added)."""
        shutil.rmtree(path, ignore_errors=True)

    def push(
        self, checkout: Path, commit: str, branch: str, clone_url: str, credentials: Credentials, expected: str | None
    ) -> None:
        """Push `commit` to `refs/heads/<branch>` on GitHub.

        `expected` is where the branch is believed to point (None: it must not exist yet); the push is a
        force-with-lease against it, so an update never overwrites someone else's push.
        """
        lease = f"--force-with-lease=refs/heads/{branch}:{expected or ''}"
        run_git(
            ["push", "--quiet", "--no-verify", lease, clone_url, f"{commit}:refs/heads/{branch}"],
            cwd=checkout,
            credentials=credentials,
        )
        log.info("pushed %s to %s", branch, self.full_name)
