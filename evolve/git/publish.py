"""From passing edits to a commit on a branch: commit the edits alone, verify, then move a branch only when
that loses no one's work. The commits Evolve made are recorded in `<git-dir>/evolve/commits`."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from evolve.git.branches import branch_sha, choose_branch, set_branch
from evolve.git.commits import commit_edits, verify_commit
from evolve.git.trust import CHECKOUT_TOLERATED_KEYS, Repository, check_config

LEDGER = Path("evolve") / "commits"


@dataclass(frozen=True)
class Published:
    """The verified commit and the branch it is on (or is meant for, when no branch was set)."""

    commit: str
    branch: str
    note: str = ""  # why the branch is not the wanted one


def known_commits(common_dir: Path) -> frozenset[str]:
    """Commits Evolve made in this repository."""
    try:
        return frozenset((common_dir / LEDGER).read_text(encoding="utf-8").split())
    except OSError:
        return frozenset()


def record_commit(common_dir: Path, sha: str) -> None:
    """Add a commit to the ledger of commits Evolve made."""
    ledger = common_dir / LEDGER
    ledger.parent.mkdir(parents=True, exist_ok=True)
    with open(ledger, "a", encoding="utf-8") as handle:
        handle.write(sha + "\n")


def commit_and_branch(
    repository: Repository,
    base: str,
    contents: Mapping[str, str],
    report_diff: str,
    message: str,
    wanted_branch: str,
    move_branch: bool = True,
) -> Published:
    """Commit `contents` on `base`, check the commit equals `report_diff`, and (when asked) point a branch at it.

    Raises GitError (CommitMismatch when the check fails, UntrustedRepository when the repository's configuration
    changed while the run worked): then no branch is set."""
    check_config(Path(repository.label), repository.git_dir, repository.common_dir, CHECKOUT_TOLERATED_KEYS)
    commit = commit_edits(repository.git_dir, base, contents, message)
    verify_commit(repository.git_dir, base, commit, contents, report_diff)
    record_commit(repository.common_dir, commit)
    if not move_branch:
        return Published(commit, wanted_branch)
    choice = choose_branch(repository.git_dir, wanted_branch, base, known_commits(repository.common_dir))
    set_branch(repository.git_dir, choice.name, commit, branch_sha(repository.git_dir, choice.name))
    return Published(commit, choice.name, choice.note)
