"""See the GitHub App work without GitHub, in about half a minute, from a source checkout:

    .venv/bin/python scripts/demo_app.py                 # ends by itself; leaves nothing running
    .venv/bin/python scripts/demo_app.py --keep 300      # ... after 5 minutes in which the pages can be opened

It starts the fake GitHub the tests use (`tests/fakegithub`: the REST endpoints the App calls, app JWTs,
installation tokens, real git repositories over HTTP), installs the App on a sample repository there, starts the real
App (`evolve serve`, its own process) pointed at it, sends a signed `/evolve run` comment, waits for the App's
reply, and prints where to look: the reply, the pull request (its body, branch, labels and check run), the dashboard
issue, and the status pages with a one-time operator token. Everything lives in a temporary directory that is
removed at the end (`--output DIR` keeps the PR body, the dashboard and the status pages' HTML there).
"""

from __future__ import annotations

import argparse
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))  # tests.fakegithub: the fake GitHub of the test suite, from this checkout

import httpx  # noqa: E402

from tests.fakegithub.payloads import comment_created, installation_created, signed  # noqa: E402
from tests.fakegithub.sample_repo import SAMPLE_FILES  # noqa: E402
from tests.fakegithub.server import FakeGitHub  # noqa: E402
from tests.fakegithub.state import FakeRepo  # noqa: E402

INSTALLATION = 31337
OWNER = "octo-org"
WEBHOOK_SECRET = "demo-webhook-secret"
USER = "alice"


def _say(text: str = "") -> None:
    print(text, flush=True)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait(what: str, ready: Any, timeout: float, app: subprocess.Popen[bytes] | None = None) -> None:
    deadline = time.monotonic() + timeout
    while not ready():
        if app is not None and app.poll() is not None:
            raise SystemExit(f"demo: the App exited (code {app.returncode}) while waiting for {what}; see its log")
        if time.monotonic() > deadline:
            raise SystemExit(f"demo: gave up waiting for {what} after {timeout:.0f} s")
        time.sleep(0.2)


def _ready(url: str) -> bool:
    try:
        return httpx.get(f"{url}/readyz", timeout=1).status_code == 200
    except httpx.HTTPError:
        return False


def _deliver(app_url: str, event: str, payload: dict[str, Any]) -> None:
    body, headers = signed(payload, event, WEBHOOK_SECRET)
    answer = httpx.post(f"{app_url}/webhook", content=body, headers=headers, timeout=10)
    if answer.status_code != 202:
        raise SystemExit(f"demo: the App answered {answer.status_code} to the {event} delivery: {answer.text[:200]}")


def _app_environment(fake: FakeGitHub, work: Path, operator_token: str) -> dict[str, str]:
    kept = ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR", "UV_INDEX_URL", "PIP_INDEX_URL", "EVOLVE_ALLOW_UNSANDBOXED")
    env = {key: os.environ[key] for key in kept if key in os.environ}
    env.update(
        EVOLVE_APP_ID=str(fake.app_id),
        EVOLVE_PRIVATE_KEY=fake.private_key,
        EVOLVE_WEBHOOK_SECRET=WEBHOOK_SECRET,
        EVOLVE_GITHUB_URL=fake.base_url,
        EVOLVE_GITHUB_WEB_URL=fake.base_url,
        EVOLVE_DATA_DIR=str(work / "app-data"),
        EVOLVE_OPERATOR_TOKEN=operator_token,
        EVOLVE_SWEEP_SECONDS="1",
    )
    return env


def _status_pages(app_url: str, operator_token: str, output: Path) -> list[str]:
    """Sign in with the operator token and save each status page; the paths saved."""
    saved = []
    with httpx.Client(base_url=app_url, timeout=10) as client:
        client.post(
            "/status/login/token",
            content=f"token={operator_token}&next=/status",
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )
        for name, path in (("overview", "/status"), ("queue", "/status/queue"), ("runs", "/status/runs")):
            page = client.get(path)
            if page.status_code == 200:
                (output / f"status-{name}.html").write_text(page.text, encoding="utf-8")
                saved.append(str(output / f"status-{name}.html"))
    return saved


def _report(fake: FakeGitHub, repo: FakeRepo, issue: int, output: Path, kept: bool) -> tuple[bool, list[str]]:
    """Print what the App did; (whether it opened a PR, lines to show)."""
    lines: list[str] = []
    replies = [c for c in repo.issue_comments(issue) if c["user"] != USER]
    reply = replies[-1]["body"] if replies else "(no reply)"
    lines.append(f"The reply on issue #{issue} (to {USER}'s `/evolve run`):")
    said = [line for line in reply.splitlines() if line.strip() and not line.lstrip().startswith("<!--")]
    lines += [f"    {line}" for line in said[:6]]
    lines.append(f"    API: {fake.base_url}/repos/{repo.full_name}/issues/{issue}/comments")
    pulls = [(number, pull) for number, pull in sorted(repo.pulls.items()) if pull["state"] == "open"]
    if pulls:
        number, pull = pulls[-1]
        body = output / f"pull-{number}.md"
        body.write_text(pull.get("body") or "", encoding="utf-8")
        checks = [(c["name"], c.get("conclusion")) for c in repo.check_runs.values() if c.get("head_sha")]
        lines += [
            "",
            f"The pull request #{number}: {pull.get('title')}",
            f"    branch {pull['head']} -> {pull['base']}; labels: {', '.join(repo.issue_labels.get(number, []))}",
            f"    check runs: {', '.join(f'{name} {conclusion}' for name, conclusion in checks)}",
            f"    body: {body if kept else '(--output DIR keeps it)'}",
            f"    API: {fake.base_url}/repos/{repo.full_name}/pulls/{number}",
        ]
    dashboards = [n for n, issue_ in repo.issues.items() if "dashboard" in str(issue_.get("title", "")).lower()]
    if dashboards:
        number = dashboards[0]
        saved = output / f"dashboard-issue-{number}.md"
        saved.write_text(str(repo.issues[number].get("body") or ""), encoding="utf-8")
        lines += [
            "",
            f"The dashboard issue #{number}: {repo.issues[number].get('title')}",
            f"    body: {saved if kept else '(--output DIR keeps it)'}",
            f"    API: {fake.base_url}/repos/{repo.full_name}/issues/{number}",
        ]
    return bool(pulls), lines


