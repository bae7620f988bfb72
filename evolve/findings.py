"""Findings and scan results: the values research produces and every later step consumes."""

from __future__ import annotations

import hashlib
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

Severity = Literal["info", "low", "medium", "high"]
SEVERITY_WEIGHT: dict[str, float] = {"info": 0.1, "low": 0.3, "medium": 0.6, "high": 0.9}

# The kinds of finding research produces. Each is a source a gate or a codemod can act on.
FindingKind = Literal["complexity", "maintainability", "docstring", "security", "coverage", "codemod", "size", "mutant"]


def stable_finding_id(kind: str, rule: str, path: str, symbol: str | None, discriminator: str = "") -> str:
    """Return an id that survives line shifts: it hashes what and where (file, symbol), never line numbers."""
    raw = "\x1f".join([kind, rule, path, symbol or "", discriminator])
    return hashlib.sha1(raw.encode("utf-8")).hexdigest()[:12]


@dataclass(frozen=True)
class Finding:
    """One thing research noticed: where it is, what it is, how much it matters."""

    id: str
    kind: str
    rule: str
    path: str
    line: int
    end_line: int
    symbol: str | None
    severity: str
    priority: float
    message: str
    data: dict[str, Any] = field(default_factory=dict, compare=False, hash=False)

    def to_dict(self) -> dict[str, Any]:
        """Serialise to a JSON-ready dict."""
        return asdict(self)

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> Finding:
        """Rebuild from :meth:`to_dict` output."""
        return cls(**raw)


@dataclass(frozen=True)
class FunctionMetrics:
    """Metrics of one function or method."""

    qualname: str
    line: int
    end_line: int
    complexity: int
    has_docstring: bool
    is_public: bool

    def to_dict(self) -> dict[str, Any]:
        """Serialise to a JSON-ready dict."""
        return asdict(self)


@dataclass(frozen=True)
class FileMetrics:
    """Metrics of one Python file."""

    path: str
    loc: int
    sloc: int
    comments: int
    maintainability: float
    functions: tuple[FunctionMetrics, ...]
    docstrings_covered: int
    docstrings_total: int

    def to_dict(self) -> dict[str, Any]:
        """Serialise to a JSON-ready dict."""
        return asdict(self)

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> FileMetrics:
        """Rebuild from :meth:`to_dict` output."""
        raw = dict(raw)
        raw["functions"] = tuple(FunctionMetrics(**f) for f in raw["functions"])
        return cls(**raw)


@dataclass(frozen=True)
class SkippedFile:
    """A file research could not analyse, and why (unparsable, binary, not UTF-8)."""

    path: str
    reason: str

    def to_dict(self) -> dict[str, Any]:
        """Serialise to a JSON-ready dict."""
        return asdict(self)


@dataclass(frozen=True)
class RepoMetrics:
    """Repository-wide totals, the numbers a PR's metrics table compares."""

    files: int
    loc: int
    sloc: int
    functions: int
    average_complexity: float
    max_complexity: int
    average_maintainability: float
    docstring_coverage: float  # percent, 0..100
    findings: int
    security_findings: int
    line_coverage: float | None = None  # percent, when coverage was measured

    def to_dict(self) -> dict[str, Any]:
        """Serialise to a JSON-ready dict."""
        return asdict(self)


@dataclass(frozen=True)
class ScanResult:
    """Everything `evolve scan` learns about one tree."""

    root: str
    files: tuple[FileMetrics, ...]
    findings: tuple[Finding, ...]
    skipped: tuple[SkippedFile, ...]
    totals: RepoMetrics
    # Per-file line coverage when measured: path -> sorted covered line numbers / executable lines.
    coverage: dict[str, dict[str, list[int]]] | None = field(default=None, compare=False, hash=False)
    cache_hits: int = 0
    cache_misses: int = 0
    # What the scan could not do (semgrep missing, tests failing...), in words a user can act on.
    notes: tuple[str, ...] = ()

    def file(self, path: str) -> FileMetrics | None:
        """Return the metrics of `path` (relative to root), if it was analysed."""
        for metrics in self.files:
            if metrics.path == path:
                return metrics
        return None

    def to_dict(self) -> dict[str, Any]:
        """Serialise to a JSON-ready dict (the `evolve scan --json` document)."""
        return {
            "root": self.root,
            "totals": self.totals.to_dict(),
            "files": [f.to_dict() for f in self.files],
            "findings": [f.to_dict() for f in self.findings],
            "skipped": [s.to_dict() for s in self.skipped],
            "coverage": self.coverage,
            "cache": {"hits": self.cache_hits, "misses": self.cache_misses},
            "notes": list(self.notes),
        }
