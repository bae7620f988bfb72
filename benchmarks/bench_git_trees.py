"""Time the trusted git zone's tree handling on a real repository, against the worktree it replaced.

Usage: python benchmarks/bench_git_trees.py REPO [--repeat N]

REPO is a git checkout (e.g. `scripts/sdist_to_git.py boltons --dest DIR`). Reports the median of --repeat
runs of: exporting HEAD into a plain directory (`evolve.git.trees.export_tree`), the old `git worktree add`
+ `remove`, and building + verifying a one-file commit from an edit (`commit_edits` + `verify_commit`).
Not a test: figures depend on the machine.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from evolve.git.branches import resolve_commit
from evolve.git.commits import commit_edits, verify_commit
from evolve.git.diffs import summarize
from evolve.git.trees import export_tree


def median_seconds(step: Callable[[], object], repeat: int) -> float:
    """The median wall-clock time of `repeat` calls."""
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        step()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def main() -> None:
    """Print the three figures for one repository."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("repo", type=Path)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    repo: Path = args.repo.resolve()
    git_dir = repo / ".git"
    base = resolve_commit(git_dir, "HEAD")
    if base is None:
        raise SystemExit(f"{repo} has no commits")
    files = subprocess.run(["git", "-C", str(repo), "ls-files"], capture_output=True, text=True, check=True)
    names = files.stdout.split()
    path = next(name for name in names if name.endswith(".py"))
    before = (repo / path).read_text(encoding="utf-8")
    after = before + "\n# edited\n"

    def export() -> None:
        scratch = Path(tempfile.mkdtemp())
        export_tree(git_dir, base, scratch / "tree")
        shutil.rmtree(scratch)

    def worktree() -> None:
        target = Path(tempfile.mkdtemp()) / "wt"
        subprocess.run(["git", "-C", str(repo), "worktree", "add", "-q", "--detach", str(target), base], check=True)
        subprocess.run(["git", "-C", str(repo), "worktree", "remove", "--force", str(target)], check=True)

    def commit() -> None:
        sha = commit_edits(git_dir, base, {path: after}, "bench\n")
        verify_commit(git_dir, base, sha, {path: after}, summarize([(path, before, after)]).text)

    print(f"{repo.name}: {len(names)} files")
    print(f"export_tree:                   {median_seconds(export, args.repeat):.3f} s")
    print(f"git worktree add + remove:     {median_seconds(worktree, args.repeat):.3f} s")
    print(f"commit_edits + verify_commit:  {median_seconds(commit, args.repeat):.3f} s")


if __name__ == "__main__":
    main()
