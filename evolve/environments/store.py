"""The environment store: one directory per key, built into a temporary name and renamed into place,
a file lock per key so concurrent runs build once, and least-recently-used eviction under a size cap.

What Evolve knows about an environment (its interpreter, version, prefix, what to mount) is its *record*:
`<root>/.records/<key>.json`, written by Evolve after the build, outside the environment's directory. Nothing
inside an environment (which the repository's build wrote) is read back to decide anything, nor written to
(a planted link there would redirect the write)."""

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

RECORDS = ".records"
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

    def record_path(self, key: str) -> Path:
        """Evolve's record of the environment of `key` (outside the environment's directory)."""
        return self.root / RECORDS / f"{key}.json"

    def ready(self, key: str) -> dict | None:
        """The record of a complete environment for `key`, or None."""
        if not self.path(key).is_dir() or self.path(key).is_symlink():
            return None
        try:
            record = json.loads(self.record_path(key).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        return record if isinstance(record, dict) and record.get("key") == key else None

    def touch(self, key: str) -> None:
        """Record a use (the eviction order): the record's modification time."""
        with contextlib.suppress(OSError):
            os.utime(self.record_path(key))

    def _write_record(self, key: str, record: dict) -> None:
        records = self.root / RECORDS
        records.mkdir(mode=0o700, parents=True, exist_ok=True)
        temporary = records / f".{key}.{uuid.uuid4().hex[:8]}.tmp"
        temporary.write_text(json.dumps(record, indent=2), encoding="utf-8")
        os.replace(temporary, self.record_path(key))

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

    def publish(self, key: str, staged: Path, record: dict) -> None:
        """Move a built environment into place atomically, then write Evolve's record of it (the record last:
        an environment without one is not ready)."""
        record = {**record, "key": key, "size_bytes": directory_size(staged)}
        final = self.path(key)
        with contextlib.suppress(OSError):
            self.record_path(key).unlink()
        if final.exists() or final.is_symlink():  # an incomplete leftover (no record): replace it
            self._remove(final)
        os.replace(staged, final)
        self._write_record(key, record)

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
                last_used = self.record_path(path.name).stat().st_mtime
            except OSError:
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
                with contextlib.suppress(OSError):
                    self.record_path(key).unlink()
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
            # Also environments without Evolve's record (built before records, or a crash between the rename and
            # the record): nothing would ever reuse or evict them.
            orphan = not path.name.startswith(".") and path.is_dir() and not self.record_path(path.name).exists()
            if orphan or path.name.startswith((".building-", ".removing-")):
                with contextlib.suppress(OSError):
                    if time.time() - path.stat().st_mtime > older_than:
                        shutil.rmtree(path, ignore_errors=True)
