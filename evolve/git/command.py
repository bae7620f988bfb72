"""The one way Evolve runs `git`: no system, global or inherited configuration, nothing executable from a repository.

Every call gets a fresh environment (no `GIT_*` variables of the caller, no secrets of the process) and
command-line settings that switch off everything a repository could use to run code or send data: hooks,
fsmonitor, external diff and textconv, ssh, and every transport except the ones the call names. Repository
configuration is additionally checked by :mod:`evolve.git.trust` before a repository is used at all.

An installation token reaches git only as an `http.extraHeader` through `GIT_CONFIG_COUNT`/`KEY`/`VALUE` in
git's environment: never in a URL, an argument (`ps`), a file or a message. Failures are scrubbed of it.
"""

from __future__ import annotations

import base64
import os
import subprocess
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from evolve.untrusted_text import redacted, register_secret

BOT_NAME = os.environ.get("EVOLVE_GIT_NAME", "evolve-bot[bot]")
BOT_EMAIL = os.environ.get("EVOLVE_GIT_EMAIL", "evolve-bot[bot]@users.noreply.github.com")
DEFAULT_TIMEOUT = 600.0

# Settings that beat repository configuration (command-line `-c` has the highest precedence).
HARDENED_SETTINGS: tuple[tuple[str, str], ...] = (
    ("core.hooksPath", os.devnull),
    ("core.fsmonitor", "false"),
    ("core.sshCommand", "false"),
    ("core.askPass", ""),
    ("core.attributesFile", os.devnull),
    ("core.excludesFile", os.devnull),
    ("core.autocrlf", "false"),
    ("core.pager", "cat"),
    ("credential.helper", ""),
    ("commit.gpgSign", "false"),
    ("tag.gpgSign", "false"),
    ("gc.auto", "0"),
    ("maintenance.auto", "false"),
    ("protocol.allow", "never"),
    ("init.defaultBranch", "main"),
    ("safe.bareRepository", "all"),
)
# Inherited variables git may read, reduced to what it needs to find programs and write messages.
KEPT_ENVIRONMENT = ("PATH", "TMPDIR", "TZ")


class GitError(Exception):
    """A git command failed, or a repository cannot be trusted; the message says which and why."""


@dataclass(frozen=True)
class Credentials:
    """An installation token for git over HTTPS; `repr` never shows it."""

    token: str

    def __post_init__(self) -> None:
        register_secret(self.token)
        register_secret(self._encoded())

    def __repr__(self) -> str:
        return "Credentials(token=***)"

    def _encoded(self) -> str:
        return base64.b64encode(f"x-access-token:{self.token}".encode()).decode()

    def header(self) -> str:
        """The `Authorization` header value GitHub accepts for installation tokens."""
        return f"AUTHORIZATION: basic {self._encoded()}"

    def scrub(self, text: str) -> str:
        """`text` without the token or its encoded header."""
        return text.replace(self.token, "***").replace(self._encoded(), "***")


@dataclass(frozen=True)
class Identity:
    """Who Evolve's commits are authored and committed by."""

    name: str = BOT_NAME
    email: str = BOT_EMAIL


BOT = Identity()


def git_environment(
    credentials: Credentials | None = None,
    identity: Identity = BOT,
    index_file: Path | None = None,
    protocols: Sequence[str] = (),
) -> dict[str, str]:
    """A complete environment for git: built from scratch, never the caller's environment plus changes."""
    env = {key: os.environ[key] for key in KEPT_ENVIRONMENT if key in os.environ}
    env.setdefault("PATH", os.defpath)
    env.update(
        HOME=os.devnull,
        LC_ALL="C",
        LANG="C",
        GIT_CONFIG_NOSYSTEM="1",
        GIT_CONFIG_GLOBAL=os.devnull,
        GIT_TERMINAL_PROMPT="0",
        GIT_ASKPASS="true",
        SSH_ASKPASS="true",
        GIT_NO_REPLACE_OBJECTS="1",
        GIT_AUTHOR_NAME=identity.name,
        GIT_AUTHOR_EMAIL=identity.email,
        GIT_COMMITTER_NAME=identity.name,
        GIT_COMMITTER_EMAIL=identity.email,
    )
    if index_file is not None:
        env["GIT_INDEX_FILE"] = str(index_file)
    settings: list[tuple[str, str]] = [(f"protocol.{name}.allow", "always") for name in protocols]
    if credentials is not None:
        settings.append(("http.extraHeader", credentials.header()))
    env["GIT_CONFIG_COUNT"] = str(len(settings))
    for number, (key, value) in enumerate(settings):
        env[f"GIT_CONFIG_KEY_{number}"] = key
        env[f"GIT_CONFIG_VALUE_{number}"] = value
    return env


def hardened_argv(args: Sequence[str]) -> list[str]:
    """`git` with every hardened setting on the command line, then `args`."""
    argv = ["git"]
    for key, value in HARDENED_SETTINGS:
        argv += ["-c", f"{key}={value}"]
    return [*argv, *args]


def run_git(
    args: Sequence[str],
    cwd: Path | None = None,
    *,
    credentials: Credentials | None = None,
    identity: Identity = BOT,
    index_file: Path | None = None,
    protocols: Sequence[str] = (),
    input_bytes: bytes | None = None,
    timeout: float = DEFAULT_TIMEOUT,
    check: bool = True,
    extra_env: Mapping[str, str] | None = None,
) -> str:
    """Run `git ARGS` hardened and return stdout (stripped of the final newline only)."""
    out = run_git_bytes(
        args,
        cwd,
        credentials=credentials,
        identity=identity,
        index_file=index_file,
        protocols=protocols,
        input_bytes=input_bytes,
        timeout=timeout,
        check=check,
        extra_env=extra_env,
    )
    text = out.decode("utf-8", "replace")
    return text[:-1] if text.endswith("\n") else text


def run_git_bytes(
    args: Sequence[str],
    cwd: Path | None = None,
    *,
    credentials: Credentials | None = None,
    identity: Identity = BOT,
    index_file: Path | None = None,
    protocols: Sequence[str] = (),
    input_bytes: bytes | None = None,
    timeout: float = DEFAULT_TIMEOUT,
    check: bool = True,
    extra_env: Mapping[str, str] | None = None,
) -> bytes:
    """Like :func:`run_git`, returning stdout as bytes (blob contents)."""
    env = git_environment(credentials, identity, index_file, protocols)
    env.update(extra_env or {})
    try:
        done = subprocess.run(
            hardened_argv(args),
            cwd=cwd if cwd is not None else "/",
            env=env,
            input=input_bytes,
            capture_output=True,
            timeout=timeout,
            check=False,
            stdin=None if input_bytes is not None else subprocess.DEVNULL,
        )
    except subprocess.TimeoutExpired:
        raise GitError(f"git {args[0]} timed out after {timeout:.0f}s") from None
    except (FileNotFoundError, NotADirectoryError) as error:
        raise GitError(f"git {args[0]} could not start: {error.strerror}: {error.filename}") from None
    if check and done.returncode != 0:
        message = (done.stderr or done.stdout).decode("utf-8", "replace").strip()
        if credentials is not None:
            message = credentials.scrub(message)
        raise GitError(f"git {' '.join(args[:2])} failed: {redacted(message)}")
    return done.stdout
