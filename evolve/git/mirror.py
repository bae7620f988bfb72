"""The App's cached bare mirror of a repository: fetched and pushed with the installation token as a header.

The mirror is a bare repository at `<workdir>/<owner>/<name>.git` holding the remote's branches and tags. No
remote URL or credential is stored in it; every fetch and push names the URL and carries the token only in
git's environment. No repository code ever runs in or against it: the engine exports trees out of it and
writes its commits into it. A mirror whose configuration is found untrusted is discarded and cloned again.

All functions are blocking; call them with `asyncio.to_thread`.
"""

from __future__ import annotations

import ipaddress
import logging
import shutil
import threading
from pathlib import Path
from urllib.parse import urlsplit

from evolve.git.branches import branch_sha
from evolve.git.command import Credentials, GitError, run_git
from evolve.git.trust import UntrustedRepository, check_config

log = logging.getLogger(__name__)

FETCH_REFSPECS = ("+refs/heads/*:refs/heads/*", "+refs/tags/*:refs/tags/*")
_locks: dict[Path, threading.Lock] = {}
_locks_guard = threading.Lock()


def _lock_for(path: Path) -> threading.Lock:
    with _locks_guard:
        return _locks.setdefault(path, threading.Lock())


def transport_for(url: str) -> str:
    """The one protocol git may use for `url`: https, or http to a loopback address (a local stand-in)."""
    parts = urlsplit(url)
    if parts.scheme == "https":
        return "https"
    if parts.scheme == "http" and parts.hostname:
        try:
            loopback = parts.hostname == "localhost" or ipaddress.ip_address(parts.hostname).is_loopback
        except ValueError:
            loopback = False
        if loopback:
            return "http"
    raise GitError(f"refusing to use git over {parts.scheme or 'an unknown transport'}: only https is allowed")


class GitMirror:
    """The cached bare mirror of one repository."""

    def __init__(self, workdir: Path, full_name: str) -> None:
        owner, name = full_name.split("/", 1)
        self.full_name = full_name
        self.path = Path(workdir) / owner / f"{name}.git"

    def _git(self, *args: str) -> list[str]:
        return ["--git-dir", str(self.path), *args]

    def sync(self, clone_url: str, credentials: Credentials) -> None:
        """Create the mirror on first use (or after it was found untrusted), then fetch with prune."""
        protocol = transport_for(clone_url)
        with _lock_for(self.path):
            if (self.path / "HEAD").exists():
                try:
                    check_config(self.path, self.path, self.path)
                except UntrustedRepository as error:
                    log.warning("mirror of %s discarded: its configuration sets %s", self.full_name, error.key)
                    shutil.rmtree(self.path)
            # Working checkouts beside the mirror were made by older versions; nothing uses them now.
            shutil.rmtree(self.path.with_name(self.path.name.removesuffix(".git") + ".checkouts"), ignore_errors=True)
            if not (self.path / "HEAD").exists():
                shutil.rmtree(self.path, ignore_errors=True)
                self.path.parent.mkdir(parents=True, exist_ok=True)
                run_git(["init", "--quiet", "--bare", str(self.path)])
            run_git(
                self._git("fetch", "--prune", "--quiet", "--no-write-fetch-head", clone_url, *FETCH_REFSPECS),
                credentials=credentials,
                protocols=(protocol,),
            )
        log.info("fetched %s", self.full_name)

    def branch_sha(self, branch: str) -> str | None:
        """Where `branch` pointed on GitHub at the last sync; None when it did not exist."""
        return branch_sha(self.path, branch)

    def push(self, commit: str, branch: str, clone_url: str, credentials: Credentials, expected: str | None) -> None:
        """Push `commit` (made in this mirror) to `refs/heads/<branch>` on GitHub.

        `expected` is where the branch is believed to point (None: it must not exist yet); the push is a
        force-with-lease against it, so an update never overwrites someone else's push.
        """
        protocol = transport_for(clone_url)
        lease = f"--force-with-lease=refs/heads/{branch}:{expected or ''}"
        with _lock_for(self.path):
            check_config(self.path, self.path, self.path)
            run_git(
                self._git("push", "--quiet", "--no-verify", lease, clone_url, f"{commit}:refs/heads/{branch}"),
                credentials=credentials,
                protocols=(protocol,),
            )
        log.info("pushed %s to %s", branch, self.full_name)
