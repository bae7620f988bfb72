"""Base test runs cached on disk per (base commit, test command, environment), across attempts and runs.

A cached run stands in only for base's side of the comparison (and base's line coverage); it is never
trusted for anything else. Entries are plain JSON, written atomically, safe to share between workers.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

from evolve.sandbox.cancellation import stop_requested
from evolve.suites.runs import TestRun

CACHE_VERSION = 2  # 2: pytest continues past collection errors


def default_cache_dir() -> Path:
    """`$EVOLVE_CACHE_DIR/base-results`, else under `$XDG_CACHE_HOME/evolve` or `~/.cache/evolve`."""
    root = (os.environ.get("EVOLVE_CACHE_DIR") or "").strip()
    if not root:
        xdg = (os.environ.get("XDG_CACHE_HOME") or "").strip()
        root = str(Path(xdg) / "evolve") if xdg else "~/.cache/evolve"
    return Path(root).expanduser() / "base-results"


def environment_key(python: str, recorded: str = "") -> str:
    """What identifies the interpreter the tests run with: its path, what Evolve recorded when it probed it
    (`recorded`: version and implementation; Evolve's own: its sys.version) and its installed distributions.

    Read from Evolve's record and file names only: no file inside the environment (`pyvenv.cfg`) is read, and the
    interpreter (whose site-packages the repository may have written to) is never started for this.
    """
    executable = Path(python)
    prefix = executable.parent.parent
    site_dirs = [*prefix.glob("lib/python*/site-packages"), *prefix.glob("lib64/python*/site-packages")]
    if os.path.realpath(python) == os.path.realpath(sys.executable):
        site_dirs += [Path(entry) for entry in sys.path if entry.endswith(("site-packages", "dist-packages"))]
    installed: set[str] = set()
    for directory in site_dirs:
        if directory.is_dir():
            installed.update(
                entry.name for entry in directory.iterdir() if entry.suffix in (".dist-info", ".egg-info", ".pth")
            )
    digest = hashlib.sha256()
    digest.update(os.path.abspath(python).encode())
    digest.update((recorded or sys.version).encode())
    for name in sorted(installed):
        digest.update(b"\0" + name.encode())
    return digest.hexdigest()[:24]


def cache_key(base_sha: str, command: Sequence[str], environment: str, settings: Sequence[str] = ()) -> str:
    """The file name of a base run: a hash of everything its outcome depends on besides the tree."""
    document = json.dumps([CACHE_VERSION, base_sha, list(command), environment, list(settings)])
    return hashlib.sha256(document.encode()).hexdigest()


class BaseResultsCache:
    """A directory of cached base test runs, one JSON file per key."""

    def __init__(self, directory: Path | None = None) -> None:
        self.directory = directory or default_cache_dir()

    def load(self, key: str) -> TestRun | None:
        """The cached run for `key`, or None (missing, unreadable or from another version)."""
        try:
            document = json.loads((self.directory / f"{key}.json").read_text(encoding="utf-8"))
            if document.get("version") != CACHE_VERSION:
                return None
            return TestRun.from_dict(document["run"])
        except (OSError, ValueError, KeyError, TypeError):
            return None

    def store(self, key: str, run: TestRun) -> None:
        """Keep a finished run: not a timed-out one (that says more about the machine than the commit), nor one
        cut short because the run was asked to stop (Ctrl-C, a time limit), which would stand for base next time."""
        if run.timed_out or stop_requested():
            return
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            handle, temporary = tempfile.mkstemp(dir=self.directory, prefix=".tmp-", suffix=".json")
            with os.fdopen(handle, "w", encoding="utf-8") as stream:
                json.dump({"version": CACHE_VERSION, "run": run.to_dict()}, stream)
            os.replace(temporary, self.directory / f"{key}.json")
        except OSError:
            pass  # a cache that cannot be written only costs time
