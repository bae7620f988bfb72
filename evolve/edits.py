"""Edits as values: what a provider (codemod catalog or LLM) proposes for one file."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from evolve.git.diffs import unified_diff


@dataclass(frozen=True)
class Change:
    """One edit a codemod made, for reports and findings."""

    codemod: str
    line: int
    description: str

    def to_dict(self) -> dict[str, Any]:
        """Serialise to a JSON-ready dict."""
        return asdict(self)


@dataclass(frozen=True)
class FileEdit:
    """The new content of one file, with where it came from and what changed."""

    path: str  # relative to the repository root
    before: str
    after: str
    source: str  # "codemods" or "llm"
    changes: tuple[Change, ...] = ()

    @property
    def changed(self) -> bool:
        """Whether the edit changes anything."""
        return self.before != self.after

    def diff(self) -> str:
        """A unified diff of this edit."""
        return unified_diff(self.path, self.before, self.after)

    def changed_line_count(self) -> int:
        """Lines added plus lines removed."""
        count = 0
        for line in self.diff().splitlines():
            if (line.startswith("+") and not line.startswith("+++")) or (
                line.startswith("-") and not line.startswith("---")
            ):
                count += 1
        return count

    def to_dict(self) -> dict[str, Any]:
        """Serialise without file contents (reports carry diffs, not whole files)."""
        return {
            "path": self.path,
            "source": self.source,
            "changes": [c.to_dict() for c in self.changes],
            "changed_lines": self.changed_line_count(),
        }


@dataclass(frozen=True)
class ProviderOutcome:
    """What one edit provider produced for one attempt."""

    provider: str
    edits: tuple[FileEdit, ...]
    notes: tuple[str, ...] = ()  # e.g. "fell back to claude-haiku-4-5", "rejected edit: …"
    usage: dict[str, Any] = field(default_factory=dict)  # tokens, estimated cost, models used
