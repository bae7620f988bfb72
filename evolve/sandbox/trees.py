"""The scratch directory of one run: a private copy of the tree (no `.git`, no symlink followed), removed
afterwards, and swept at start-up when a crash left one behind."""

from __future__ import annotations

import os
import shutil
import stat
import tempfile
import uuid
from collections.abc import Callable
from pathlib import Path

from evolve.sandbox.limits import _alive, remove_cgroup, stale_cgroups

SCRATCH_PARENT = "evolve-sandboxes"
NOT_COPIED = frozenset({".git"})


def scratch_root() -> Path:
    """Where runs keep their scratch directories (one per run, named after the evolve process)."""
    return Path(tempfile.gettempdir()) / SCRATCH_PARENT


def make_scratch_directory() -> Path:
    """A new private directory for one run, owned by this process."""
    root = scratch_root()
    root.mkdir(mode=0o700, exist_ok=True)
    directory = root / f"{os.getpid()}-{uuid.uuid4().hex[:12]}"
    directory.mkdir(mode=0o700)
    return directory


def remove_tree(path: Path) -> None:
    """Remove a directory tree the sandbox wrote, whatever permissions it left on it."""

    def make_writable_and_retry(function: Callable[[str], object], name: str, _error: object) -> None:
        try:
            os.chmod(os.path.dirname(name), 0o700)
            if not os.path.islink(name) and os.path.isdir(name):
                os.chmod(name, 0o700)
            function(name)
        except OSError:
            pass

    shutil.rmtree(path, onerror=make_writable_and_retry)


def _copy_regular_file(source: str, destination: str) -> str:
    # Fifos, sockets and devices are not copied: reading a fifo would block the copy forever.
    if stat.S_ISREG(os.lstat(source).st_mode):
        shutil.copy2(source, destination)
    return destination


def copy_tree(source: Path, destination: Path) -> None:
    """Copy `source` to `destination` without `.git`; symlinks are copied as links, never followed."""
    shutil.copytree(
        source,
        destination,
        symlinks=True,
        ignore=lambda _directory, names: [name for name in names if name in NOT_COPIED],
        copy_function=_copy_regular_file,
    )


def sweep_stale_sandboxes(root: Path | None = None) -> int:
    """Remove scratch directories and cgroups left by evolve processes that are gone; returns how many."""
    root = root or scratch_root()
    removed = 0
    for cgroup in stale_cgroups():
        remove_cgroup(cgroup)
        removed += 1
    try:
        entries = list(root.iterdir())
    except OSError:
        return removed
    for entry in entries:
        owner = entry.name.split("-", 1)[0]
        if owner.isdigit() and int(owner) != os.getpid() and not _alive(int(owner)):
            remove_tree(entry)
            removed += 1
    return removed
