"""Which files a scan looks at, and reading them safely (binary and non-UTF-8 files are reported, not fatal)."""

from __future__ import annotations

import hashlib
import os
import stat
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from evolve.configuration.globs import matches_any
from evolve.configuration.model import EvolveConfig
from evolve.git.command import GitError, run_git, run_git_bytes

_PRUNED_DIRS = {".git", ".hg", ".svn", "__pycache__", ".venv", "venv", ".tox", ".nox", "node_modules"}


def is_selected(path: str, config: EvolveConfig) -> bool:
    """Whether the configuration includes `path` and does not exclude it."""
    return matches_any(path, config.include) and not matches_any(path, config.all_excludes)


def in_git_work_tree(root: Path) -> bool:
    """Whether `root` is inside a git work tree (its top or any directory below)."""
    try:
        return run_git(["rev-parse", "--is-inside-work-tree"], root, timeout=30, check=False).strip() == "true"
    except GitError:
        return False


def _git_python_files(root: Path) -> list[str] | None:
    """Tracked plus untracked-but-not-ignored `*.py` files, or None when git cannot answer."""
    try:
        out = run_git_bytes(
            ["ls-files", "-z", "--cached", "--others", "--exclude-standard", "--", "*.py"], root, timeout=60
        )
    except GitError:
        return None
    names = {name.decode("utf-8", "surrogateescape") for name in out.split(b"\0") if name}
    # Files deleted in the work tree are still in the index; only what exists can be read. Symbolic links
    # are not this repository's source (and may point outside it), nor is a file reached through a linked
    # directory whose real place is elsewhere: judged by the resolved path, not the name.
    real_root = os.path.realpath(root)
    return sorted(
        name
        for name in names
        if (root / name).is_file() and not (root / name).is_symlink() and _really_inside(real_root, root / name)
    )


def _really_inside(real_root: str, path: Path) -> bool:
    """Whether `path` resolves (through every link on the way) to a place inside `real_root`."""
    resolved = os.path.realpath(path)
    return resolved.startswith(real_root + os.sep)


def _walk_python_files(root: Path) -> list[str]:
    found = []
    real_root = os.path.realpath(root)
    for directory, dirs, files in os.walk(root):
        dirs[:] = sorted(d for d in dirs if d not in _PRUNED_DIRS)
        rel_dir = Path(directory).relative_to(root)
        for name in files:
            path = Path(directory, name)
            if name.endswith(".py") and not path.is_symlink() and _really_inside(real_root, path):
                found.append((rel_dir / name).as_posix())
    return sorted(found)


def _relative(root: Path, path: str) -> str:
    """`path` as a posix path relative to `root` (absolute paths under root are accepted too)."""
    candidate = Path(path)
    if candidate.is_absolute():
        try:
            candidate = candidate.resolve().relative_to(root.resolve())
        except ValueError:
            return candidate.as_posix()
    return candidate.as_posix()


def list_python_files(root: Path, config: EvolveConfig, paths: Sequence[str] | None = None) -> list[str]:
    """Relative posix paths of the Python files to scan, sorted.

    In a git work tree these are the files git knows under `root` (tracked, plus untracked files not
    ignored, so a fresh file in a worktree counts); elsewhere a directory walk. Symbolic links are left
    out. `paths` narrows the set further.
    """
    root = Path(root)
    listed = _git_python_files(root) if in_git_work_tree(root) else None
    if listed is None:
        listed = _walk_python_files(root)
    selected = [path for path in listed if is_selected(path, config)]
    if paths is not None:
        wanted = {_relative(root, p) for p in paths}
        selected = [path for path in selected if path in wanted]
    return selected


@dataclass(frozen=True)
class SourceFile:
    """One file's bytes read once: its hash for the cache, and its text or the reason it has none."""

    path: str
    digest: str
    text: str | None
    problem: str | None = None


def read_source(root: Path, path: str) -> SourceFile:
    """Read a file; binary (NUL bytes) and non-UTF-8 files get a `problem` instead of `text`."""
    try:
        # Non-blocking and not through a final link: a FIFO or device under a source's name never hangs a scan.
        descriptor = os.open(root / path, os.O_RDONLY | os.O_NONBLOCK | os.O_NOFOLLOW)
        with os.fdopen(descriptor, "rb") as handle:
            if not stat.S_ISREG(os.fstat(handle.fileno()).st_mode):
                return SourceFile(path, "", None, "not a regular file")
            data = handle.read()
    except OSError as error:
        return SourceFile(path, "", None, f"unreadable: {error.strerror or error}")
    digest = hashlib.sha256(data).hexdigest()
    if b"\0" in data:
        return SourceFile(path, digest, None, "binary file (contains NUL bytes)")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        return SourceFile(path, digest, None, f"not valid UTF-8 (byte {error.start}); re-encode the file as UTF-8")
    if text.startswith("\ufeff"):
        text = text[1:]
    return SourceFile(path, digest, text)
