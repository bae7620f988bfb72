"""Commits built from Evolve's edits alone, and the check that a commit holds exactly the reported change.

The commit is made with a temporary index (`read-tree <base>`, `hash-object -w`, `update-index --cacheinfo`,
`write-tree`, `commit-tree -p <base>`): only the paths of the edit session enter it, with their base modes;
nothing any other program wrote into a directory can. Before a commit is published,
:func:`verify_commit` compares what git says the commit changes with the report's diff.
"""

from __future__ import annotations

import tempfile
from collections.abc import Mapping
from pathlib import Path

from evolve.git.command import BOT, GitError, Identity, run_git, run_git_bytes
from evolve.git.diffs import unified_diff
from evolve.git.trees import REGULAR_MODES, safe_relative_path


class CommitMismatch(GitError):
    """A commit does not hold exactly the change the report describes; nothing may be published."""


def _modes(git_dir: Path, commit: str, paths: list[str]) -> dict[str, str]:
    out = run_git_bytes(["--git-dir", str(git_dir), "ls-tree", "-z", commit, "--", *paths])
    modes = {}
    for record in out.split(b"\0"):
        if record:
            meta, _, path = record.partition(b"\t")
            modes[path.decode("utf-8", "surrogateescape")] = meta.decode().split(" ")[0]
    return modes


def commit_edits(git_dir: Path, base: str, contents: Mapping[str, str], message: str, identity: Identity = BOT) -> str:
    """A commit on `base` whose tree is base plus `contents` (path -> new text); returns its sha."""
    if not contents:
        raise GitError("nothing to commit: the edit session changed no file")
    paths = sorted(contents)
    for path in paths:
        if not safe_relative_path(path):
            raise GitError(f"refusing to commit a path outside the tree: {path!r}")
    modes = _modes(git_dir, base, paths)
    gd = ["--git-dir", str(git_dir)]
    with tempfile.TemporaryDirectory(prefix="evolve-index-") as scratch:
        index = Path(scratch) / "index"
        run_git([*gd, "read-tree", base], index_file=index)
        for path in paths:
            mode = modes.get(path, "100644")
            if mode not in REGULAR_MODES:
                raise GitError(f"refusing to commit {path}: it is not a regular file in the base ({mode})")
            blob = run_git(
                [*gd, "hash-object", "-w", "--no-filters", "--stdin"], input_bytes=contents[path].encode("utf-8")
            )
            run_git([*gd, "update-index", "--add", "--cacheinfo", f"{mode},{blob},{path}"], index_file=index)
        tree = run_git([*gd, "write-tree"], index_file=index)
    return run_git(
        [*gd, "commit-tree", tree, "-p", base, "-F", "-"], identity=identity, input_bytes=message.encode("utf-8")
    )


def committed_changes(git_dir: Path, base: str, commit: str) -> dict[str, tuple[str, str]]:
    """Path -> (old mode, new mode) of every file `commit` changes relative to `base` (no renames)."""
    out = run_git_bytes(["--git-dir", str(git_dir), "diff-tree", "-r", "-z", "--no-renames", base, commit])
    fields = out.split(b"\0")
    changes = {}
    for meta, path in zip(fields[0::2], fields[1::2]):
        if not meta:
            continue
        old_mode, new_mode = meta.decode().lstrip(":").split(" ")[:2]
        changes[path.decode("utf-8", "surrogateescape")] = (old_mode, new_mode)
    return changes


def _text(git_dir: Path, commit: str, path: str) -> str:
    blob = run_git_bytes(["--git-dir", str(git_dir), "cat-file", "blob", f"{commit}:{path}"], check=False)
    return blob.decode("utf-8", "surrogateescape")


def verify_commit(git_dir: Path, base: str, commit: str, contents: Mapping[str, str], report_diff: str) -> None:
    """Raise :class:`CommitMismatch` unless `commit` (parent `base`) changes exactly the reported files, to
    exactly the reported texts, with their modes kept, and its diff equals `report_diff`."""
    parents = run_git(["--git-dir", str(git_dir), "rev-list", "--parents", "-n", "1", commit]).split()[1:]
    if parents != [base]:
        raise CommitMismatch(f"commit {commit[:12]} is not a single commit on the base {base[:12]}")
    changes = committed_changes(git_dir, base, commit)
    expected = {path for path, text in contents.items() if text != _text(git_dir, base, path)}
    if set(changes) != expected:
        extra = sorted(set(changes) - expected)
        missing = sorted(expected - set(changes))
        raise CommitMismatch(
            f"commit {commit[:12]} does not hold exactly the reported files"
            + (f"; not reported: {', '.join(extra)}" if extra else "")
            + (f"; missing: {', '.join(missing)}" if missing else "")
        )
    rendered = []
    for path in sorted(changes):
        old_mode, new_mode = changes[path]
        if old_mode not in ("000000", new_mode):
            raise CommitMismatch(f"commit {commit[:12]} changes the mode of {path} ({old_mode} -> {new_mode})")
        after = _text(git_dir, commit, path)
        if after != contents[path]:
            raise CommitMismatch(f"commit {commit[:12]} holds other text for {path} than the edit")
        rendered.append(unified_diff(path, _text(git_dir, base, path), after))
    if "".join(rendered) != report_diff:
        raise CommitMismatch(f"the diff of commit {commit[:12]} differs from the diff in the report")
