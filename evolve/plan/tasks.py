"""Plans: findings turned into one PR-sized, single-theme task set. Pure functions, no I/O."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

TaskKind = Literal["codemod", "docstring", "complexity", "tests", "mutant", "security"]
# The run history's name for the test-gap sample's score (a metric of base: the App stores it with each run).
TEST_GAPS_METRIC = "mutation score (test gaps)"


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
class GapSurvivor:
    """A surviving mutant of research's sample: where, in which function, and what no test noticed."""

    location: str  # `pkg/x.py:42`
    function: str
    sentence: str  # `no test distinguishes `<` from `<=` at `pkg/x.py:42``
    diff: str  # `pkg/x.py:42: - a < b + a <= b`

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready."""
        return {"location": self.location, "function": self.function, "sentence": self.sentence, "diff": self.diff}


@dataclass(frozen=True)
class TestGaps:
    """Research's mutation sample over the functions that matter most: counts, the score, the survivors; or why
    there is none (`note`)."""

    __test__ = False

    functions: int = 0  # functions sampled
    generated: int = 0
    killed: int = 0
    survived: int = 0
    timeout: int = 0
    not_run: int = 0  # out of budget, errors, or no verdict
    score: float | None = None  # killed + timed out, in % of those that ran to a verdict
    seconds: float = 0.0
    survivors: tuple[GapSurvivor, ...] = ()
    note: str = ""

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready."""
        return {
            "functions": self.functions,
            "generated": self.generated,
            "killed": self.killed,
            "survived": self.survived,
            "timeout": self.timeout,
            "not_run": self.not_run,
            "score": None if self.score is None else round(self.score, 2),
            "seconds": round(self.seconds, 2),
            "survivors": [survivor.to_dict() for survivor in self.survivors],
            "note": self.note,
        }

    @classmethod
    def from_dict(cls, raw: object) -> TestGaps | None:
        """Read a stored sample back (a run's report); None when absent or malformed."""
        if not isinstance(raw, dict):
            return None

        def count(key: str) -> int:
            value = raw.get(key)
            return value if isinstance(value, int) and value >= 0 else 0

        score = raw.get("score")
        seconds = raw.get("seconds")
        survivors = raw.get("survivors")
        return cls(
            functions=count("functions"),
            generated=count("generated"),
            killed=count("killed"),
            survived=count("survived"),
            timeout=count("timeout"),
            not_run=count("not_run"),
            score=float(score) if isinstance(score, (int, float)) and 0 <= score <= 100 else None,
            seconds=float(seconds) if isinstance(seconds, (int, float)) and seconds >= 0 else 0.0,
            survivors=tuple(
                GapSurvivor(*(str(item.get(key, "")) for key in ("location", "function", "sentence", "diff")))
                for item in (survivors if isinstance(survivors, list) else [])
                if isinstance(item, dict)
            ),
            note=str(raw.get("note", "")),
        )


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
    test_gaps: TestGaps | None = None  # research's mutation sample, when it was asked for

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
            "test_gaps": self.test_gaps.to_dict() if self.test_gaps is not None else None,
        }
