"""The values a dashboard shows: frozen, built by `collect`, rendered by `body` (pure, no I/O)."""

from __future__ import annotations

from dataclasses import dataclass

from evolve.plan.tasks import TestGaps


@dataclass(frozen=True)
class PullLine:
    """One Evolve PR: its number, title (untrusted) and outcome (open, merged, closed)."""

    number: int
    title: str
    outcome: str
    when: str = ""  # YYYY-MM-DD of the outcome, when known


@dataclass(frozen=True)
class PlannedTheme:
    """One theme of the latest plan with its score; `skipped` when a maintainer blocked it."""

    theme: str
    score: float
    chosen: bool = False
    skipped: bool = False


@dataclass(frozen=True)
class RunLine:
    """One run in the queue or among the failures."""

    run_id: int
    trigger: str
    status: str
    theme: str = ""
    message: str = ""


@dataclass(frozen=True)
class AcceptanceLine:
    """What the bot learned about one codemod here."""

    codemod: str
    proposed: int
    merged: int
    closed: int
    acceptance: float


@dataclass(frozen=True)
class MetricTrend:
    """One metric's head value after each of the latest runs, oldest first: (run label, value)."""

    name: str
    points: tuple[tuple[str, float], ...]


@dataclass(frozen=True)
class DashboardView:
    """Everything one dashboard issue shows."""

    full_name: str
    paused: bool
    open_pulls: tuple[PullLine, ...] = ()
    closed_pulls: tuple[PullLine, ...] = ()  # newest first
    plan: tuple[PlannedTheme, ...] = ()
    queued: tuple[RunLine, ...] = ()
    failed: tuple[RunLine, ...] = ()
    acceptance: tuple[AcceptanceLine, ...] = ()
    limits: tuple[tuple[str, str], ...] = ()  # (setting, value in force)
    trends: tuple[MetricTrend, ...] = ()
    config_note: str = ""  # why the limits are the defaults (an invalid config file), untrusted
    test_gaps: TestGaps | None = None  # the newest run's mutation sample over the most important functions
    test_gaps_run: int | None = None  # the run that took it
    test_gap_trend: MetricTrend | None = None  # its score over the latest runs that took one


@dataclass(frozen=True)
class DashboardPages:
    """A rendered dashboard: the issue body and the bodies of its history comments, each under the limit."""

    body: str
    pages: tuple[str, ...] = ()
