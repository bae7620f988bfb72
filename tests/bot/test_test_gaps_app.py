"""Test gaps through the App: with `EVOLVE_TEST_GAPS` a run's research takes a mutation sample, the run history keeps
its score, and the dashboard issue (fake GitHub) lists its survivors and, once two runs took one, charts the score."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from pydantic import SecretStr

from bot.dashboard.handlers import refresh_dashboard
from bot.db import store
from bot.db.models import MetricSnapshot, Run
from evolve.plan.tasks import TEST_GAPS_METRIC, GapSurvivor, TestGaps
from tests.fakegithub.fixtures import BotWorld
from tests.fakegithub.sample_repo import SAMPLE_FILES
from tests.fakegithub.server import FakeGitHub


@pytest.fixture
def gaps_world(tmp_path: Path, make_settings, app_factory) -> Iterator[BotWorld]:  # type: ignore[no-untyped-def]
    """The fake GitHub and the real app, with the operator's test gaps turned on."""
    with FakeGitHub(tmp_path / "fakegithub") as fake:
        fake.add_installation(BotWorld.INSTALLATION, BotWorld.OWNER)
        repo = fake.add_repo(f"{BotWorld.OWNER}/sample", BotWorld.INSTALLATION, repo_id=BotWorld.REPO_ID)
        fake.commit_files(repo, SAMPLE_FILES, "Initial commit")
        fake.set_permission(repo, "alice", "write")
        settings = make_settings(
            app_id=str(fake.app_id), private_key=SecretStr(fake.private_key), github_url=fake.base_url, test_gaps=True
        )
        yield BotWorld(fake, app_factory(settings=settings), settings, repo)


def _dashboard(world: BotWorld) -> str:
    return next(issue["body"] for issue in world.repo.issues.values() if "<!-- evolve:dashboard -->" in issue["body"])


def test_a_run_takes_a_sample_keeps_its_score_and_the_dashboard_lists_the_gaps(gaps_world: BotWorld) -> None:
    gaps_world.install()
    gaps_world.comment("alice", "/evolve run")
    (run,) = store.recent_runs(gaps_world.ctx.db, BotWorld.REPO_ID)
    gaps = TestGaps.from_dict((run.report or {})["plan"]["test_gaps"])
    assert gaps is not None and gaps.generated > 0 and gaps.score is not None, gaps
    with gaps_world.ctx.db() as session:
        stored = session.query(MetricSnapshot).filter_by(run_id=run.id, name=TEST_GAPS_METRIC).one()
    assert (stored.base, stored.head, stored.unit) == (pytest.approx(gaps.score), None, "%")
    body = _dashboard(gaps_world)
    section = body.split("## Test gaps", 1)[1].split("\n## ", 1)[0]
    assert f"Run {run.id}: (a mutation sample of the most important tested functions):" in section
    assert f"over {gaps.functions} function" in section
    for survivor in gaps.survivors:
        assert f"- `{survivor.location}` in `{survivor.function}`:" in section
    assert "xychart-beta" not in section  # one run: no trend yet


def test_the_dashboard_charts_the_score_over_runs(gaps_world: BotWorld) -> None:
    gaps_world.install()
    token = "ghp_" + "a" * 36
    hostile = GapSurvivor("sample/x.py:3", "f", "s", f"sample/x.py:3: - a < b @alice + a <= b {token}")
    with gaps_world.ctx.db.begin() as session:
        for index, score in enumerate((40.0, 55.5, 70.0)):
            gaps = TestGaps(functions=3, generated=10, killed=4, survived=6, score=score, survivors=(hostile,))
            run = Run(repository_id=BotWorld.REPO_ID, trigger="schedule", status="nothing-to-do" if index else "failed")
            run.report = {"plan": {"theme": "", "score": 0, "alternatives": [], "test_gaps": gaps.to_dict()}}
            session.add(run)
            session.flush()
            session.add(MetricSnapshot(run_id=run.id, name=TEST_GAPS_METRIC, base=score, head=None, unit="%"))
    gaps_world.client.portal.call(refresh_dashboard, gaps_world.ctx, BotWorld.REPO_ID)
    section = _dashboard(gaps_world).split("## Test gaps", 1)[1].split("\n## ", 1)[0]
    assert "10 mutants over 3 functions: 4 killed, 6 survived, 0 timed out; score 70%" in section
    # A survivor's code is shown only inside a code span (no mention, link or HTML works there), redacted.
    assert "- `sample/x.py:3` in `f`: `- a < b @alice + a <= b " in section and token not in section
    assert "@alice" not in re.sub(r"`[^`]*`", "", section)
    chart = re.search(r"```mermaid\nxychart-beta\n(.*?)```", section, re.S)
    assert chart is not None and "line [40.00, 55.50, 70.00]" in chart.group(1)
