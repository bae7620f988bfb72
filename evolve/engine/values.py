"""The frozen values the engine's steps pass along: what a run fixes up front, what each step produced."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from evolve.configuration.model import EvolveConfig
from evolve.edits import FileEdit
from evolve.engine.attempts import AttemptOutcome, BaseMeasurements
from evolve.environments.model import Environment
from evolve.findings import ScanResult
from evolve.git.trust import Repository
from evolve.plan.tasks import Plan
from evolve.project_rules import ProjectRules
from evolve.results import GateResult
from evolve.run_status import RunStatus
from evolve.runs import AttemptRecord, RunOptions, RunReport
from evolve.sandbox.cancellation import check as check_cancelled

if TYPE_CHECKING:
    from evolve.engine.providers import CodemodProvider
    from evolve.llm.provider import LLMProvider
    from evolve.mutation.kill_proof import TestVerdict

Progress = Callable[[str, int, int], None]


@dataclass(frozen=True)
class RunRequest:
    """What the caller asked for, once the repository is open and a private run directory exists."""

    repository: Repository
    base_sha: str
    run_dir: Path
    run_id: str
    options: RunOptions
    config: EvolveConfig | None = None  # None: the repository's own configuration
    progress: Progress | None = None


@dataclass(frozen=True)
class RunSetup:
    """A run's fixed inputs: the exported base tree, where head goes, the configuration in force."""

    repository: Repository
    base_sha: str
    run_id: str
    base: Path
    head: Path
    options: RunOptions
    config: EvolveConfig
    # The project's tool settings, read from base once per run: planning, formatting and the gates share them.
    rules: ProjectRules = field(default_factory=ProjectRules)
    progress: Progress | None = None

    def say(self, stage: str, done: int, total: int) -> None:
        """Report progress, when someone listens; stop here when the run was asked to stop."""
        check_cancelled()
        if self.progress:
            self.progress(stage, done, total)


@dataclass(frozen=True)
class LlmStage:
    """The LLM provider of the run (None: deterministic catalog only) and what the report says about it."""

    provider: LLMProvider | None = None
    notes: tuple[str, ...] = ()

    def noted(self, note: str) -> LlmStage:
        """The same stage with one more note."""
        return replace(self, notes=(*self.notes, note))

    def notes_only(self) -> dict[str, Any]:
        """The report's `llm` field before any edit was asked for: the notes, if any."""
        return {"notes": list(self.notes)} if self.notes else {}

    def info(self) -> dict[str, Any]:
        """The report's `llm` field: usage so far (read now, from the provider) and the notes."""
        if self.provider is None:
            return self.notes_only()
        return {"usage": self.provider.usage_summary(), "notes": list(self.notes)}


@dataclass(frozen=True)
class ReportBasis:
    """The RunReport fields every outcome of a planned run shares; timings grow as steps finish."""

    run_id: str
    repo: str
    base_sha: str
    plan: Plan | None
    timings: tuple[tuple[str, float], ...] = ()
    rules: tuple[str, ...] = ()
    environment: Mapping[str, Any] = field(default_factory=dict, hash=False)

    def timed(self, name: str, seconds: float) -> ReportBasis:
        """The basis with timing `name` set to `seconds` (kept in the order timings were first set)."""
        timings = dict(self.timings)
        timings[name] = seconds
        return replace(self, timings=tuple(timings.items()))

    def add_time(self, name: str, seconds: float) -> ReportBasis:
        """The basis with `seconds` added to timing `name`."""
        return self.timed(name, dict(self.timings).get(name, 0.0) + seconds)

    def report(self, status: RunStatus, message: str, **rest: Any) -> RunReport:
        """A RunReport with these shared fields, `status`, `message` and any other fields."""
        return RunReport(
            run_id=self.run_id,
            status=status,
            repo=self.repo,
            base_sha=self.base_sha,
            plan=self.plan,
            timings=dict(self.timings),
            rules=self.rules,
            environment=dict(self.environment),
            message=message,
            **rest,
        )


@dataclass(frozen=True)
class Researched:
    """Research's result: the base scan, the plan made from it and the report fields known so far."""

    scan: ScanResult
    plan: Plan
    basis: ReportBasis
    environment: Environment | None = None  # base's test environment, when research built it


@dataclass(frozen=True)
class Proposal:
    """The edits a provider proposed for the plan (changed files only) and its notes."""

    plan: Plan
    codemod_plan: bool  # every task is a codemod: failures narrow the edits instead of asking again
    provider: CodemodProvider | LLMProvider
    edits: tuple[FileEdit, ...]
    notes: tuple[str, ...] = ()
    test_verdicts: tuple[TestVerdict, ...] = ()  # a `tests` plan's proposed test files: kept, or rejected and why


@dataclass(frozen=True)
class Drafted:
    """The first proposal, with the LLM stage and report basis as they stand after it."""

    proposal: Proposal
    llm: LlmStage
    basis: ReportBasis


@dataclass(frozen=True)
class LoopState:
    """Where the attempt loop stands: the edits to try next, the attempts made, the last gates' verdicts."""

    edits: tuple[FileEdit, ...]
    provider_notes: tuple[str, ...] = ()
    attempts: tuple[AttemptRecord, ...] = ()
    test_verdicts: tuple[TestVerdict, ...] = ()  # the latest proposal's, for the report
    last_results: tuple[GateResult, ...] = ()
    head_test_seconds: float = 0.0


Verdict = Literal["cannot-check", "unprovable", "passed", "narrowed", "ask-again"]


@dataclass(frozen=True)
class Judged:
    """One attempt judged: what happens next, and the loop's state after it."""

    verdict: Verdict
    state: LoopState
    message: str = ""  # why the run ends, when base's suite cannot start or a gate cannot check

    @property
    def ends_loop(self) -> bool:
        """Whether no further attempt follows."""
        return self.verdict in ("cannot-check", "unprovable", "passed")


@dataclass(frozen=True)
class LoopEnd:
    """How the attempt loop ended: its last state and verdict, the passing attempt's outcome if one passed."""

    state: LoopState
    basis: ReportBasis
    verdict: Verdict | None = None  # None: out of attempts or of edits
    passed: AttemptOutcome | None = None
    message: str = ""


@dataclass(frozen=True)
class Measured:
    """The base environment is built: the measurements attempts share, and the report basis with its report."""

    measured: BaseMeasurements
    basis: ReportBasis


@dataclass(frozen=True)
class Ending:
    """What a run's ending reports besides the loop: the base scan, the shared measurements, the LLM stage and the
    installed codemods' metadata by id."""

    scan: ScanResult
    measured: BaseMeasurements
    llm: LlmStage
    catalog: Mapping[str, dict[str, Any]] = field(default_factory=dict, hash=False)
    # Head's suite on each Python base's ran on in research: the tests turned green, by id (for the PR's text).
    suite_proof: tuple[str, ...] = ()
