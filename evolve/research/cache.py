"""The scan cache: per-file results in SQLite, keyed by what the result depends on.

A key is (section, path, sha256 of the file's bytes, a fingerprint of analyser version and settings).
Coverage is never cached (it depends on the tests, not on one file). A cache that cannot be opened or
written is silently skipped: it only ever makes scans faster, never changes their result.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from evolve.git.command import GitError, run_git

SCHEMA = """
CREATE TABLE IF NOT EXISTS entries (
    section TEXT NOT NULL,
    path TEXT NOT NULL,
    digest TEXT NOT NULL,
    fingerprint TEXT NOT NULL,
    payload TEXT NOT NULL,
    used REAL NOT NULL,
    PRIMARY KEY (section, path, digest, fingerprint)
)
"""
_STALE_SECONDS = 30 * 24 * 3600  # entries written more than a month ago are dropped (and recomputed once)


def default_cache_path(root: Path) -> Path:
    """`<git common dir>/evolve/scan-cache.sqlite` in a git work tree (shared by worktrees), else under ~/.cache."""
    root = Path(root).resolve()
    try:
        common = run_git(["rev-parse", "--path-format=absolute", "--git-common-dir"], root, timeout=30, check=False)
    except GitError:
        common = ""
    if common.strip():
        return Path(common.strip()).resolve() / "evolve" / "scan-cache.sqlite"
    name = hashlib.sha256(str(root).encode("utf-8")).hexdigest()[:16]
    return Path.home() / ".cache" / "evolve" / f"{name}.sqlite"


def fingerprint(*parts: Any) -> str:
    """A short hash of JSON-serialisable settings (analyser version, thresholds, rule file contents...)."""
    raw = json.dumps(parts, sort_keys=True, default=str)
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()[:16]


class ScanCache:
    """Read and write cached per-file payloads. All methods swallow SQLite errors (a cache miss)."""

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self._db: sqlite3.Connection | None = None
        if path is None:
            return
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(str(path), timeout=10)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.execute(SCHEMA)
            self._db.commit()
        except (OSError, sqlite3.Error):
            self._db = None

    @property
    def enabled(self) -> bool:
        """Whether the cache could be opened."""
        return self._db is not None

    def get_many(self, section: str, fingerprint_: str, keys: Iterable[tuple[str, str]]) -> dict[str, Any]:
        """Payloads of the (path, digest) keys found, by path."""
        if self._db is None:
            return {}
        wanted = dict(keys)
        paths = list(wanted)
        found: dict[str, Any] = {}
        try:
            for start in range(0, len(paths), 500):
                chunk = paths[start : start + 500]
                rows = self._db.execute(
                    "SELECT path, digest, payload FROM entries WHERE section = ? AND fingerprint = ?"
                    f" AND path IN ({','.join('?' * len(chunk))})",
                    (section, fingerprint_, *chunk),
                )
                for path, digest, payload in rows:
                    if wanted.get(path) == digest:
                        found[path] = json.loads(payload)
        except (sqlite3.Error, ValueError):
            return {}
        return found

    def put_many(self, section: str, fingerprint_: str, items: Iterable[tuple[str, str, Any]]) -> None:
        """Store (path, digest, payload) items.

        Other versions of the same path stay: base and head trees of a gate run share this cache.
        """
        if self._db is None:
            return
        now = time.time()
        rows = [(section, path, digest, fingerprint_, json.dumps(payload), now) for path, digest, payload in items]
        if not rows:
            return
        try:
            with self._db:
                self._db.executemany("INSERT OR REPLACE INTO entries VALUES (?, ?, ?, ?, ?, ?)", rows)
        except sqlite3.Error:
            pass

    def prune(self) -> None:
        """Drop entries written more than a month ago, so the file does not grow forever."""
        if self._db is None:
            return
        try:
            with self._db:
                self._db.execute("DELETE FROM entries WHERE used < ?", (time.time() - _STALE_SECONDS,))
        except sqlite3.Error:
            pass

    def close(self) -> None:
        """Close the database."""
        if self._db is not None:
            self._db.close()
            self._db = None
