"""Scratch directories for a run's trees, outside every repository, removed after the run and after a crash.

A run's directory is `<root>/<run id>/` (root: `EVOLVE_WORK_DIR`, else `<tmp>/evolve-work-<uid>`), holding an
`owner` file with the process id. At the start of every run, :func:`sweep` removes directories whose owner is
gone, so a killed run leaves nothing behind for long. It also removes what older versions left under a
repository's `.git/evolve/work` (worktrees that shared the repository's git directory).
"""

from __future__ import annotations

import os
import shutil
import socket
import stat
import tempfile
import time
from pathlib import Path

OWNER_FILE = "owner"
ORPHAN_AGE_SECONDS = 6 * 3600  # a directory without a readable owner is removed once this old
_origins: dict[Path, Path] = {}  # run directory -> the repository its trees came from (this process's runs)


def default_root() -> Path:
    """Where run directories go unless the caller names a place."""
    configured = os.environ.get("EVOLVE_WORK_DIR", "").strip()
    return Path(configured) if configured else Path(tempfile.gettempdir()) / f"evolve-work-{os.getuid()}"


def _owner_alive(directory: Path) -> bool:
    try:
        host, pid = (directory / OWNER_FILE).read_text(encoding="utf-8").split()
    except (OSError, ValueError):
        try:
            return time.time() - directory.stat().st_mtime < ORPHAN_AGE_SECONDS
        except OSError:
            return False
    if host != socket.gethostname():
        return True  # another machine's run on a shared volume: not ours to judge
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except (PermissionError, ValueError):
        return True
    return True


def sweep(root: Path) -> list[Path]:
    """Remove run directories under `root` whose process is gone; return what was removed."""
    removed: list[Path] = []
    if not root.is_dir():
        return removed
    for directory in root.iterdir():
        if directory.is_dir() and not directory.is_symlink() and not _owner_alive(directory):
            shutil.rmtree(directory, ignore_errors=True)
            removed.append(directory)
    return removed


def sweep_legacy_worktrees(git_dir: Path) -> None:
    """Remove `.git/evolve/work` left by older versions, and the worktree entries that pointed into it."""
    legacy = git_dir / "evolve" / "work"
    if legacy.is_dir() and not legacy.is_symlink():
        shutil.rmtree(legacy, ignore_errors=True)
    entries = git_dir / "worktrees"
    if not entries.is_dir():
        return
    for entry in entries.iterdir():
        try:
            target = (entry / "gitdir").read_text(encoding="utf-8").strip()
        except OSError:
            continue
        if f"{os.sep}evolve{os.sep}work{os.sep}" in target and not Path(target).exists():
            shutil.rmtree(entry, ignore_errors=True)


def run_origin(path: Path) -> Path | None:
    """The repository a tree under one of this process's run directories was exported from, or None."""
    resolved = Path(path).resolve()
    for directory, origin in list(_origins.items()):
        if resolved == directory or directory in resolved.parents:
            return origin
    return None


def _check_private(root: Path) -> None:
    """Refuse a root another user could change under a run (a shared /tmp): a link, not ours, writable by others."""
    info = os.lstat(root)
    if stat.S_ISLNK(info.st_mode) or not stat.S_ISDIR(info.st_mode):
        raise OSError(f"{root} is not a directory; set EVOLVE_WORK_DIR to a private directory")
    if info.st_uid != os.getuid() or info.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
        raise OSError(
            f"{root} belongs to another user or others can write to it; remove it or set EVOLVE_WORK_DIR to a "
            "private directory"
        )


def make_run_directory(root: Path, run_id: str, origin: Path | None = None) -> Path:
    """A fresh private directory for one run (its trees came from `origin`), after sweeping crashed runs."""
    root.mkdir(parents=True, exist_ok=True, mode=0o700)
    _check_private(root)
    sweep(root)
    directory = root / run_id
    shutil.rmtree(directory, ignore_errors=True)
    directory.mkdir(mode=0o700)
    (directory / OWNER_FILE).write_text(f"{socket.gethostname()} {os.getpid()}\n", encoding="utf-8")
    if origin is not None:
        _origins[directory.resolve()] = Path(origin)
    return directory


def remove_run_directory(directory: Path) -> None:
    """Remove a run's directory, even where a test left a directory read-only."""
    _origins.pop(Path(directory).resolve(), None)
    for parent, dirs, _files in os.walk(directory):
        for name in dirs:
            path = Path(parent) / name
            if not path.is_symlink():
                try:
                    path.chmod(0o700)
                except OSError:
                    pass
    shutil.rmtree(directory, ignore_errors=True)
