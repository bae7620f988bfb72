"""The environment store: one directory per key, built into a temporary name and renamed into place,
a file lock per key so concurrent runs build once, and least-recently-used eviction under a size cap."""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import shutil
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

METADATA = "evolve-environment.json"
LAST_USED = "evolve-last-used"
DEFAULT_MAX_BYTES = 5 * 1024**3
# An environment used this recently may be in use by a running suite: eviction leaves it alone.
IN_USE_SECONDS = 2 * 3600


@dataclass(frozen=True)
class StoredEnvironment:
    """One environment in the store, as `evolve env list` shows it."""

    key: str
    path: Path
    size_bytes: int
    last_used: float
    metadata: dict

    @property
    def interpreter(self) -> str:
        """The interpreter it was built for."""
        return str(self.metadata.get("interpreter", "?"))

    @property
    def built_from(self) -> str:
        """What decided it: the declarations it was built from."""
        return "; ".join(self.metadata.get("sources", [])) or "no declarations (the runner only)"


def directory_size(path: Path) -> int:
    """Bytes used by the files under `path` (hard links counted once)."""
    seen: set[tuple[int, int]] = set()
    total = 0
    for directory, _dirs, files in os.walk(path):
        for name in files:
            try:
                stat = os.lstat(os.path.join(directory, name))
            except OSError:
                continue
            if (stat.st_dev, stat.st_ino) in seen:
                continue
            seen.add((stat.st_dev, stat.st_ino))
            total += stat.st_blocks * 512 if stat.st_blocks else stat.st_size
    return total


class EnvironmentStore:
    """A directory of built environments, safe to share between processes."""

    def __init__(self, root: Path, max_bytes: int = DEFAULT_MAX_BYTES) -> None:
        self.root = Path(root)
        self.max_bytes = max_bytes

    def path(self, key: str) -> Path:
        """Where the environment of `key` lives once built."""
        return self.root / key

    def ready(self, key: str) -> dict | None:
        """The metadata of a complete environment for `key`, or None."""
        try:
            return json.loads((self.path(key) / METADATA).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None

    def touch(self, key: str) -> None:
        """Record a use (the eviction order)."""
        marker = self.path(key) / LAST_USED
        with contextlib.suppress(OSError):
            marker.write_text(str(time.time()), encoding="utf-8")

    @contextlib.contextmanager
    def locked(self, key: str) -> Iterator[None]:
        """Hold the key's build lock: one builder at a time; others wait, then find it built."""
        self.root.mkdir(parents=True, exist_ok=True)
        with open(self.root / f".{key}.lock", "a+") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def staging(self, key: str) -> Path:
        """A fresh temporary directory next to the final place (same filesystem, so the rename is atomic)."""
        self.root.mkdir(parents=True, exist_ok=True)
        return self.root / f".building-{key}-{uuid.uuid4().hex[:8]}"

    def publish(self, key: str, staged: Path, metadata: dict) -> None:
        """Write the metadata and move a built environment into place atomically."""
        metadata = {**metadata, "size_bytes": directory_size(staged)}
        (staged / METADATA).write_text(json.dumps(metadata, indent=2), encoding="utf-8")
        (staged / LAST_USED).write_text(str(time.time()), encoding="utf-8")
        final = self.path(key)
        if final.exists():  # an incomplete leftover (no metadata): replace it
            self._remove(final)
        os.replace(staged, final)

    def entries(self) -> list[StoredEnvironment]:
        """Every complete environment, most recently used first."""
        found: list[StoredEnvironment] = []
        if not self.root.is_dir():
            return found
        for path in self.root.iterdir():
            if path.name.startswith(".") or not path.is_dir():
                continue
            metadata = self.ready(path.name)
            if metadata is None:
                continue
            try:
                last_used = float((path / LAST_USED).read_text(encoding="utf-8"))
            except (OSError, ValueError):
                last_used = path.stat().st_mtime
            size = int(metadata.get("size_bytes") or directory_size(path))
            found.append(StoredEnvironment(path.name, path, size, last_used, metadata))
        return sorted(found, key=lambda entry: entry.last_used, reverse=True)

    def remove(self, key: str) -> bool:
        """Delete one environment (unless it is being built right now); whether it was removed."""
        path = self.path(key)
        if not path.exists():
            return False
        with open(self.root / f".{key}.lock", "a+") as handle:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                return False
            try:
                self._remove(path)
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)
        with contextlib.suppress(OSError):
            (self.root / f".{key}.lock").unlink()
        return True

    def _remove(self, path: Path) -> None:
        # Rename first: a reader never sees half a directory under the key's name.
        doomed = path.with_name(f".removing-{path.name}-{uuid.uuid4().hex[:8]}")
        os.replace(path, doomed)
        shutil.rmtree(doomed, ignore_errors=True)

    def evict(
        self, max_bytes: int | None = None, keep: frozenset[str] = frozenset(), now: float | None = None
    ) -> list[str]:
        """Remove least-recently-used environments until the store fits `max_bytes`; never those in `keep`
        or used within IN_USE_SECONDS (a suite may be running in them). Returns the keys removed."""
        cap = self.max_bytes if max_bytes is None else max_bytes
        now = time.time() if now is None else now
        entries = self.entries()
        total = sum(entry.size_bytes for entry in entries)
        removed = []
        for entry in reversed(entries):  # least recently used first
            if total <= cap:
                break
            if entry.key in keep or now - entry.last_used < IN_USE_SECONDS:
                continue
            if self.remove(entry.key):
                removed.append(entry.key)
                total -= entry.size_bytes
        return removed

    def sweep_staging(self, older_than: float = 6 * 3600) -> None:
        """Delete temporary build directories left by crashed builds."""
        if not self.root.is_dir():
            return
        for path in self.root.iterdir():
            if path.name.startswith((".building-", ".removing-")):
                with contextlib.suppress(OSError):
                    if time.time() - path.stat().st_mtime > older_than:
                        shutil.rmtree(path, ignore_errors=True)
