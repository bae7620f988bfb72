"""Learning from reviews: per repository and codemod, how often proposals were merged or closed.

The rate functions are pure; `LearningStore` keeps the counts in a small SQLite file for the CLI.
The GitHub App keeps the same counts in its own database and calls the same rate functions.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

Outcome = Literal["proposed", "merged", "closed"]
# Closed unmerged this many times in one repository → not proposed there again until re-enabled.
BLOCK_AFTER_CLOSED = 2


def acceptance_rate(merged: int, closed: int) -> float:
    """Laplace-smoothed share of merged proposals: 0.5 with no history, towards 1 or 0 with evidence."""
    if merged < 0 or closed < 0:
        raise ValueError("counts cannot be negative")
    return (merged + 1) / (merged + closed + 2)


def is_blocked(closed_unmerged: int, reenabled: bool = False) -> bool:
    """Whether a codemod is blocked in a repository: closed unmerged twice, and not re-enabled in config."""
    return closed_unmerged >= BLOCK_AFTER_CLOSED and not reenabled


@dataclass(frozen=True)
class CodemodStats:
    """Counts for one codemod in one repository."""

    repository: str
    codemod: str
    proposed: int
    merged: int
    closed: int

    @property
    def acceptance(self) -> float:
        """The learned acceptance rate."""
        return acceptance_rate(self.merged, self.closed)


def default_store_path() -> Path:
    """`$EVOLVE_DATA_DIR/learning.sqlite`, else under `$XDG_DATA_HOME/evolve` or `~/.local/share/evolve`."""
    base = os.environ.get("EVOLVE_DATA_DIR") or os.path.join(
        os.environ.get("XDG_DATA_HOME") or os.path.expanduser("~/.local/share"), "evolve"
    )
    return Path(base) / "learning.sqlite"


class LearningStore:
    """A small SQLite table of proposed/merged/closed counts per repository and codemod."""

    def __init__(self, path: Path | None = None) -> None:
        self.path = path or default_store_path()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self._connect() as db:
            db.execute(
                "CREATE TABLE IF NOT EXISTS codemod_outcomes ("
                " repository TEXT NOT NULL, codemod TEXT NOT NULL,"
                " proposed INTEGER NOT NULL DEFAULT 0, merged INTEGER NOT NULL DEFAULT 0,"
                " closed INTEGER NOT NULL DEFAULT 0, PRIMARY KEY (repository, codemod))"
            )

    def _connect(self) -> sqlite3.Connection:
        return sqlite3.connect(self.path, timeout=30)

    def record(self, repository: str, codemods: Iterable[str], outcome: Outcome) -> None:
        """Add one outcome for each codemod."""
        if outcome not in ("proposed", "merged", "closed"):
            raise ValueError(f"unknown outcome {outcome!r}")
        with self._connect() as db:
            for codemod in sorted(set(codemods)):
                db.execute(
                    "INSERT INTO codemod_outcomes (repository, codemod) VALUES (?, ?) ON CONFLICT DO NOTHING",
                    (repository, codemod),
                )
                db.execute(
                    f"UPDATE codemod_outcomes SET {outcome} = {outcome} + 1 WHERE repository = ? AND codemod = ?",
                    (repository, codemod),
                )

    def stats(self, repository: str) -> list[CodemodStats]:
        """All counts for one repository, sorted by codemod id."""
        with self._connect() as db:
            rows = db.execute(
                "SELECT codemod, proposed, merged, closed FROM codemod_outcomes WHERE repository = ? ORDER BY codemod",
                (repository,),
            ).fetchall()
        return [CodemodStats(repository, *row) for row in rows]

    def acceptance(self, repository: str) -> dict[str, float]:
        """Learned acceptance per codemod in one repository."""
        return {s.codemod: s.acceptance for s in self.stats(repository)}

    def blocked(self, repository: str, reenabled: Iterable[str] = ()) -> frozenset[str]:
        """Codemods closed unmerged twice in this repository and not re-enabled."""
        allowed = set(reenabled)
        return frozenset(s.codemod for s in self.stats(repository) if is_blocked(s.closed, s.codemod in allowed))
