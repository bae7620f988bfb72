"""The App on a repository whose install step attacks the host, end to end against the fake GitHub: nothing on
the host's loopback is reached, the legitimate install still works, the run ends with a PR, the installation's
uv cache is its own, and what the bot publishes names the environment without host paths."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

from bot.db import store
from tests.environments.test_hostile_builds import ATTACK, Listener
from tests.fakegithub.fixtures import BotWorld

EVOLVE_YML = """\
gates:
  enabled: [syntax, tests]
  tests:
    install: ['python attack.py']
llm:
  enabled: false
"""


def test_a_hostile_install_reaches_nothing_on_the_host_and_the_run_still_opens_its_pr(bot_world: BotWorld) -> None:
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
