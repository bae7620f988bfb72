"""Chaos on loopback: one web and N workers of ``evolve serve`` on a fresh PostgreSQL database, against the
fake GitHub (served by this process), while a random worker -- and sometimes the web process -- is
kill -9'd and restarted.

A stream of signed deliveries goes to the web process: ``/evolve help`` comments (each on its own issue:
exactly one reply is right), ``/evolve status`` comments, ``/evolve run`` comments and pushes, over three
repositories of two installations whose cron schedules fire every minute, so real engine runs (the sample
repository's syntax and tests gates, sandboxed) are queued by comments and by schedules and interrupted by the
kills. At the end it reports deliveries answered 2xx / recorded / processed, duplicated and missing replies
(GitHub writes), duplicated runs and PRs, the most runs seen running at once per repository and per
installation, the longest delivery and run takeover delays (from the dead holder's last heartbeat to the new
claim; upper bounds), and, in a second phase without kills, processed deliveries per
second with 1, 2 and 3 workers: the deliveries are recorded while the workers are stopped (SIGSTOP), then
timed from SIGCONT until the last is processed, so the figure is the workers' rate, not the sender's.

    python scripts/chaos.py --seconds 120 --kills 20
    python scripts/chaos.py --throughput-only

Needs PostgreSQL on 127.0.0.1:5432 (trust, user postgres) and bubblewrap; creates and drops its own
databases. Loopback only, bounded in time. Exit 0 when no write, run or PR was duplicated, no reply was
missing and every 2xx delivery was processed.
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

from bot.db import store  # noqa: E402
from tests.fakegithub.payloads import comment_created, installation_created, signed  # noqa: E402
from tests.fakegithub.sample_repo import SAMPLE_FILES  # noqa: E402
from tests.fakegithub.server import FakeGitHub  # noqa: E402

SECRET = "chaos-webhook-secret"
INTERNAL_SECRET = "chaos-internal-secret-0123456789abcdef"
INSTALLATION = 4711
OTHER_INSTALLATION = 4712
PG = "postgresql://postgres@127.0.0.1:5432"
EVERY_MINUTE = "* * * * *"
LEASE_SECONDS = 15.0


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
        """The environment of one process: its own data directory, the shared database; the web process holds
        the App's key and workers get their tokens from it (the internal token service)."""
        common = {
            **os.environ,
            "EVOLVE_INTERNAL_SECRET": INTERNAL_SECRET,
            "EVOLVE_GITHUB_URL": self.fake.base_url,
            "EVOLVE_DATABASE_URL": f"{PG}/{self.database}",
            "EVOLVE_DATA_DIR": str(self.workdir / name),
            "EVOLVE_LOG_FORMAT": "json",
        }
        if name == "web":
            return {
                **common,
                "EVOLVE_APP_ID": str(self.fake.app_id),
                "EVOLVE_PRIVATE_KEY": self.fake.private_key,
                "EVOLVE_WEBHOOK_SECRET": SECRET,
            }
        return {**common, "EVOLVE_TOKEN_SERVICE_URL": f"http://127.0.0.1:{self.ports['web']}"}

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
    """Signed deliveries to the web process: comments with commands (one issue per `/evolve help`) and pushes."""

    def __init__(self, fake: FakeGitHub, repos: list[Any], web_port: int) -> None:
        self.fake, self.repos, self.url = fake, repos, f"http://127.0.0.1:{web_port}/webhook"
        self.client = httpx.Client(timeout=10)
        self.answered: dict[int, int] = {}
        self.help_issues: list[tuple[Any, int]] = []
        self.status_issues: dict[str, int] = {}
        self.run_comments = 0
        self.pushes = 0
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

    def comment(self, verb: str, repo: Any) -> None:
        """A person's comment with a command: `help` on a new issue, the others on one issue per repository and verb."""
        if verb == "help":
            number = self.fake.add_issue(repo)
            self.help_issues.append((repo, number))
        else:  # replies to these go to issues of their own, so each help issue has exactly one reply
            key = f"{repo.full_name}:{verb}"
            number = self.status_issues.get(key) or self.fake.add_issue(repo)
            self.status_issues[key] = number
            self.run_comments += verb == "run"
        self.deliver("issue_comment", comment_created(self.fake, repo, number, "alice", f"/evolve {verb}"))

    def push(self, repo: Any) -> None:
        """A push to the default branch (recorded and processed; the App does nothing with pushes)."""
        payload = real_payload_first("push")
        payload["repository"] = self.fake.repo_json(repo)
        payload["installation"] = {"id": repo.installation_id}
        payload["ref"] = f"refs/heads/{repo.default_branch}"
        self.pushes += 1
        self.deliver("push", payload)

    def mixed(self, rng: random.Random) -> None:
        """One delivery of the chaos stream: mostly help, some status, a few runs and pushes."""
        roll = rng.random()
        repo = rng.choice(self.repos)
        if roll < 0.70:
            self.comment("help", repo)
        elif roll < 0.82:
            self.comment("status", repo)
        elif roll < 0.84:
            self.comment("run", repo)
        else:
            self.push(repo)


