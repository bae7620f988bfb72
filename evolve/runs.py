"""The one interface between callers (CLI, GitHub App) and the engine: options in, a report out."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from evolve.configuration.operator_limits import OperatorLimits
from evolve.edits import FileEdit
from evolve.environments.model import EnvironmentSettings
from evolve.plan.tasks import Plan
from evolve.results import GateResult, Metric
from evolve.run_status import RunStatus


@dataclass(frozen=True)
class CiFeedback:
    """The repository's CI failed on the change this run redoes: its evidence, and the attempts already spent.

    `result` is a failed `ci` gate result: `blame` holds the changed files the CI points at (annotations, paths in
    the failing log), `details` the failing checks and the end of their logs, capped and redacted. Attempts inside
    the gates and after CI count together (`attempts_used` of the run's `attempts`).
    """

    result: GateResult
    attempts_used: int


@dataclass(frozen=True)
class RunOptions:
    """How to run the engine on one checkout."""

    focus: str | None = None  # a theme or a codemod id to restrict the plan to
    dry_run: bool = False  # plan and edit, print the diff, make no branch or commit
    with_coverage: bool = False  # measure line coverage during research (runs the tests)
    # Research runs base's suite on the newest declared and oldest supported Python, records failing tests and
    # their causes, and plans the fix first (the CLI and the App turn it on).
    base_suites: bool = False
    # Research samples mutants over the functions that matter most and reports the test gaps they show
    # (`research.test_gaps`; `evolve plan|run --test-gaps`, the App's runs when its operator turns it on).
    test_gaps: bool = False
    llm: bool = False  # ask for the LLM stage (needs ANTHROPIC_API_KEY)
    branch_prefix: str = "evolve"
    base_ref: str = "HEAD"
    branch_name: str | None = None  # reuse this branch name (the bot updates the open PR of a theme)
    output_dir: Path | None = None  # where report.json/report.md go; default <git-dir>/evolve/runs/<id>
    run_id: str | None = None
    acceptance: Mapping[str, float] = field(default_factory=dict)  # codemod id -> learned acceptance
    blocked_codemods: frozenset[str] = frozenset()  # closed unmerged twice here; not proposed
    themes_to_skip: frozenset[str] = frozenset()  # e.g. themes with an open PR already at the limit
    set_branch: bool = True  # point the local branch at the commit (the App pushes it instead)
    work_dir: Path | None = None  # where the run's trees go (outside the repository); default evolve.sandbox.scratch
    # How the test environment is chosen or built (store, uv cache, network, index; the user's --python / .venv).
    environment: EnvironmentSettings = field(default_factory=EnvironmentSettings)
    # The operator's LLM key and upper limits; None: read from this process's environment (the CLI).
    operator: OperatorLimits | None = None
    # The repository's CI failed on the PR this run redoes (the App only): narrow away from it, hand it to the model.
    ci_feedback: CiFeedback | None = None
    # Who reads the report: the CLI's report.md offers no App commands; the App's PR body does.
    surface: Literal["cli", "app"] = "cli"


@dataclass(frozen=True)
class AttemptFeedback:
    """What the previous attempt's gates said, handed to providers for the next attempt."""

    attempt: int
    gate_results: tuple[GateResult, ...]
    previous_edits: tuple[FileEdit, ...]


@dataclass(frozen=True)
class AttemptRecord:
    """One attempt: the edits tried, the gate results, and how the change was narrowed after it."""

    number: int
    edits: tuple[FileEdit, ...]
    gate_results: tuple[GateResult, ...]
    narrowed: tuple[str, ...] = ()  # files dropped after this attempt
    note: str = ""
    provider_notes: tuple[str, ...] = ()
    proof: dict[str, Any] = field(default_factory=dict, hash=False)  # EditProof.to_dict(): hunks executed/proven

    @property
    def passed(self) -> bool:
        """Whether every gate let this attempt through."""
        return bool(self.edits) and all(result.ok for result in self.gate_results)

    def to_dict(self) -> dict[str, Any]:
        """Serialise to a JSON-ready dict."""
        return {
            "number": self.number,
            "passed": self.passed,
            "edits": [e.to_dict() for e in self.edits],
            "gates": [g.to_dict() for g in self.gate_results],
            "narrowed": list(self.narrowed),
            "note": self.note,
            "provider_notes": list(self.provider_notes),
            "proof": self.proof,
        }


@dataclass(frozen=True)
class RunReport:
    """Everything a run did; `markdown` is the PR body the bot posts."""

    run_id: str
    status: RunStatus
    repo: str
    base_sha: str | None
    plan: Plan | None
    attempts: tuple[AttemptRecord, ...] = ()
    branch: str | None = None
    commit: str | None = None
    metrics: tuple[Metric, ...] = ()
    resolved_findings: tuple[str, ...] = ()  # ids of findings present in base, gone in head
    new_findings: tuple[str, ...] = ()
    codemods: tuple[dict[str, Any], ...] = ()  # metadata of the codemods applied
    llm: dict[str, Any] = field(default_factory=dict)  # usage, cost, models, fallbacks
    diff: str = ""
    markdown: str = ""
    duration_seconds: float = 0.0
    message: str = ""  # one sentence for humans, e.g. why nothing was done
    report_dir: str | None = None
    # Seconds per phase: research, edits, gates, tests (the repository's own test time), overhead.
    timings: dict[str, float] = field(default_factory=dict)
    tests: dict[str, Any] = field(default_factory=dict)  # command, base/head counts, whether base was cached
    changed_code: tuple[dict[str, Any], ...] = ()  # ChangedCodeMetric.to_dict() of the changed files/functions
    # One line per rule source of the project Evolve followed (evolve/project_rules/sources.py).
    rules: tuple[str, ...] = ()
    # Which interpreter the suite ran with, how it was built or chosen, the install commands (or the failure).
    environment: dict[str, Any] = field(default_factory=dict)
    # The findings the change resolved or introduced: {"rule", "kind", "path", "change": "resolved" | "new"}.
    finding_changes: tuple[dict[str, Any], ...] = ()
    title: str = ""  # the change's title, from the edits it made (evolve/reports/titles.py)

    def __post_init__(self) -> None:
        # Callers may pass the plain word ("succeeded"); the report always holds the enum (ValueError otherwise).
        object.__setattr__(self, "status", RunStatus(self.status))

    @property
    def final_edits(self) -> tuple[FileEdit, ...]:
        """The edits of the last attempt."""
        return self.attempts[-1].edits if self.attempts else ()

    def to_dict(self) -> dict[str, Any]:
        """Serialise to the `report.json` document."""
        return {
            "run_id": self.run_id,
            "status": self.status.value,
            "message": self.message,
            "repo": self.repo,
            "base_sha": self.base_sha,
            "branch": self.branch,
            "commit": self.commit,
            "plan": self.plan.to_dict() if self.plan else None,
            "attempts": [a.to_dict() for a in self.attempts],
            "metrics": [m.to_dict() for m in self.metrics],
            "resolved_findings": list(self.resolved_findings),
            "new_findings": list(self.new_findings),
            "codemods": list(self.codemods),
            "llm": self.llm,
            "duration_seconds": round(self.duration_seconds, 3),
            "timings": {name: round(value, 3) for name, value in self.timings.items()},
            "tests": self.tests,
            "changed_code": list(self.changed_code),
            "report_dir": self.report_dir,
            "rules": list(self.rules),
            "environment": self.environment,
            "finding_changes": list(self.finding_changes),
            "title": self.title,
        }
