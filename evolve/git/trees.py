"""A commit's files exported into a plain directory outside the repository: no `.git`, no filters, exact bytes.

Blobs are read with `git cat-file --batch` and written as they are stored, so no attribute, filter or
line-ending conversion of the repository plays a part. Submodules are left out; a symbolic link is kept only
when its *resolved* target stays inside the tree, resolving through the tree's own links (`h -> .` then
`h/h/../../etc/x` leaves it); one that leaves it (`~/.ssh`, `/etc`, a loop) is dropped and listed. A link that
collides with a file or directory of the tree, or sits below another link, is dropped too.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from evolve.git.command import GitError, git_environment, hardened_argv, run_git_bytes
from evolve.git.link_targets import escaping_links

REGULAR_MODES = {"100644": 0o644, "100755": 0o755}
SYMLINK_MODE = "120000"


@dataclass(frozen=True)
class TreeEntry:
    """One file of a commit's tree."""

    mode: str
    sha: str
    path: str


@dataclass(frozen=True)
class ExportedTree:
    """Where a commit's files were written, and what was left out and why."""

    path: Path
    commit: str
    skipped: tuple[str, ...] = ()


def safe_relative_path(path: str) -> bool:
    """Whether a path from a tree or an edit stays inside the tree and names no git directory."""
    pure = PurePosixPath(path)
    if not path or pure.is_absolute() or "\\" in path or "\0" in path:
        return False
    return all(part not in ("", ".", "..") and part.lower() != ".git" for part in pure.parts)


def list_tree(git_dir: Path, commit: str) -> list[TreeEntry]:
    """Every entry of `commit`'s tree, recursively."""
    out = run_git_bytes(["--git-dir", str(git_dir), "ls-tree", "-r", "-z", "--full-tree", commit])
    entries = []
    for record in out.split(b"\0"):
        if not record:
            continue
        meta, _, path = record.partition(b"\t")
        mode, _kind, sha = meta.decode().split(" ")
        entries.append(TreeEntry(mode, sha, path.decode("utf-8", "surrogateescape")))
    return entries


def _blobs(git_dir: Path, shas: list[str]) -> Iterator[bytes]:
    """The contents of `shas`, in order, streamed from one `git cat-file --batch`."""
    proc = subprocess.Popen(
        hardened_argv(["--git-dir", str(git_dir), "cat-file", "--batch"]),
        cwd="/",
        env=git_environment(),
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
    )
    assert proc.stdin is not None and proc.stdout is not None

    def feed() -> None:
        try:
            for sha in shas:
                proc.stdin.write(sha.encode() + b"\n")  # type: ignore[union-attr]
            proc.stdin.close()  # type: ignore[union-attr]
        except BrokenPipeError:
            pass

    writer = threading.Thread(target=feed, daemon=True)
    writer.start()
    try:
        for sha in shas:
            header = proc.stdout.readline().split()
            if len(header) != 3 or header[1] != b"blob":
                raise GitError(f"git cat-file: object {sha} is not a readable blob")
            data = proc.stdout.read(int(header[2]))
            proc.stdout.read(1)
            yield data
    finally:
        writer.join()
        proc.stdout.close()
        proc.wait()


def export_tree(git_dir: Path, commit: str, dest: Path) -> ExportedTree:
    """Write `commit`'s files into `dest` (which must not exist yet); return what was exported."""
    dest = Path(dest)
    dest.mkdir(parents=True)
    entries = list_tree(git_dir, commit)
    skipped: list[str] = []
    files = [e for e in entries if e.mode in REGULAR_MODES and safe_relative_path(e.path)]
    links = [e for e in entries if e.mode == SYMLINK_MODE and safe_relative_path(e.path)]
    skipped += [e.path for e in entries if e not in files and e not in links]
    for entry, data in zip(files, _blobs(git_dir, [e.sha for e in files])):
        target = dest / entry.path
        target.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, REGULAR_MODES[entry.mode])
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.chmod(target, REGULAR_MODES[entry.mode])
    # Links last, so no file above was written through one.
    targets = {
        entry.path: data.decode("utf-8", "surrogateescape")
        for entry, data in zip(links, _blobs(git_dir, [e.sha for e in links]))
    }
    occupied = {e.path for e in files} | {parent.as_posix() for e in files for parent in PurePosixPath(e.path).parents}
    misplaced = {
        path
        for path in targets
        if path in occupied or any(parent.as_posix() in targets for parent in PurePosixPath(path).parents)
    }
    dropped = misplaced | escaping_links(targets)
    skipped += sorted(dropped)
    real_dest = os.path.realpath(dest)
    for path, link in targets.items():
        if path in dropped:
            continue
        target = dest / path
        target.parent.mkdir(parents=True, exist_ok=True)
        os.symlink(link, target)
    # The resolver models the kernel; the kernel has the last word. Anything it resolves outside goes.
    for path in sorted(set(targets) - dropped):
        resolved = os.path.realpath(dest / path)
        if resolved != real_dest and not resolved.startswith(real_dest + os.sep):
            os.unlink(dest / path)
            skipped.append(path)
    return ExportedTree(path=dest, commit=commit, skipped=tuple(sorted(skipped)))


def copy_tree(source: Path, dest: Path) -> Path:
    """A copy of an exported tree (symbolic links copied as links), e.g. head made from base."""
    shutil.copytree(source, dest, symlinks=True)
    return dest


def write_edits(tree: Path, contents: dict[str, str]) -> None:
    """Write each relative path's new text into `tree`, keeping an existing file's mode."""
    for relative, text in contents.items():
        if not safe_relative_path(relative):
            raise GitError(f"refusing to write outside the tree: {relative}")
        target = tree / relative
        if target.is_symlink():
            raise GitError(f"refusing to write through a symbolic link: {relative}")
        target.parent.mkdir(parents=True, exist_ok=True)
        with open(target, "w", encoding="utf-8", newline="") as handle:
            handle.write(text)
