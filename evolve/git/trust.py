"""Which repositories Evolve may run git on: none whose own configuration can run programs or redirect traffic.

Command-line settings (:mod:`evolve.git.command`) override single-valued keys, but not list-valued ones
(`url.*.insteadOf`, `include.path`, filters chosen by attributes), so a repository whose configuration holds
any of the keys below is refused outright, naming the key. Evolve never edits such a configuration: a CLI
user is told what to remove; the App's own mirror is discarded and cloned again.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from evolve.git.command import GitError, run_git

# Keys (as `git config --list` prints them: section and variable lower-cased) that refuse a repository.
UNTRUSTED_KEYS: tuple[re.Pattern[str], ...] = tuple(
    re.compile(pattern)
    for pattern in (
        r"url\..*",  # insteadOf / pushInsteadOf: redirect fetches and pushes (with the token) elsewhere
        r"filter\..*",  # clean/smudge/process drivers: programs run on every add, diff, checkout
        r"include\..*",
        r"includeif\..*",  # pull in configuration from anywhere
        r"credential\..*",
        r"http\..*",  # extra headers, proxies, cookie files, SSL settings
        r"protocol\..*",  # re-enables transports such as ext::
        r"core\.(sshcommand|gitproxy|hookspath|askpass|alternaterefscommand|attributesfile|editor|pager)",
        r"diff\.external",
        r"diff\..+\.(textconv|command)",
        r"merge\..+\.driver",
        r"remote\..+\.(uploadpack|receivepack|proxy|vcs)",
        r"submodule\..+\.update",
        r"gpg\.(.+\.)?program",
        r"sequence\.editor",
        r"uploadpack\.packobjectshook",
    )
)
FSMONITOR_OFF = frozenset({"false", "no", "off", "0", ""})
# Refused keys a user's own checkout may set: single-valued settings that every git command Evolve runs overrides
# from its command line (`evolve.git.command.HARDENED_SETTINGS`), so they never take effect. `core.hooksPath` is
# how husky and similar tools install their hooks; Evolve's own calls run with `core.hooksPath=/dev/null`.
CHECKOUT_TOLERATED_KEYS = frozenset({"core.hookspath"})


class UntrustedRepository(GitError):
    """A repository's own git configuration holds a key that could run code or send data elsewhere."""

    def __init__(self, where: Path, key: str, config_file: Path) -> None:
        self.key = key
        self.config_file = config_file
        super().__init__(
            f"{where} is not trusted: its git configuration sets `{key}` (in {config_file}), which can make git "
            "run programs or send data elsewhere. Evolve runs no git command on it and does not change it: "
            f"remove the setting (`git config --unset-all {key}`) or run Evolve on a fresh clone."
        )


@dataclass(frozen=True)
class Repository:
    """A repository Evolve may use: its git directory and, unless it is bare, its work tree."""

    git_dir: Path
    common_dir: Path  # shared by all work trees: objects, refs, Evolve's own records
    work_tree: Path | None

    @property
    def bare(self) -> bool:
        """Whether it has no work tree (the App's mirror)."""
        return self.work_tree is None

    @property
    def label(self) -> str:
        """How reports name it: the work tree, or the git directory of a bare repository."""
        return str(self.work_tree or self.git_dir)


def untrusted_key(config_file: Path, tolerated: frozenset[str] = frozenset()) -> str | None:
    """The first refused key in one configuration file (includes not followed), or None; keys in `tolerated`
    (lower-cased as git lists them) are let through."""
    if not config_file.is_file():
        return None
    listing = run_git(["config", "--file", str(config_file), "--no-includes", "--list", "-z"])
    for entry in listing.split("\0"):
        if not entry:
            continue
        key, _, value = entry.partition("\n")
        if key == "core.fsmonitor":
            if value.strip().lower() not in FSMONITOR_OFF:
                return key
            continue
        if key not in tolerated and any(pattern.fullmatch(key) for pattern in UNTRUSTED_KEYS):
            return key
    return None


def check_config(where: Path, git_dir: Path, common_dir: Path, tolerated: frozenset[str] = frozenset()) -> None:
    """Raise :class:`UntrustedRepository` when any configuration file of the repository holds a refused key
    (other than those in `tolerated`)."""
    for config_file in (common_dir / "config", common_dir / "config.worktree", git_dir / "config.worktree"):
        key = untrusted_key(config_file, tolerated)
        if key is not None:
            raise UntrustedRepository(where, key, config_file)


def open_repository(path: Path) -> Repository:
    """The repository at or above `path`, checked; a GitError when there is none or it is not trusted."""
    path = Path(path)
    if not path.is_dir():
        raise GitError(f"{path} is not a directory")
    try:
        out = run_git(
            ["rev-parse", "--path-format=absolute", "--git-dir", "--git-common-dir", "--is-bare-repository"],
            path,
        ).splitlines()
    except GitError:
        raise GitError(f"{path} is not inside a git repository (run `git init` and commit first)") from None
    git_dir, common_dir, bare = Path(out[0]), Path(out[1]), out[2] == "true"
    check_config(path, git_dir, common_dir, CHECKOUT_TOLERATED_KEYS)
    work_tree = None if bare else Path(run_git(["rev-parse", "--show-toplevel"], path))
    return Repository(git_dir=git_dir, common_dir=common_dir, work_tree=work_tree)
