"""The git operations the engine needs, through the `git` CLI. The user's checkout is never touched:
all work happens in worktrees under the repository's git directory."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

BOT_NAME = "evolve-bot"
BOT_EMAIL = "evolve-bot@users.noreply.github.com"


class GitError(Exception):
    """A git command failed; the message says which and why."""


def _git_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    env.update(
        GIT_TERMINAL_PROMPT="0",
        GIT_AUTHOR_NAME=BOT_NAME,
        GIT_AUTHOR_EMAIL=BOT_EMAIL,
        GIT_COMMITTER_NAME=BOT_NAME,
        GIT_COMMITTER_EMAIL=BOT_EMAIL,
        LC_ALL="C",
    )
    return env


def git(cwd: Path, *args: str, check: bool = True, input_text: str | None = None) -> str:
    """Run git with the repository's hooks disabled (they are untrusted code) and return stdout."""
    argv = ["git", "-c", "core.hooksPath=/dev/null", "-c", "commit.gpgsign=false", *args]
    proc = subprocess.run(
        argv,
        cwd=cwd,
        env=_git_env(),
        input=input_text,
        capture_output=True,
        text=True,
        encoding="utf-8",
        errors="replace",
    )
    if check and proc.returncode != 0:
        raise GitError(f"git {' '.join(args[:3])} failed: {proc.stderr.strip() or proc.stdout.strip()}")
    return proc.stdout


def repository_root(path: Path) -> Path:
    """The top of the work tree containing `path`, or a GitError saying it is not a git repository."""
    try:
        out = git(path, "rev-parse", "--show-toplevel")
    except (GitError, NotADirectoryError, FileNotFoundError):
        raise GitError(f"{path} is not inside a git repository (run `git init` and commit first)") from None
    return Path(out.strip())


def common_git_dir(root: Path) -> Path:
    """The shared git directory (the same for every worktree)."""
    out = git(root, "rev-parse", "--git-common-dir").strip()
    path = Path(out)
    return path if path.is_absolute() else (root / path).resolve()


def resolve_commit(root: Path, ref: str = "HEAD") -> str:
    """The full sha of `ref`; a clear error for a repository without commits."""
    proc = git(root, "rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}", check=False).strip()
    if not proc:
        if ref == "HEAD":
            raise GitError(f"{root} has no commits yet: commit something first")
        raise GitError(f"{ref!r} is not a commit in {root}")
    return proc


def add_worktree(root: Path, path: Path, commit: str) -> Path:
    """A detached worktree of `commit` at `path`."""
    if path.exists():
        remove_worktree(root, path)
    path.parent.mkdir(parents=True, exist_ok=True)
    git(root, "worktree", "add", "--detach", "--force", str(path), commit)
    return path


def remove_worktree(root: Path, path: Path) -> None:
    """Remove a worktree made by :func:`add_worktree`; tolerant of half-made ones."""
    git(root, "worktree", "remove", "--force", str(path), check=False)
    shutil.rmtree(path, ignore_errors=True)
    git(root, "worktree", "prune", check=False)


def reset_worktree(path: Path, commit: str) -> None:
    """Put a worktree back to exactly `commit`: no edits, no untracked files."""
    git(path, "reset", "--hard", "--quiet", commit)
    git(path, "clean", "-fdxq")


def commit_all(worktree: Path, message: str) -> str:
    """Commit every change in the worktree as the bot; return the new sha."""
    git(worktree, "add", "--all")
    git(worktree, "commit", "--quiet", "--no-verify", "-m", message)
    return git(worktree, "rev-parse", "HEAD").strip()


def set_branch(root: Path, branch: str, commit: str) -> None:
    """Point `branch` at `commit` without checking it out anywhere."""
    current = git(root, "symbolic-ref", "--quiet", "--short", "HEAD", check=False).strip()
    if current == branch:
        raise GitError(f"branch {branch!r} is checked out in {root}; switch away from it first")
    git(root, "branch", "--force", branch, commit)


def branch_exists(root: Path, branch: str) -> bool:
    """Whether a local branch of that name exists."""
    return bool(git(root, "rev-parse", "--verify", "--quiet", f"refs/heads/{branch}", check=False).strip())


def write_files(worktree: Path, contents: dict[str, str]) -> None:
    """Write each relative path's new text, keeping the file's mode."""
    for relative, text in contents.items():
        target = (worktree / relative).resolve()
        if worktree.resolve() not in target.parents:
            raise GitError(f"refusing to write outside the worktree: {relative}")
        target.parent.mkdir(parents=True, exist_ok=True)
        with open(target, "w", encoding="utf-8", newline="") as handle:
            handle.write(text)


_HUNK = re.compile(r"^@@ -\d+(?:,\d+)? \+(\d+)(?:,(\d+))? @@")


@dataclass(frozen=True)
class DiffSummary:
    """What differs between two commits or a commit and a work tree."""

    text: str
    changed_lines: dict[str, tuple[int, ...]]  # path -> added/modified line numbers in the new version


def diff_against(worktree: Path, base: str, paths: Sequence[str] = ()) -> DiffSummary:
    """The unified diff of the worktree against `base`, and the changed line numbers per file."""
    git(worktree, "add", "--all", "--intent-to-add")
    text = git(worktree, "diff", "--no-color", "--no-ext-diff", "-U3", base, "--", *paths)
    changed: dict[str, list[int]] = {}
    current: str | None = None
    new_line = 0
    for line in text.splitlines():
        if line.startswith("+++ "):
            current = line[6:] if line.startswith("+++ b/") else None
            if current is not None:
                changed.setdefault(current, [])
        elif line.startswith("@@"):
            match = _HUNK.match(line)
            new_line = int(match.group(1)) if match else 0
        elif current is not None and not line.startswith("---"):
            if line.startswith("+"):
                changed[current].append(new_line)
                new_line += 1
            elif line.startswith("-"):
                continue
            else:
                new_line += 1
    return DiffSummary(text=text, changed_lines={path: tuple(lines) for path, lines in changed.items()})