def _stop(app: subprocess.Popen[bytes]) -> None:
    if app.poll() is None:
        app.send_signal(signal.SIGTERM)
        try:
            app.wait(timeout=20)
        except subprocess.TimeoutExpired:
            app.kill()
            app.wait()


def demo(keep: float, output: Path | None, timeout: float) -> int:
    """Run the demo; 0 when the App replied and opened its pull request."""
    started = time.monotonic()
    work = Path(tempfile.mkdtemp(prefix="evolve-demo-"))
    shown = output or work / "output"
    shown.mkdir(parents=True, exist_ok=True)
    operator_token = secrets.token_urlsafe(32)  # 43 characters, for this demo only
    app: subprocess.Popen[bytes] | None = None
    try:
        with FakeGitHub(work / "fakegithub") as fake:
            fake.add_installation(INSTALLATION, OWNER)
            repo = fake.add_repo(f"{OWNER}/sample", INSTALLATION)
            fake.commit_files(repo, SAMPLE_FILES, "Initial commit")
            fake.set_permission(repo, USER, "write")
            _say(f"fake GitHub      {fake.base_url}  (repository {repo.full_name}, {USER} may write)")

            port = _free_port()
            app_url = f"http://127.0.0.1:{port}"
            log_path = work / "app.log"
            with log_path.open("wb") as log:
                app = subprocess.Popen(
                    [sys.executable, "-m", "evolve.cli", "serve", "--port", str(port)],
                    env=_app_environment(fake, work, operator_token),
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    cwd=work,
                )
            _wait("the App to be ready", lambda: _ready(app_url), 60, app)
            kept_log = f", log {log_path}" if output is not None else ""
            _say(f"the App          {app_url}  (evolve serve, pid {app.pid}{kept_log})")

            _deliver(app_url, "installation", installation_created(fake, INSTALLATION, [repo], USER))
            _wait("the dashboard issue", lambda: any(repo.issues), 60, app)
            issue = fake.add_issue(repo, "Please improve this repository")
            _deliver(app_url, "issue_comment", comment_created(fake, repo, issue, USER, "/evolve run"))
            _say(f"sent             a signed issue_comment: {USER} wrote `/evolve run` on issue #{issue}")

            def replied() -> bool:
                return any(c["user"] != USER for c in repo.issue_comments(issue))

            _wait("the App's reply", replied, timeout, app)
            _say(f"replied          after {time.monotonic() - started:.0f} s")
            opened, lines = _report(fake, repo, issue, shown, kept=output is not None)
            pages = _status_pages(app_url, operator_token, shown)
            _say(f"done in          {time.monotonic() - started:.0f} s\n")
            for line in lines:
                _say(line)
            _say("")
            _say(f"The status pages: {app_url}/status  (sign in at {app_url}/status/login)")
            if keep <= 0:
                _say("    (they stop with the demo: --keep SECONDS keeps them up to open in a browser)")
            _say(f"    one-time operator token: {operator_token}")
            if output is not None:
                _say(f"    saved: {', '.join(pages)}")
            if keep > 0:
                _say(f"\nThe App and the fake GitHub stay up for {keep:.0f} s (Ctrl-C ends it sooner).")
                try:
                    time.sleep(keep)
                except KeyboardInterrupt:
                    pass
            return 0 if opened else 1
    finally:
        if app is not None:
            _stop(app)
        if output is None:
            shutil.rmtree(work, ignore_errors=True)
        else:
            shutil.rmtree(work / "fakegithub", ignore_errors=True)
            shutil.rmtree(work / "app-data", ignore_errors=True)
        _say("stopped          the App and the fake GitHub; nothing is left running")


def main(argv: list[str] | None = None) -> int:
    """Command line of the demo."""
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--keep", type=float, default=0, help="seconds to keep everything up at the end (default 0)")
    parser.add_argument("--output", type=Path, help="keep the PR body, dashboard and status pages here")
    parser.add_argument("--timeout", type=float, default=300, help="seconds to wait for the App's reply")
    args = parser.parse_args(argv)
    return demo(args.keep, args.output, args.timeout)


if __name__ == "__main__":
    sys.exit(main())