def real_payload_first(event: str) -> dict[str, Any]:
    """The first real example payload of an event without actions (push)."""
    path = ROOT / "tests" / "fixtures" / "webhooks" / "api.github.com" / f"{event}.json"
    return dict(json.loads(path.read_text(encoding="utf-8"))[0])


def _replies(fake: FakeGitHub, repos: list[Any], issues: list[tuple[Any, int]]) -> tuple[int, int]:
    """Bot comments beyond one per write key anywhere (duplicated), and help issues without a reply (missing)."""
    keys = [
        re.search(r"<!-- evolve:(.*?) -->", c["body"])
        for repo in repos
        for c in repo.comments.values()
        if c["user"] == "evolve-bot[bot]"
    ]
    unmarked = sum(1 for key in keys if key is None)
    duplicated = unmarked + len(keys) - unmarked - len({key.group(1) for key in keys if key is not None})
    missing = sum(
        1 for repo, number in issues if not any(c["user"] == "evolve-bot[bot]" for c in repo.issue_comments(number))
    )
    return duplicated, missing


def _check_runs_duplicated(repos: list[Any]) -> int:
    """Check runs beyond one per external id (the idempotency key of each check run the App writes)."""
    ids = [c.get("external_id") for repo in repos for c in repo.check_runs.values() if c.get("external_id")]
    return len(ids) - len(set(ids))


def _pulls_duplicated(repos: list[Any], database: str) -> tuple[int, int]:
    """Pull requests opened, and those beyond one per run (a PR no run owns, or two on one head branch)."""
    pulls = [(repo.full_name, p["head"]) for repo in repos for p in repo.pulls.values()]
    with psycopg.connect(f"{PG}/{database}", autocommit=True) as conn:
        owned = conn.execute("SELECT count(DISTINCT (repository_id, pr_number)) FROM runs WHERE pr_number IS NOT NULL")
        row = owned.fetchone()
    runs_with_pr = int(row[0]) if row else 0
    return len(pulls), max(len(pulls) - runs_with_pr, len(pulls) - len(set(pulls)))


class Watcher:
    """Polls the runs and deliveries tables: the most runs running at once per repository and per installation,
    and each takeover (work claimed again straight from an expired lease) with its delay from the dead holder's
    last heartbeat (its last lease minus the lease) to the new claim."""

    def __init__(self, database: str) -> None:
        self.database = database
        self.max_per_repository = 0
        self.max_per_installation = 0
        self.run_takeovers: list[float] = []
        self.delivery_takeovers: list[float] = []
        self._runs: dict[int, tuple[int, Any]] = {}  # run id -> (tries, last lease_until seen)
        self._deliveries: dict[str, tuple[int, Any]] = {}  # delivery id -> (attempts, last lease) while processing
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)

    def __enter__(self) -> Watcher:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _loop(self) -> None:
        with psycopg.connect(f"{PG}/{self.database}", autocommit=True) as conn:
            while not self._stop.wait(0.5):
                self._look_at_runs(conn)
                self._look_at_deliveries(conn)

    def _look_at_runs(self, conn: Any) -> None:
        rows = conn.execute(
            "SELECT r.id, r.repository_id, p.installation_id, r.tries, r.started_at, r.lease_until "
            "FROM runs r JOIN repositories p ON p.id = r.repository_id WHERE r.status = 'running'"
        ).fetchall()
        per_repository: dict[int, int] = {}
        per_installation: dict[int, int] = {}
        for run_id, repository_id, installation_id, tries, started_at, lease_until in rows:
            per_repository[repository_id] = per_repository.get(repository_id, 0) + 1
            per_installation[installation_id] = per_installation.get(installation_id, 0) + 1
            before = self._runs.get(run_id)
            if before is not None and tries > before[0] and before[1] is not None:
                self.run_takeovers.append(started_at.timestamp() - (before[1].timestamp() - LEASE_SECONDS))
            self._runs[run_id] = (tries, lease_until)
        self.max_per_repository = max([self.max_per_repository, *per_repository.values()])
        self.max_per_installation = max([self.max_per_installation, *per_installation.values()])

    def _look_at_deliveries(self, conn: Any) -> None:
        rows = conn.execute(
            "SELECT delivery_id, status, attempts, lease_until FROM deliveries WHERE status IN ('processing', 'queued')"
        ).fetchall()
        for delivery_id, status, attempts, lease_until in rows:
            if status == "queued":  # a retry after a failure, not a takeover
                self._deliveries.pop(delivery_id, None)
                continue
            before = self._deliveries.get(delivery_id)
            if before is not None and attempts > before[0] and before[1] is not None and lease_until is not None:
                self.delivery_takeovers.append(lease_until.timestamp() - before[1].timestamp())
            self._deliveries[delivery_id] = (attempts, lease_until)


