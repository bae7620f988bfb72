"""A worker process without the App's key completes a run end to end, its tokens minted by a web process.

Two real `evolve serve` processes share one database: `--role web` holds the key, the webhook secret and the
internal secret; `--role worker` holds only the internal secret and the web process's URL. The fake GitHub records
every token request: each is restricted to the one repository, and the run's token is revoked when it ends.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import httpx

from bot.github.client import RUN_PERMISSIONS
from tests.bot.live_server import base_env, live_server, server_log
from tests.fakegithub.payloads import comment_created, installation_created, signed
from tests.fakegithub.sample_repo import SAMPLE_FILES
from tests.fakegithub.server import FakeGitHub

INTERNAL_SECRET = "internal-" + "0a1b2c3d" * 6
WEBHOOK_SECRET = "hooksecret-two-processes"
INSTALLATION = 31337


def _wait(condition, what: str, timeout: float = 300.0) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.5)
    raise AssertionError(f"timed out waiting for {what}")


def test_a_keyless_worker_runs_end_to_end_through_the_web_token_service(tmp_path):
    with FakeGitHub(tmp_path / "fakegithub") as fake:
        fake.add_installation(INSTALLATION, "octo-org")
        repo = fake.add_repo("octo-org/sample", INSTALLATION, repo_id=90210)
        other = fake.add_repo("octo-org/other", INSTALLATION, repo_id=90211)
        fake.commit_files(repo, SAMPLE_FILES, "Initial commit")
        fake.commit_files(other, {"README.md": "x\n"}, "Initial commit")
        fake.set_permission(repo, "alice", "write")
        inherited = {k: v for k, v in os.environ.items() if k.startswith(("PIP_", "UV_"))}
        shared = {
            **base_env(tmp_path),
            **inherited,
            "EVOLVE_DATA_DIR": str(tmp_path / "data"),
            "EVOLVE_GITHUB_URL": fake.base_url,
            "EVOLVE_SWEEP_SECONDS": "0.5",
            "EVOLVE_INTERNAL_SECRET": INTERNAL_SECRET,
        }
        web_env = {
            **shared,
            "EVOLVE_APP_ID": str(fake.app_id),
            "EVOLVE_PRIVATE_KEY": fake.private_key,
            "EVOLVE_WEBHOOK_SECRET": WEBHOOK_SECRET,
        }
        with live_server(tmp_path, web_env, args=("--role", "web")) as web:
            worker_env = {**shared, "EVOLVE_TOKEN_SERVICE_URL": web.base}
            with live_server(tmp_path, worker_env, args=("--role", "worker")) as worker:
                environ = Path(f"/proc/{worker.process.pid}/environ").read_bytes()
                assert b"PRIVATE KEY" not in environ and INTERNAL_SECRET.encode() not in environ

                # the endpoint refuses anyone without the secret, and tokens for runs that do not exist
                url = f"{web.base}/internal/tokens"
                assert httpx.post(url, json={"run_id": 1}).status_code == 401
                forged = {"Authorization": "Bearer " + INTERNAL_SECRET[::-1]}
                assert httpx.post(url, json={"run_id": 1}, headers=forged).status_code == 401
                real = {"Authorization": f"Bearer {INTERNAL_SECRET}"}
                assert httpx.post(url, json={"run_id": 424242}, headers=real).status_code == 404
                # the worker serves no token endpoint at all
                assert httpx.post(f"{worker.base}/internal/tokens", json={"run_id": 1}, headers=real).status_code == 404

                def deliver(event: str, payload: dict) -> None:
                    body, headers = signed(payload, event, WEBHOOK_SECRET)
                    assert httpx.post(f"{web.base}/webhook", content=body, headers=headers).status_code == 202

                deliver("installation", installation_created(fake, INSTALLATION, [repo, other], "alice"))
                number = fake.add_issue(repo)
                deliver("issue_comment", comment_created(fake, repo, number, "alice", "/evolve run"))
                _wait(lambda: len(repo.pulls) == 1, "the pull request", timeout=400)
                _wait(
                    lambda: fake.comments(repo, number)[-1:] != [] and "Done" in fake.comments(repo, number)[-1],
                    "the reply",
                )
                web_log, worker_log = server_log(tmp_path, web), server_log(tmp_path, worker)

        (pull,) = repo.pulls.values()
        assert pull["head"].startswith("evolve/") and pull["state"] == "open"
        assert fake.comments(repo, number)[-1].startswith("Done: opened #"), fake.comments(repo, number)
        assert repo.reactions  # the delivery's reply work (the reaction) was done with a delivery token
        # every token GitHub minted named its repositories, never the whole installation: the installation
        # delivery's its two repositories (to open their dashboards), everything else only `sample`
        minted = fake.requests_to("POST", f"/app/installations/{INSTALLATION}/access_tokens")
        named = sorted(tuple(request.body.get("repositories") or ()) for request in minted)
        assert minted and all(named) and set(named) == {("other", "sample"), ("sample",)}, named
        pushing = [r.body for r in minted if r.body["permissions"].get("contents") == "write"]
        assert pushing == [{"repositories": ["sample"], "permissions": RUN_PERMISSIONS}]  # only the run's may push
        # the run's token was revoked when it ended, and was minted by the web process, not the worker
        assert fake.revoked_tokens
        assert "token service: minted a token for run" in web_log
        assert "minted a token" not in worker_log
        assert "PRIVATE KEY" not in worker_log
        assert "could not redraw the dashboard" not in worker_log, worker_log[worker_log.find("could not redraw") :][
            :3000
        ]
        assert "only for a run or a delivery" not in worker_log
