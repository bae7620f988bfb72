"""Git operations on real repositories: worktrees, commits, branches, diffs."""

import pytest

from evolve.gitrepo import (
    GitError,
    add_worktree,
    commit_all,
    diff_against,
    remove_worktree,
    repository_root,
    resolve_commit,
    set_branch,
    write_files,
)
from tests.repo_factory import make_repo, run_git


def test_not_a_repository_and_empty_repository_are_clear_errors(tmp_path):
    with pytest.raises(GitError, match="not inside a git repository"):
        repository_root(tmp_path)
    make_repo(tmp_path / "empty", {})
    with pytest.raises(GitError, match="no commits"):
        resolve_commit(tmp_path / "empty")


def test_worktree_commit_and_branch_leave_the_checkout_alone(tmp_path):
    repo = make_repo(tmp_path / "r", {"a.py": "x = 1\n"})
    (repo / "a.py").write_text("x = 'user edit'\n", encoding="utf-8")  # uncommitted user work
    base = resolve_commit(repo)
    tree = add_worktree(repo, tmp_path / "wt", base)
    write_files(tree, {"a.py": "x = 2\n", "pkg/new.py": "y = 1\n"})
    summary = diff_against(tree, base)
    assert set(summary.changed_lines) == {"a.py", "pkg/new.py"}
    assert summary.changed_lines["a.py"] == (1,)
    sha = commit_all(tree, "evolve: test\n")
    set_branch(repo, "evolve/test-1", sha)
    remove_worktree(repo, tree)
    assert not tree.exists()
    assert run_git(repo, "rev-parse", "evolve/test-1").strip() == sha
    assert run_git(repo, "symbolic-ref", "--short", "HEAD").strip() == "main"
    assert (repo / "a.py").read_text(encoding="utf-8") == "x = 'user edit'\n"
    assert run_git(repo, "status", "--porcelain").strip() == "M a.py"
    assert run_git(repo, "log", "-1", "--format=%an", sha).strip() == "evolve-bot"


def test_hooks_of_the_repository_do_not_run(tmp_path):
    repo = make_repo(tmp_path / "r", {"a.py": "x = 1\n"})
    hook = repo / ".git" / "hooks" / "pre-commit"
    hook.write_text(f"#!/bin/sh\ntouch {tmp_path}/hook-ran\nexit 1\n", encoding="utf-8")
    hook.chmod(0o755)
    tree = add_worktree(repo, tmp_path / "wt", resolve_commit(repo))
    write_files(tree, {"a.py": "x = 2\n"})
    commit_all(tree, "msg")
    assert not (tmp_path / "hook-ran").exists()


def test_checked_out_branch_is_not_moved(tmp_path):
    repo = make_repo(tmp_path / "r", {"a.py": "x = 1\n"})
    with pytest.raises(GitError, match="checked out"):
        set_branch(repo, "main", resolve_commit(repo))


def test_writes_outside_the_worktree_are_refused(tmp_path):
    repo = make_repo(tmp_path / "r", {"a.py": "x = 1\n"})
    tree = add_worktree(repo, tmp_path / "wt", resolve_commit(repo))
    with pytest.raises(GitError, match="outside"):
        write_files(tree, {"../escape.py": "x"})