def _run_counts(database: str) -> dict[str, Any]:
    with psycopg.connect(f"{PG}/{database}", autocommit=True) as conn:
        by_status: dict[str, int] = dict(conn.execute("SELECT status, count(*) FROM runs GROUP BY status").fetchall())
        by_trigger: dict[str, int] = dict(
            conn.execute("SELECT trigger, count(*) FROM runs GROUP BY trigger").fetchall()
        )
        # One comment makes one run; one schedule fire makes one run per repository.
        per_comment = conn.execute(
            "SELECT coalesce(sum(n - 1), 0) FROM (SELECT count(*) AS n FROM runs WHERE delivery_id IS NOT NULL "
            "GROUP BY delivery_id) AS c"
        ).fetchone()
        retried = conn.execute("SELECT count(*) FROM runs WHERE tries > 1").fetchone()
    return {
        "by_status": by_status,
        "by_trigger": by_trigger,
        "duplicated": int(per_comment[0]) if per_comment else 0,
        "taken_over": int(retried[0]) if retried else 0,
    }


def _wait_runs(database: str, timeout: float) -> float:
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        with psycopg.connect(f"{PG}/{database}", autocommit=True) as conn:
            row = conn.execute("SELECT count(*) FROM runs WHERE status IN ('queued', 'running')").fetchone()
        if row is not None and row[0] == 0:
            return time.monotonic() - started
        time.sleep(1)
    return -1.0


def _wait_processed(database: str, total: int, timeout: float) -> float:
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        counts = _db_counts(database)["by_status"]
        if sum(counts.get(s, 0) for s in ("processed", "ignored", "failed")) >= total:
            return time.monotonic() - started
        time.sleep(0.1)
    return -1.0


def _setup(fake: FakeGitHub, repositories: int = 1) -> list[Any]:
    """Installations and repositories on the fake: the first two repositories in one installation, the third in
    another; every one the sample project, with alice allowed to write."""
    fake.add_installation(INSTALLATION, "octo-org")
    fake.add_installation(OTHER_INSTALLATION, "other-org")
    repos = []
    for n in range(repositories):
        owner, installation = ("octo-org", INSTALLATION) if n < 2 else ("other-org", OTHER_INSTALLATION)
        repo = fake.add_repo(f"{owner}/sample{n or ''}", installation, repo_id=90210 + n)
        fake.commit_files(repo, SAMPLE_FILES, "Initial commit")
        fake.set_permission(repo, "alice", "write")
        repos.append(repo)
    return repos


def _enrol_every_minute(database: str, repos: list[Any]) -> None:
    """Rows for the installations and repositories, on a one-minute cron, before the workers start (they load
    the schedules at start; the installation deliveries then find the rows and keep the schedule)."""
    engine = store.make_engine(f"{PG}/{database}")
    try:
        db = store.make_sessionmaker(engine)
        for installation, login in ((INSTALLATION, "octo-org"), (OTHER_INSTALLATION, "other-org")):
            store.upsert_installation(db, installation, account_login=login)
        for repo in repos:
            store.upsert_repository(db, repo.id, repo.full_name, repo.installation_id, enrolled=True)
            store.set_repository_schedule(db, repo.id, EVERY_MINUTE)
    finally:
        engine.dispose()


