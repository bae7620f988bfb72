"""A store filled the way a few weeks of work fill it, for the status-page tests: two installations, three
repositories, runs with reports, gate results and metrics, Evolve PRs merged, closed and open, deliveries."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

from bot.db import store
from bot.db.models import Delivery
from bot.db.run_request import RunRequest
from evolve.plan.tasks import TEST_GAPS_METRIC, GapSurvivor, TestGaps
from evolve.results import Metric

NOW = datetime.now(timezone.utc).replace(microsecond=0)
HOSTILE = '<script>alert("x")</script>'
# Per run of acme/widgets (oldest first): base values of the charted metrics.
COMPLEXITY = (6.5, 6.1, 6.3, 5.8, 5.6, 5.5, 5.2, 4.9)
MAINTAINABILITY = (61.0, 63.5, 62.75, 66.25, 67.5, 68.0, 70.0, 71.25)
DOCSTRINGS = (40.0, 45.0, 45.0, 52.5, 55.0, 57.5, 60.0, 64.0)
LINE_COVERAGE = (71.0, 73.0, 72.5, 74.5, 76.0, 77.25, 80.0, 81.5)
FINDINGS = (14.0, 11.0, 12.0, 9.0, 8.0, 6.0, 4.0, 3.0)
OUTCOMES = ("merged", "closed", "merged", "merged", "closed", "merged", None, "merged")
# Per run of acme/widgets: the test-gap sample's score (research's mutation sample of base).
GAP_SCORES = (52.5, 55.0, 61.25, 60.0, 66.0, 70.5, 72.0, 75.0)


@dataclass(frozen=True)
class StatusWorld:
    """Ids of what was stored."""

    acme: int  # installation of alice's repositories
    other: int  # an installation alice has nothing to do with
    widgets: int
    gadgets: int
    secret: int  # other/secret-plans: must never show to alice
    widget_runs: tuple[int, ...]
    secret_run: int
    queued_run: int


def test_gaps(index: int) -> TestGaps:
    """The sample a widgets run took: its score, and two survivors (one in a function with a hostile name)."""
    survivors = (
        GapSurvivor(
            "src/a.py:12",
            "parse",
            "no test distinguishes `<` from `<=` at `src/a.py:12`",
            "src/a.py:12: - n < 3 + n <= 3",
        ),
        GapSurvivor(
            "src/b.py:7",
            HOSTILE,
            "no test notices `log()` removed at `src/b.py:7`",
            "src/b.py:7: - log() + (call removed)",
        ),
    )
    return TestGaps(functions=10, generated=40, killed=30, survived=10, score=GAP_SCORES[index], survivors=survivors)


def _report(theme: str, passed: bool, pr_title: str = "", gaps: TestGaps | None = None) -> dict[str, Any]:
    gates = [
        {"gate": "tests", "status": "passed", "summary": "412 tests passed on base and head", "metrics": []},
        {
            "gate": "complexity",
            "status": "passed" if passed else "failed",
            "summary": "average complexity 6.1 → 5.8" if passed else "max complexity rose to 31",
            "metrics": [],
        },
    ]
    return {
        "status": "succeeded" if passed else "failed",
        "plan": {
            "theme": theme,
            "title": pr_title or f"Tidy {theme}",
            "score": 3.5,
            "alternatives": [],
            "test_gaps": gaps.to_dict() if gaps is not None else None,
        },
        "attempts": [{"number": 1, "passed": passed, "edits": [{"path": "src/a.py"}], "gates": gates, "note": ""}],
        "duration_seconds": 83.25,
    }


def _metrics(index: int) -> list[Metric]:
    return [
        Metric("average complexity", COMPLEXITY[index], COMPLEXITY[index] - 0.25, "lower"),
        Metric("max complexity", 20.0 - index, 19.0 - index, "lower"),
        Metric("average maintainability index", MAINTAINABILITY[index], MAINTAINABILITY[index] + 1, "higher"),
        Metric("docstring coverage", DOCSTRINGS[index], DOCSTRINGS[index] + 2, "higher", "%"),
        Metric("line coverage", LINE_COVERAGE[index], LINE_COVERAGE[index], "higher", "%"),
        Metric("findings", FINDINGS[index], FINDINGS[index] - 1, "lower"),
        Metric("security findings", 2.0, 1.0, "lower"),
        Metric(TEST_GAPS_METRIC, GAP_SCORES[index], None, "higher", "%"),
    ]


def fill(db: Any) -> StatusWorld:
    """Store the world; returns the ids the tests look for."""
    store.upsert_installation(db, 501, account_login="acme", account_type="Organization", repository_selection="all")
    store.upsert_installation(db, 502, account_login="other", account_type="Organization")
    store.upsert_repository(db, 9001, "acme/widgets", 501, private=False)
    store.upsert_repository(db, 9002, "acme/gadgets", 501)
    store.upsert_repository(db, 9003, "other/secret-plans", 502, private=True)
    store.set_repository_paused(db, 9002, True)
    widget_runs = []
    for index, outcome in enumerate(OUTCOMES):
        created = NOW - timedelta(days=7 * (len(OUTCOMES) - 1 - index), hours=2)
        run, _ = store.create_run(db, RunRequest(9001, "schedule"))
        pr_number = 40 + index
        store.update_run(db, run.id, created_at=created, started_at=created + timedelta(minutes=1))
        store.finish_run(
            db,
            run.id,
            "succeeded",
            report=_report("unused-imports" if index % 2 else "modern-annotations", True, gaps=test_gaps(index)),
            pr_number=pr_number,
            theme="unused-imports" if index % 2 else "modern-annotations",
            message="opened a pull request",
        )
        store.update_run(db, run.id, finished_at=created + timedelta(minutes=4))
        store.record_metrics(db, run.id, _metrics(index))
        if outcome is not None:
            store.record_outcome(db, 9001, pr_number, ["unused-imports"], outcome, run_id=run.id)
        widget_runs.append(run.id)
    failed, _ = store.create_run(db, RunRequest(9002, "comment", requested_by="alice", focus=HOSTILE))
    store.finish_run(db, failed.id, "failed", report=_report(HOSTILE, False), message=f"gates failed: {HOSTILE}")
    queued, _ = store.create_run(db, RunRequest(9001, "comment", requested_by="alice"))
    secret, _ = store.create_run(db, RunRequest(9003, "schedule"))
    store.finish_run(
        db, secret.id, "succeeded", report=_report("secret-theme", True), pr_number=7, theme="secret-theme"
    )
    with db.begin() as session:
        for n, status in enumerate(("queued", "queued", "processed", "failed")):
            session.add(
                Delivery(
                    delivery_id=f"d-{n}", event="issue_comment", action="created", installation_id=501, status=status
                )
            )
    return StatusWorld(501, 502, 9001, 9002, 9003, tuple(widget_runs), secret.id, queued.id)
