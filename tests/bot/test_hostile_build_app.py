"""The App on a repository whose install step attacks the host, end to end against the fake GitHub: nothing on
the host's loopback is reached, the legitimate install still works, the run ends with a PR, the installation's
uv cache is its own, and what the bot publishes names the environment without host paths."""

from __future__ import annotations

import json
import os
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from pydantic import SecretStr
from sqlalchemy import create_engine, text

from bot.db import store
from tests.environments.test_hostile_builds import ATTACK, Listener
from tests.fakegithub.fixtures import BotWorld
from tests.fakegithub.sample_repo import SAMPLE_FILES
from tests.fakegithub.server import FakeGitHub

SERVER = "postgresql+psycopg://postgres@127.0.0.1:5432"

EVOLVE_YML = """\
gates:
  enabled: [syntax, tests]
  tests:
    install: ['python attack.py']
llm:
  enabled: false
"""


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest) -> Iterator[str]:
    """ "" (SQLite in the data directory), or a fresh PostgreSQL database dropped afterwards."""
    if request.param == "sqlite":
        yield ""
        return
    name = f"evolve_test_{uuid.uuid4().hex[:10]}"
    admin = create_engine(f"{SERVER}/test", isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    yield f"postgresql://postgres@127.0.0.1:5432/{name}"
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture
def world(database_url: str, tmp_path: Path, make_settings, app_factory) -> Iterator[BotWorld]:  # type: ignore[no-untyped-def]
    """`bot_world` on the given database."""
    with FakeGitHub(tmp_path / "fakegithub") as fake:
        fake.add_installation(BotWorld.INSTALLATION, BotWorld.OWNER)
        repo = fake.add_repo(f"{BotWorld.OWNER}/sample", BotWorld.INSTALLATION, repo_id=BotWorld.REPO_ID)
        fake.commit_files(repo, SAMPLE_FILES, "Initial commit")
        fake.set_permission(repo, "alice", "write")
        settings = make_settings(
            app_id=str(fake.app_id),
            private_key=SecretStr(fake.private_key),
            github_url=fake.base_url,
            database_url=database_url,
        )
        yield BotWorld(fake, app_factory(settings=settings), settings, repo)


def test_a_hostile_install_reaches_nothing_on_the_host_and_the_run_still_opens_its_pr(world: BotWorld) -> None:
    bot_world = world
    fake, repo = bot_world.fake, bot_world.repo
    listener = Listener()
    try:
        files = {"attack.py": ATTACK.format(port=listener.port), ".github/evolve.yml": EVOLVE_YML}
        fake.commit_files(repo, files, "an install step that tries the host's services")
        bot_world.install()
        bot_world.comment("alice", "/evolve run")
        (run,) = store.recent_runs(bot_world.ctx.db, BotWorld.REPO_ID)
        assert listener.accepted == 0
        assert run.status == "succeeded" and repo.pulls, run.message
        environment = run.report["environment"]
        assert environment["kind"] == "built" and environment["python"] == f"envs/{environment['key']}/bin/python"
        data_dir = str(Path(bot_world.settings.data_dir))
        # Nothing sent to GitHub (PR body, check runs, replies) names a host path; the stored report's environment
        # neither.
        sent = json.dumps([[r.path, r.body] for r in bot_world.fake.requests]) + json.dumps(environment)
        leaks = [sent[max(0, i - 200) : i + 100] for i in [sent.find(data_dir)] if i >= 0]
        assert not leaks, leaks
        assert os.path.dirname(os.path.realpath(sys.executable)) not in sent  # the interpreter under a home
        assert f"envs/{environment['key']}" in json.dumps([r.body for r in bot_world.fake.requests])
        caches = list((Path(data_dir) / "uv-cache").iterdir())
        assert [c.name.startswith(f"installation-{BotWorld.INSTALLATION}-") for c in caches] == [True]
    finally:
        listener.server.close()