def _install(sender: Sender, fake: FakeGitHub, repos: list[Any]) -> None:
    for installation in (INSTALLATION, OTHER_INSTALLATION):
        mine = [repo for repo in repos if repo.installation_id == installation]
        if mine:
            sender.deliver("installation", installation_created(fake, installation, mine, "alice"))


def _database() -> str:
    name = f"evolve_chaos_{os.getpid()}_{int(time.time() * 1000) % 10**9}"
    with psycopg.connect(f"{PG}/test", autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return name


def _drop(name: str) -> None:
    with psycopg.connect(f"{PG}/test", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def chaos(workdir: Path, seconds: float, kills: int, workers: int, run_drain: float) -> dict[str, Any]:
    """The kill -9 phase; its figures."""
    database = _database()
    try:
        with FakeGitHub(workdir / "fake") as fake:
            repos = _setup(fake, 3)
            cluster = Cluster(workdir, fake, database)
            names = ["web"] + [f"worker-{i}" for i in range(1, workers + 1)]
            try:
                return _chaos_phase(cluster, fake, repos, database, names, seconds, kills, run_drain)
            finally:
                cluster.stop_all()
    finally:
        _drop(database)


def _chaos_phase(
    cluster: Cluster,
    fake: FakeGitHub,
    repos: list[Any],
    database: str,
    names: list[str],
    seconds: float,
    kills: int,
    run_drain: float,
) -> dict[str, Any]:
    cluster.start_in_order(names[:1])  # the web process migrates the database
    _enrol_every_minute(database, repos)
    cluster.start_in_order(names[1:])
    sender = Sender(fake, repos, cluster.ports["web"])
    _install(sender, fake, repos)
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

    rng = random.Random(11)
    with Watcher(database) as watcher:
        thread = threading.Thread(target=killer)
        thread.start()
        started = time.monotonic()
        while time.monotonic() - started < seconds or thread.is_alive():  # until every kill was made
            sender.mixed(rng)
            time.sleep(0.05)
        stop.set()
        thread.join()
        for name in names:
            cluster.wait_ready(name)
        drained = _wait_processed(database, sender.sent, 120)
        with psycopg.connect(f"{PG}/{database}", autocommit=True) as conn:  # no further schedule fires
            conn.execute("UPDATE repositories SET paused = true")
        runs_drained = _wait_runs(database, run_drain)
    counts = _db_counts(database)
    runs = _run_counts(database)
    duplicated, missing = _replies(fake, repos, sender.help_issues)
    pulls, duplicated_pulls = _pulls_duplicated(repos, database)
    return {
        "seconds": seconds,
        "kills": len(killed),
        "web_kills": killed.count("web"),
        "answered": sender.answered,
        "recorded": sum(counts["by_status"].values()),
        "deliveries": counts["by_status"],
        "retried_or_taken_over": counts["retried"],
        "longest_intake_to_processed_s": round(counts["longest_wait_s"], 2),  # retries' backoff included
        "help_comments": len(sender.help_issues),
        "run_comments": sender.run_comments,
        "pushes": sender.pushes,
        "duplicated_replies": duplicated,
        "missing_replies": missing,
        "duplicated_check_runs": _check_runs_duplicated(repos),
        "runs": runs,
        "duplicated_runs": runs["duplicated"],
        "pull_requests": pulls,
        "duplicated_pull_requests": duplicated_pulls,
        "most_running_per_repository": watcher.max_per_repository,
        "most_running_per_installation": watcher.max_per_installation,
        "run_takeovers_seen": len(watcher.run_takeovers),
        "longest_run_takeover_s": round(max(watcher.run_takeovers, default=0.0), 1),
        "delivery_takeovers_seen": len(watcher.delivery_takeovers),
        "longest_delivery_takeover_s": round(max(watcher.delivery_takeovers, default=0.0), 1),
        "drained_after_s": round(drained, 1),
        "runs_finished_after_s": round(runs_drained, 1),
    }


def _cpu_seconds(pid: int) -> float:
    """User plus system CPU time of a process so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _processed_here(port: int) -> int:
    """Deliveries one worker processed, from its own /metrics."""
    text = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=5).text
    return int(sum(float(m) for m in re.findall(r"^evolve_deliveries_processed_total\{[^}]*\} (\S+)$", text, re.M)))


def throughput(workdir: Path, workers: int, count: int, latency: float) -> dict[str, Any]:
    """Processed deliveries per second with `workers` workers (no kills): `count` `/evolve help` comments are
    recorded while the workers are stopped (SIGSTOP), then timed from SIGCONT until the last is processed.
    Also: how many each worker processed, and the workers' CPU seconds per delivery."""
    database = _database()
    try:
        with FakeGitHub(workdir / f"fake-{workers}") as fake:
            fake.state.latency = latency
            repos = _setup(fake)
            cluster = Cluster(workdir / f"tp-{workers}", fake, database)
            (workdir / f"tp-{workers}").mkdir(parents=True, exist_ok=True)
            names = ["web"] + [f"worker-{i}" for i in range(1, workers + 1)]
            try:
                return _throughput_phase(cluster, fake, repos, database, names, count)
            finally:
                for name in names[1:]:
                    if cluster.procs[name].poll() is None:
                        cluster.procs[name].send_signal(signal.SIGCONT)
                cluster.stop_all()
    finally:
        _drop(database)


def _throughput_phase(
    cluster: Cluster, fake: FakeGitHub, repos: list[Any], database: str, names: list[str], count: int
) -> dict[str, Any]:
    cluster.start_in_order(names)
    sender = Sender(fake, repos, cluster.ports["web"])
    _install(sender, fake, repos)
    _wait_processed(database, sender.sent, 30)
    payloads = []
    for _ in range(count):
        number = fake.add_issue(repos[0])
        payloads.append(comment_created(fake, repos[0], number, "alice", "/evolve help"))
    workers = names[1:]
    before = {name: _processed_here(cluster.ports[name]) for name in workers}
    for name in workers:
        cluster.procs[name].send_signal(signal.SIGSTOP)
    for payload in payloads:
        sender.deliver("issue_comment", payload)
    cpu = {name: _cpu_seconds(cluster.procs[name].pid) for name in workers}
    started = time.monotonic()
    for name in workers:
        cluster.procs[name].send_signal(signal.SIGCONT)
    took = _wait_processed(database, sender.sent, 300)
    elapsed = time.monotonic() - started
    cpu_used = sum(_cpu_seconds(cluster.procs[name].pid) - cpu[name] for name in workers)
    return {
        "per_second": round(count / elapsed, 1) if took >= 0 else 0.0,
        "by_worker": [_processed_here(cluster.ports[name]) - before[name] for name in workers],
        "worker_cpu_ms_per_delivery": round(1000 * cpu_used / count, 1),
        "workers_cpu_share": round(cpu_used / elapsed, 2),  # cores the workers got, on average
    }


def main() -> int:
    """Run the phases asked for and print the figures as JSON."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=120.0, help="length of the kill -9 phase")
    parser.add_argument("--kills", type=int, default=20)
    parser.add_argument("--workers", type=int, default=3)
    parser.add_argument("--count", type=int, default=400, help="deliveries per throughput measurement")
    parser.add_argument(
        "--latency", type=float, default=0.0, help="seconds the fake GitHub waits per REST answer (throughput)"
    )
    parser.add_argument("--run-drain", type=float, default=420.0, help="longest wait for the runs after the kills")
    parser.add_argument("--workdir", help="keep the processes' logs and data here (default: a temporary directory)")
    parser.add_argument("--throughput-only", action="store_true")
    parser.add_argument("--chaos-only", action="store_true")
    args = parser.parse_args()
    report: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="evolve-chaos-") as tmp:
        workdir = Path(args.workdir or tmp)
        workdir.mkdir(parents=True, exist_ok=True)
        if not args.throughput_only:
            report["chaos"] = chaos(workdir, args.seconds, args.kills, args.workers, args.run_drain)
            print(json.dumps(report["chaos"], indent=2), flush=True)
        if not args.chaos_only:
            report["throughput"] = {}
            for workers in (1, 2, 3):
                report["throughput"][workers] = throughput(workdir, workers, args.count, args.latency)
                print(json.dumps({workers: report["throughput"][workers]}), flush=True)
    chaos_report = report.get("chaos")
    failures = ("duplicated_replies", "missing_replies", "duplicated_check_runs", "duplicated_runs")
    if chaos_report and (
        any(chaos_report[key] for key in failures)
        or chaos_report["duplicated_pull_requests"]
        or chaos_report["most_running_per_repository"] > 1
    ):
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
