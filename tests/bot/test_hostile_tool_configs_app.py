"""The App on a repository whose ruff configuration reaches for a host file (`extend = "/…"`, one of the App's
own data directory) and whose links escape the tree: end to end against the fake GitHub, nothing of the file
reaches GitHub or the stored run, the refusal is said in the PR, and the run ends with a clear result."""

from __future__ import annotations

import json
import subprocess

from bot.db import store
from tests.fakegithub.fixtures import BotWorld
from tests.fakegithub.sample_repo import PYPROJECT
from tests.repo_factory import GIT_ENV

SECRET = "APP-HOST-SECRET-5d21"


def _commit_link(world: BotWorld, path: str, target: str) -> None:
    """Add a symbolic link `path -> target` on the default branch of the fake's bare repository."""
    repo = world.repo
    index = repo.bare / "evolve-test-index"
    env = {**GIT_ENV, "GIT_INDEX_FILE": str(index)}

    def git(*args: str, stdin: bytes | None = None) -> str:
        done = subprocess.run(
            ["git", "--git-dir", str(repo.bare), *args], env=env, input=stdin, check=True, capture_output=True
        )
        return done.stdout.decode().strip()

    parent = git("rev-parse", f"refs/heads/{repo.default_branch}")
    git("read-tree", parent)
    blob = git("hash-object", "-w", "--stdin", stdin=target.encode())
    git("update-index", "--add", "--cacheinfo", f"120000,{blob},{path}")
    commit = git("commit-tree", git("write-tree"), "-p", parent, "-m", f"link {path}")
    git("update-ref", f"refs/heads/{repo.default_branch}", commit)
    index.unlink()


def _published(world: BotWorld) -> str:
    sent = [json.dumps([r.path, r.query, r.body]) for r in world.fake.requests]
    with world.ctx.db() as session:
        from bot.db.models import Run

        reports = [json.dumps(run.report) + (run.message or "") for run in session.query(Run).all()]
    return "\n".join(sent + reports).replace("\\", "")


def test_a_host_ruff_extend_and_escaping_links_never_reach_github(bot_world: BotWorld) -> None:
    fake, repo = bot_world.fake, bot_world.repo
    host_file = bot_world.settings.data_dir / "operator-notes.toml"  # a file of the App's own data directory
    host_file.write_text(f"{SECRET}\n")
    pyproject = PYPROJECT + f'\n[tool.ruff]\nextend = "{host_file}"\n\n[tool.ruff.lint]\nselect = ["F"]\n'
    fake.commit_files(repo, {"pyproject.toml": pyproject}, "ruff settings")
    _commit_link(bot_world, "h", ".")
    _commit_link(bot_world, ".ruff.toml", str(host_file))
    _commit_link(bot_world, "sample/notes.txt", "../h/h/../../../../../../../../../../.." + str(host_file))
    bot_world.install()
    bot_world.comment("alice", "/evolve run")

    (run,) = store.recent_runs(bot_world.ctx.db, BotWorld.REPO_ID)
    assert run.status == "succeeded", (run.status, run.message)  # ruff ran with Evolve's vetted settings
    published = _published(bot_world)
    assert SECRET not in published
    assert "refused: ruff `extend` in pyproject.toml names a file outside the repository" in published
    (pull,) = repo.pulls.values()
    assert "refused: ruff" in pull["body"].replace("\\", "")  # the PR's account of the project's rules says so
