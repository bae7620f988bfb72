"""Chaos on loopback: one web and N workers of ``evolve serve`` on a fresh PostgreSQL database, against the
fake GitHub (served by this process), while a random worker -- and sometimes the web process -- is
kill -9'd and restarted.

A stream of signed ``/evolve help`` comments (each on its own issue: exactly one reply is right) and
``/evolve status`` comments goes to the web process. At the end it reports deliveries answered 2xx /
recorded / processed, duplicated and missing replies (GitHub writes), the longest time a delivery waited
for a worker (an upper bound of the takeover delay after a kill) and, in a second phase without kills,
processed deliveries per second with 1, 2 and 3 workers.

    python scripts/chaos.py --seconds 120 --kills 20
    python scripts/chaos.py --throughput-only

Needs PostgreSQL on 127.0.0.1:5432 (trust, user postgres); creates and drops its own database. Loopback only,
bounded in time. Exit 0 when no write was duplicated or lost and every 2xx delivery was processed.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import psycopg

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.fakegithub.payloads import comment_created, installation_created, signed  # noqa: E402
from tests.fakegithub.sample_repo import SAMPLE_FILES  # noqa: E402
from tests.fakegithub.server import FakeGitHub  # noqa: E402

SECRET = "chaos-webhook-secret"
INSTALLATION = 4711
PG = "postgresql://postgres@127.0.0.1:5432"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Cluster:
    """The web process and the workers, started and kill -9'd at will."""

    def __init__(self, workdir: Path, fake: FakeGitHub, database: str) -> None:
        self.workdir = workdir
        self.fake = fake
        self.database = database
        self.procs: dict[str, subprocess.Popen[bytes]] = {}
        self.ports: dict[str, int] = {}

    def env(self, name: str) -> dict[str, str]:
        """The environment of one process: its own data directory, the shared database."""
        return {
            **os.environ,
            "EVOLVE_APP_ID": str(self.fake.app_id),
            "EVOLVE_PRIVATE_KEY": self.fake.private_key,
            "EVOLVE_WEBHOOK_SECRET": SECRET,
            "EVOLVE_GITHUB_URL": self.fake.base_url,
            "EVOLVE_DATABASE_URL": f"{PG}/{self.database}",
            "EVOLVE_DATA_DIR": str(self.workdir / name),
            "EVOLVE_LOG_FORMAT": "json",
        }

    def start(self, name: str) -> None:
        """Start `web` or `worker-N` (the same port again after a restart)."""
        role = "web" if name == "web" else "worker"
        port = self.ports.setdefault(name, _free_port())
        code = f"import sys; from evolve.cli import main; sys.exit(main(['serve', '--port', '{port}', '--role', '{role}']))"
        log = (self.workdir / f"{name}.log").open("ab")
        self.procs[name] = subprocess.Popen(
            [sys.executable, "-c", code], env=self.env(name), cwd=ROOT, stdout=log, stderr=subprocess.STDOUT
        )

    def start_in_order(self, names: list[str]) -> None:
        """Start each process and wait until it is ready before the next (the first one creates the
        scheduler's schema; processes starting at once on a fresh database race for it)."""
        for name in names:
            self.start(name)
            self.wait_ready(name)

    def wait_ready(self, name: str, timeout: float = 60.0) -> None:
        """Until the process answers /readyz with 200."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"http://127.0.0.1:{self.ports[name]}/readyz", timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        raise RuntimeError(f"{name} did not get ready; see {self.workdir / (name + '.log')}")

    def kill(self, name: str) -> None:
        """kill -9, and reap."""
        proc = self.procs[name]
        proc.send_signal(signal.SIGKILL)
        proc.wait()

    def stop_all(self) -> None:
        """SIGTERM everything still running (SIGKILL after 10 s)."""
        for proc in self.procs.values():
            if proc.poll() is None:
                proc.terminate()
        for proc in self.procs.values():
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()


def _db_counts(database: str) -> dict[str, Any]:
    with psycopg.connect(f"{PG}/{database}", autocommit=True) as conn:
        rows = dict(conn.execute("SELECT status, count(*) FROM deliveries GROUP BY status").fetchall())
        retried = conn.execute("SELECT count(*) FROM deliveries WHERE attempts > 1").fetchone()
        wait = conn.execute(
            "SELECT max(extract(epoch FROM processed_at - received_at)) FROM deliveries WHERE processed_at IS NOT NULL"
        ).fetchone()
    return {"by_status": rows, "retried": retried[0] if retried else 0, "longest_wait_s": float(wait[0] or 0)}


class Sender:
    """Signed comment deliveries to the web process, one issue per `/evolve help`."""

    def __init__(self, fake: FakeGitHub, repo: Any, web_port: int) -> None:
        self.fake, self.repo, self.url = fake, repo, f"http://127.0.0.1:{web_port}/webhook"
        self.client = httpx.Client(timeout=10)
        self.answered: dict[int, int] = {}
        self.help_issues: list[int] = []
        self.status_issue: int | None = None
        self.sent = 0

    def deliver(self, event: str, payload: dict[str, Any]) -> int:
        """POST one delivery, retrying (same delivery id, as GitHub's redelivery) while the web process is down."""
        body, headers = signed(payload, event, SECRET)
        for _ in range(100):
            try:
                status = self.client.post(self.url, content=body, headers=headers).status_code
            except httpx.HTTPError:
                time.sleep(0.1)
                continue
            if status < 500:
                self.answered[status] = self.answered.get(status, 0) + 1
                self.sent += 1
                return status
            time.sleep(0.1)
        return 0

    def comment(self, verb: str) -> None:
        """A person's comment with a command, on a new issue for `help`."""
        if verb == "help":
            number = self.fake.add_issue(self.repo)
            self.help_issues.append(number)
        else:  # status replies go to an issue of their own, so each help issue has exactly one reply
            self.status_issue = self.status_issue or self.fake.add_issue(self.repo)
            number = self.status_issue
        self.deliver("issue_comment", comment_created(self.fake, self.repo, number, "alice", f"/evolve {verb}"))


def _replies(fake: FakeGitHub, repo: Any, issues: list[int]) -> tuple[int, int]:
    """Bot comments beyond one per write key anywhere (duplicated), and help issues without a reply (missing)."""
    keys = [
        re.search(r"<!-- evolve:(.*?) -->", c["body"]) for c in repo.comments.values() if c["user"] == "evolve-bot[bot]"
    ]
    unmarked = sum(1 for key in keys if key is None)
    duplicated = unmarked + len(keys) - unmarked - len({key.group(1) for key in keys if key is not None})
    missing = sum(
        1 for number in issues if not any(c["user"] == "evolve-bot[bot]" for c in repo.issue_comments(number))
    )
    return duplicated, missing


def _wait_processed(database: str, total: int, timeout: float) -> float:
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        counts = _db_counts(database)["by_status"]
        if sum(counts.get(s, 0) for s in ("processed", "ignored", "failed")) >= total:
            return time.monotonic() - started
        time.sleep(0.2)
    return -1.0


def _setup(fake: FakeGitHub) -> Any:
    fake.add_installation(INSTALLATION, "octo-org")
    repo = fake.add_repo("octo-org/sample", INSTALLATION, repo_id=90210)
    fake.commit_files(repo, SAMPLE_FILES, "Initial commit")
    fake.set_permission(repo, "alice", "write")
    return repo


def _database() -> str:
    name = f"evolve_chaos_{os.getpid()}_{int(time.time())}"
    with psycopg.connect(f"{PG}/test", autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return name


def _drop(name: str) -> None:
    with psycopg.connect(f"{PG}/test", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def chaos(workdir: Path, seconds: float, kills: int, workers: int) -> dict[str, Any]:
    """The kill -9 phase; its figures."""
    database = _database()
    try:
        with FakeGitHub(workdir / "fake") as fake:
            repo = _setup(fake)
            cluster = Cluster(workdir, fake, database)
            names = ["web"] + [f"worker-{i}" for i in range(1, workers + 1)]
            try:
                return _chaos_phase(cluster, fake, repo, database, names, seconds, kills)
            finally:
                cluster.stop_all()
    finally:
        _drop(database)


def _chaos_phase(
    cluster: Cluster, fake: FakeGitHub, repo: Any, database: str, names: list[str], seconds: float, kills: int
) -> dict[str, Any]:
    cluster.start_in_order(names)
    sender = Sender(fake, repo, cluster.ports["web"])
    sender.deliver("installation", installation_created(fake, INSTALLATION, [repo], "alice"))
    stop = threading.Event()
    killed: list[str] = []

    def killer() -> None:
        rng = random.Random(9)
        for _ in range(kills):
            if stop.wait(seconds / (kills + 1)):  # set only on an early exit
                return
            name = "web" if rng.random() < 0.25 else rng.choice(names[1:])
            cluster.kill(name)
            killed.append(name)
            time.sleep(rng.uniform(0.2, 2.0))
            cluster.start(name)

    thread = threading.Thread(target=killer)
    thread.start()
    started = time.monotonic()
    while time.monotonic() - started < seconds or thread.is_alive():  # until every kill was made
        sender.comment("help" if random.random() < 0.8 else "status")
        time.sleep(0.05)
    stop.set()
    thread.join()
    for name in names:
        cluster.wait_ready(name)
    drained = _wait_processed(database, sender.sent, 120)
    counts = _db_counts(database)
    duplicated, missing = _replies(fake, repo, sender.help_issues)
    return {
        "seconds": seconds,
        "kills": len(killed),
        "web_kills": killed.count("web"),
        "answered": sender.answered,
        "recorded": sum(counts["by_status"].values()),
        "deliveries": counts["by_status"],
        "retried_or_taken_over": counts["retried"],
        "longest_wait_for_a_worker_s": round(counts["longest_wait_s"], 2),
        "help_comments": len(sender.help_issues),
        "duplicated_replies": duplicated,
        "missing_replies": missing,
        "drained_after_s": round(drained, 1),
    }


def throughput(workdir: Path, workers: int, count: int) -> float:
    """Processed deliveries per second with `workers` workers (no kills): `count` comments sent as fast as
    the web process takes them, timed until the last is processed."""
    database = _database()
    try:
        with FakeGitHub(workdir / f"fake-{workers}") as fake:
            repo = _setup(fake)
            cluster = Cluster(workdir / f"tp-{workers}", fake, database)
            (workdir / f"tp-{workers}").mkdir(parents=True, exist_ok=True)
            names = ["web"] + [f"worker-{i}" for i in range(1, workers + 1)]
            try:
                return _throughput_phase(cluster, fake, repo, database, names, count)
            finally:
                cluster.stop_all()
    finally:
        _drop(database)


def _throughput_phase(
    cluster: Cluster, fake: FakeGitHub, repo: Any, database: str, names: list[str], count: int
) -> float:
    cluster.start_in_order(names)
    sender = Sender(fake, repo, cluster.ports["web"])
    sender.deliver("installation", installation_created(fake, INSTALLATION, [repo], "alice"))
    _wait_processed(database, 1, 30)
    payloads = []
    for _ in range(count):
        number = fake.add_issue(repo)
        payloads.append(comment_created(fake, repo, number, "alice", "/evolve help"))
    started = time.monotonic()
    for payload in payloads:
        sender.deliver("issue_comment", payload)
    took = _wait_processed(database, count + 1, 300)
    elapsed = time.monotonic() - started
    return count / elapsed if took >= 0 else 0.0


def main() -> int:
    """Run the phases asked for and print the figures as JSON."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=120.0, help="length of the kill -9 phase")
    parser.add_argument("--kills", type=int, default=20)
    parser.add_argument("--workers", type=int, default=3)
    parser.add_argument("--count", type=int, default=200, help="deliveries per throughput measurement")
    parser.add_argument("--throughput-only", action="store_true")
    parser.add_argument("--chaos-only", action="store_true")
    args = parser.parse_args()
    report: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="evolve-chaos-") as tmp:
        workdir = Path(tmp)
        if not args.throughput_only:
            report["chaos"] = chaos(workdir, args.seconds, args.kills, args.workers)
            print(json.dumps(report["chaos"], indent=2), flush=True)
        if not args.chaos_only:
            report["processed_per_second"] = {n: round(throughput(workdir, n, args.count), 1) for n in (1, 2, 3)}
            print(json.dumps(report["processed_per_second"]), flush=True)
    chaos_report = report.get("chaos")
    if chaos_report and (chaos_report["duplicated_replies"] or chaos_report["missing_replies"]):
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
