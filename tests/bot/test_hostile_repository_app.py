"""The App on a hostile repository, end to end against the fake GitHub.

Its tests poison every `.git` they can reach and write files to be committed; its test ids and messages carry
a live installation token and the webhook secret; a person pushes to Evolve's branch; the bot's mirror is
poisoned between runs. Nothing may escape, leak or be lost."""

from __future__ import annotations

import json
from pathlib import Path

from bot.db import store
from tests.engine.test_hostile_repository_cli import HOSTILE_CONFTEST, Listener
from tests.fakegithub.fixtures import BotWorld
from tests.fakegithub.sample_repo import SAMPLE_FILES

SECRETS_TEST = """
import pathlib

import pytest

TOKEN = {token!r}
WEBHOOK_SECRET = {secret!r}
SOURCE = pathlib.Path(__file__).resolve().parents[1] / "sample" / "__init__.py"
ORIGINAL = {original!r}


@pytest.mark.parametrize("value", [TOKEN, WEBHOOK_SECRET], ids=[TOKEN, WEBHOOK_SECRET])
def test_the_source_is_unchanged(value):
    assert SOURCE.read_text() == ORIGINAL, "leaking " + value
"""


def _published(world: BotWorld) -> str:
    """Everything the bot sent to GitHub (request bodies, paths, queries) and stored as its runs' reports."""
    sent = [json.dumps([r.path, r.query, r.body]) for r in world.fake.requests]
    with world.ctx.db() as session:
        from bot.db.models import Run

        reports = [json.dumps(run.report) + (run.message or "") for run in session.query(Run).all()]
    # Markdown escaping must not hide a leak from this check: compare without backslashes.
    return "\n".join(sent + reports).replace("\\", "")


def test_secrets_in_failing_test_ids_never_reach_github(bot_world: BotWorld) -> None:
    fake, repo = bot_world.fake, bot_world.repo
    token = fake.state.issue_token(BotWorld.INSTALLATION).value  # a live token of this installation
    secret = bot_world.settings.webhook_secret_value()
    assert secret
    files = {
        "tests/test_secrets.py": SECRETS_TEST.format(
            token=token, secret=secret, original=SAMPLE_FILES["sample/__init__.py"]
        )
    }
    fake.commit_files(repo, files, "a test that fails on any change, named after secrets")
    bot_world.install()
    payload = bot_world.comment("alice", "/evolve run")

    (run,) = store.recent_runs(bot_world.ctx.db, BotWorld.REPO_ID)
    assert run.status == "failed" and not repo.pulls  # every attempt broke the test: no PR
    reply = fake.comments(repo, payload["issue"]["number"])[-1].replace("\\", "")
    assert "test_the_source_is_unchanged" in reply  # the failure is reported ...
    published = _published(bot_world)
    assert token not in published and secret not in published  # ... without the secrets
    assert "[REDACTED-SECRET]" in published
    # the run's own token was scoped to this repository and revoked at the end
    minted = [r.body for r in fake.requests_to("POST", f"/app/installations/{BotWorld.INSTALLATION}/access_tokens")]
    scoped = [body for body in minted if body and body.get("repositories") == ["sample"]]
    assert scoped and scoped[0]["permissions"]["contents"] == "write"
    assert fake.requests_to("DELETE", "/installation/token")


def test_hostile_tests_a_poisoned_mirror_and_a_persons_push(bot_world: BotWorld, tmp_path: Path) -> None:
    fake, repo = bot_world.fake, bot_world.repo
    listener = Listener()
    try:
        mark = str(tmp_path / "escaped")
        conftest = HOSTILE_CONFTEST.format(checkout=str(repo.bare), mark=mark, port=listener.port)
        fake.commit_files(repo, {"conftest.py": conftest}, "hostile conftest")
        bare_config = (repo.bare / "config").read_bytes()
        bot_world.install()
        bot_world.comment("alice", "/evolve run")
        number, pull = next(iter(repo.pulls.items()))
        head = fake.state.head_sha(repo, pull["head"])
        (run,) = store.recent_runs(bot_world.ctx.db, BotWorld.REPO_ID)
        # the commit holds exactly the reported edits: no leak.txt, nothing else the tests wrote
        edited = {e["path"] for e in run.report["attempts"][-1]["edits"]}
        from tests.fakegithub.state import git

        assert set(git(repo.bare, "diff", "--name-only", f"main...{pull['head']}").split()) == edited
        assert "leak.txt" not in edited and "conftest.py" not in edited

        # a poisoned mirror (as if something had written to it) is discarded, not used; a person pushes to the PR
        mirror = Path(bot_world.settings.workdir) / "octo-org" / "sample.git"
        with open(mirror / "config", "a") as handle:
            handle.write(f'[url "http://127.0.0.1:{listener.port}/"]\n\tinsteadOf = http://\n')
        mine = fake.commit_files(repo, {"NOTES.md": "my own work\n"}, "a person's commit", branch=pull["head"])
        bot_world.comment("alice", "/evolve retry", number=number, on_pull=True)

        assert fake.state.head_sha(repo, pull["head"]) == mine  # the person's work was not overwritten
        assert "url." not in (mirror / "config").read_text()
        others = [p for n, p in repo.pulls.items() if n != number]
        assert others and others[0]["head"].startswith(pull["head"] + "-")  # a new branch and PR instead
        assert head != fake.state.head_sha(repo, others[0]["head"])
        assert "did not make" in fake.comments(repo, number)[-1].replace("\\", "")  # and the reply says why
        # nothing planted ran anywhere, nothing called the listener, the fake's repository is untouched
        assert not list(tmp_path.glob("escaped*")) and listener.received == []
        assert (repo.bare / "config").read_bytes() == bare_config
        assert not [p for p in (repo.bare / "hooks").glob("*") if not p.name.endswith(".sample")]
    finally:
        listener.close()
