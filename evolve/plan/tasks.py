"""Plans: findings turned into one PR-sized, single-theme task set. Pure functions, no I/O."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

TaskKind = Literal["codemod", "docstring", "complexity", "tests", "mutant", "security"]


@dataclass(frozen=True)
class Task:
    """One unit of work: a codemod over a file, or an LLM task on a symbol."""

    kind: TaskKind
    path: str
    codemod: str | None = None  # for kind == "codemod"
    symbol: str | None = None  # qualname for LLM tasks
    finding_ids: tuple[str, ...] = ()
    priority: float = 0.0
    estimated_lines: int = 1

    def to_dict(self) -> dict[str, Any]:
        """Serialise to a JSON-ready dict."""
        return {
            "kind": self.kind,
            "path": self.path,
            "codemod": self.codemod,
            "symbol": self.symbol,
            "finding_ids": list(self.finding_ids),
            "priority": round(self.priority, 4),
            "estimated_lines": self.estimated_lines,
        }


@dataclass(frozen=True)
class Plan:
    """The chosen theme and its tasks, within the size limits."""

    theme: str
    title: str
    tasks: tuple[Task, ...]
    score: float
    alternatives: tuple[tuple[str, float], ...] = ()  # other themes and their scores
    dropped: int = 0  # tasks left out by size limits
    notes: tuple[str, ...] = field(default=())
    red_tests: tuple[str, ...] = ()  # tests failing on base (`3.13: tests/test_a.py::test_b`) the tasks fix
    base_suites: tuple[str, ...] = ()  # what base's suites showed, per Python, for people (research's lines)

    @property
    def empty(self) -> bool:
        """Whether there is nothing to do."""
        return not self.tasks

    @property
    def files(self) -> tuple[str, ...]:
        """The files the plan touches, sorted."""
        return tuple(sorted({task.path for task in self.tasks}))

    @property
    def codemod_ids(self) -> tuple[str, ...]:
        """The codemods the plan uses, sorted."""
        return tuple(sorted({task.codemod for task in self.tasks if task.codemod}))

    def to_dict(self) -> dict[str, Any]:
        """Serialise to a JSON-ready dict."""
        return {
            "theme": self.theme,
            "title": self.title,
            "score": round(self.score, 4),
            "tasks": [t.to_dict() for t in self.tasks],
            "files": list(self.files),
            "codemods": list(self.codemod_ids),
            "alternatives": [{"theme": t, "score": round(s, 4)} for t, s in self.alternatives],
            "dropped": self.dropped,
            "notes": list(self.notes),
            "red_tests": list(self.red_tests),
            "base_suites": list(self.base_suites),
        }
