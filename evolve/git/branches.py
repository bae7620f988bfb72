"""Branches Evolve may move, and the rule that keeps people's work: a branch holding a commit Evolve did not
make is never moved or force-pushed; a new name is used instead and the report says so."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from pathlib import Path

from evolve.git.command import BOT, GitError, Identity, run_git

MAX_SUFFIX = 50


@dataclass(frozen=True)
class ForeignCommit:
    """A commit on a branch that Evolve did not make."""

    sha: str
    author: str

    def describe(self) -> str:
        """`abc123def456 by Name <email>` (control characters of the name dropped: it is printed to terminals)."""
        return f"{self.sha[:12]} by {''.join(ch for ch in self.author if ch.isprintable())}"


@dataclass(frozen=True)
class BranchChoice:
    """The branch to use, and why it is not the wanted one (empty when it is)."""

    name: str
    note: str = ""


def resolve_commit(git_dir: Path, ref: str = "HEAD") -> str | None:
    """The full sha of `ref` as a commit, or None."""
    sha = run_git(["--git-dir", str(git_dir), "rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}"], check=False)
    return sha.strip() or None


def branch_sha(git_dir: Path, branch: str) -> str | None:
    """Where local branch `branch` points, or None when it does not exist."""
    return resolve_commit(git_dir, f"refs/heads/{branch}")


def check_branch_name(branch: str) -> None:
    """A GitError when `branch` is not a valid branch name."""
    if run_git(["check-ref-format", "--branch", branch], check=False) != branch:
        raise GitError(f"{branch!r} is not a valid branch name")


def foreign_commits(
    git_dir: Path, tip: str, base: str, known: Collection[str] | None = None, identity: Identity = BOT
) -> tuple[ForeignCommit, ...]:
    """Commits reachable from `tip` but not from `base` that Evolve did not make: authored or committed by
    someone else, or (when `known` is given) not among the commits Evolve recorded."""
    fmt = "%H%x1f%an <%ae>%x1f%cn <%ce>"
    out = run_git(["--git-dir", str(git_dir), "log", f"--format={fmt}", tip, "--not", base, "--"])
    ours = f"{identity.name} <{identity.email}>"
    foreign = []
    for line in out.splitlines():
        sha, author, committer = line.split("\x1f")
        if author != ours or committer != ours or (known is not None and sha not in known):
            foreign.append(ForeignCommit(sha, author if author != ours else committer))
    return tuple(foreign)


def choose_branch(
    git_dir: Path, wanted: str, base: str, known: Collection[str] | None = None, identity: Identity = BOT
) -> BranchChoice:
    """`wanted` when it is free or holds only Evolve's commits; else the first `wanted-N` that is."""
    check_branch_name(wanted)
    first_note = ""
    for number in range(1, MAX_SUFFIX + 1):
        name = wanted if number == 1 else f"{wanted}-{number}"
        tip = branch_sha(git_dir, name)
        if tip is None:
            return BranchChoice(name, first_note)
        foreign = foreign_commits(git_dir, tip, base, known, identity)
        if not foreign:
            return BranchChoice(name, first_note)
        if not first_note:
            first_note = (
                f"branch `{wanted}` has commits Evolve did not make ({', '.join(c.describe() for c in foreign[:3])}); "
                "it was left alone"
            )
    raise GitError(f"no free branch name for {wanted!r}: {MAX_SUFFIX} variants hold other people's commits")


def checked_out_branches(git_dir: Path) -> set[str]:
    """Branches checked out in any work tree of the repository."""
    out = run_git(["--git-dir", str(git_dir), "worktree", "list", "--porcelain"], check=False)
    return {line[len("branch refs/heads/") :] for line in out.splitlines() if line.startswith("branch refs/heads/")}


def set_branch(git_dir: Path, branch: str, commit: str, expected: str | None) -> None:
    """Point `branch` at `commit` if it still points at `expected` (None: must not exist); never a checked-out
    branch."""
    check_branch_name(branch)
    if branch in checked_out_branches(git_dir):
        raise GitError(f"branch {branch!r} is checked out; switch away from it first")
    old = expected or "0" * 40
    run_git(["--git-dir", str(git_dir), "update-ref", "-m", "evolve", f"refs/heads/{branch}", commit, old])
