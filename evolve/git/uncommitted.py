"""What a checkout holds that its HEAD does not: the Python files `evolve plan` and `evolve run` leave out when they
work on the commit (the default), so they can say so."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from evolve.git.command import run_git

PYTHON_SUFFIXES = (".py", ".pyi")


@dataclass(frozen=True)
class Uncommitted:
    """Python files that differ from HEAD: `modified` (tracked: changed, staged or deleted) and `untracked`."""

    modified: tuple[str, ...] = ()
    untracked: tuple[str, ...] = ()

    @property
    def empty(self) -> bool:
        """Whether the checkout's Python files are exactly HEAD's."""
        return not (self.modified or self.untracked)

    def describe(self, shown: int = 3) -> str:
        """E.g. `2 modified (a.py, b.py) and 1 untracked (c.py) .py files`: counts, and the first few names."""
        parts = [
            f"{len(files)} {kind} ({_names(files, shown)})"
            for kind, files in (("modified", self.modified), ("untracked", self.untracked))
            if files
        ]
        total = len(self.modified) + len(self.untracked)
        return f"{' and '.join(parts)} .py file{'s' if total != 1 else ''}"


def _names(files: tuple[str, ...], shown: int) -> str:
    names = ", ".join(files[:shown])
    return names + (f", and {len(files) - shown} more" if len(files) > shown else "")


def parse_status(porcelain: str) -> Uncommitted:
    """The Python files in `git status --porcelain=v1 -z --no-renames` output (ignored files are not listed)."""
    modified: list[str] = []
    untracked: list[str] = []
    for entry in porcelain.split("\0"):
        if len(entry) < 4 or not entry.endswith(PYTHON_SUFFIXES):
            continue
        code, path = entry[:2], entry[3:]
        (untracked if code == "??" else modified).append(path)
    return Uncommitted(tuple(sorted(modified)), tuple(sorted(untracked)))


def uncommitted_python_files(work_tree: Path) -> Uncommitted:
    """The Python files of the checkout at `work_tree` that differ from its HEAD, through the trusted git layer."""
    # No optional locks: `git status` then leaves the index as it is (Evolve never writes a user's checkout).
    argv = ["status", "--porcelain=v1", "-z", "--no-renames", "--untracked-files=all"]
    return parse_status(run_git(argv, work_tree, extra_env={"GIT_OPTIONAL_LOCKS": "0"}))
