#!/usr/bin/env python3
"""Status pages benchmark: load time of the run list with 10,000 runs in the database.

Fills a real SQLite file (and, when ``EVOLVE_TEST_POSTGRES_URL`` is set, a fresh PostgreSQL database on that
server, dropped afterwards) with installations, repositories and ``--runs`` runs of every status, each with a
stored report (a few KiB of JSON, as real runs store), metric snapshots and PR outcomes. Then starts a real
``evolve serve --role web`` on a loopback port and times ``--requests`` GETs of each page variant below over
HTTP (authenticated with the operator token as a bearer header), after a few warm-up requests:

- ``runs``: the run list's first page (50 runs, newest first)
- ``runs deep``: a page in the middle (``?before=<id>``, keyset pagination)
- ``runs repo``: filtered by one repository; ``runs status``: filtered by status (``failed``)
- ``repository``: a repository's page (metric and PR-outcome charts over its runs)
- ``overview``: installations and repositories with last run, open PRs and queue counts

Prints p50 and p95 (milliseconds) per variant and database, against the target: the run list under 300 ms.
Exit 0 when it could measure, 1 with ``--check`` when a run-list variant misses the target, 2 when it could not
run (the server did not start).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
REPO_ROOT = HERE.parent
sys.path.insert(0, str(REPO_ROOT))

from sqlalchemy import create_engine, insert, text  # noqa: E402

from bot.db import store  # noqa: E402
from bot.db.models import Installation, MetricSnapshot, PROutcome, Repository, Run  # noqa: E402

TOKEN = "bench-operator-token-" + uuid.uuid4().hex
TARGET_MS = 300.0
STATUSES = ("succeeded",) * 5 + ("failed", "nothing-to-do", "nothing-to-do", "error", "cancelled")
METRICS = (
    ("average complexity", "lower", ""),
    ("max complexity", "lower", ""),
    ("average maintainability index", "higher", ""),
    ("docstring coverage", "higher", "%"),
    ("line coverage", "higher", "%"),
    ("findings", "lower", ""),
    ("security findings", "lower", ""),
)


def free_port() -> int:
    """A TCP port nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _report(rng: random.Random, status: str) -> dict[str, Any]:
    gates = [
        {"gate": name, "status": "passed", "summary": f"{name}: no regression " + "x" * 60, "metrics": [], "blame": []}
        for name in ("syntax", "tests", "coverage", "complexity", "maintainability", "docstrings", "security")
    ]
    return {
        "status": status,
        "message": "",
        "plan": {"theme": "unused-imports", "title": "Remove unused imports", "score": rng.random() * 5},
        "attempts": [
            {
                "number": n,
                "passed": n == 1,
                "edits": [{"path": f"src/m{i}.py", "changes": []} for i in range(5)],
                "gates": gates,
            }
            for n in (1, 2)
        ],
        "metrics": [],
        "diff": "-import os\n+\n" * 40,
        "duration_seconds": rng.random() * 300,
    }


def fill(url: str, runs: int, repositories: int, seed: int = 7) -> dict[str, Any]:
    """Migrate a database and fill it; returns the ids the page variants need."""
    store.migrate(url)
    engine = store.make_engine(url)
    rng = random.Random(seed)
    now = datetime.now(timezone.utc)
    with engine.begin() as connection:
        connection.execute(
            insert(Installation),
            [
                {
                    "id": 100 + i,
                    "account_login": f"org{i}",
                    "account_type": "Organization",
                    "created_at": now,
                    "updated_at": now,
                }
                for i in range(5)
            ],
        )
        connection.execute(
            insert(Repository),
            [
                {
                    "id": 5000 + r,
                    "full_name": f"org{r % 5}/repo{r}",
                    "installation_id": 100 + r % 5,
                    "created_at": now,
                    "updated_at": now,
                }
                for r in range(repositories)
            ],
        )
        rows = []
        for n in range(runs):
            created = now - timedelta(minutes=(runs - n) * 30)
            status = "queued" if n >= runs - 20 else STATUSES[rng.randrange(len(STATUSES))]
            finished = status not in ("queued", "running")
            rows.append(
                {
                    "id": n + 1,
                    "repository_id": 5000 + rng.randrange(repositories),
                    "trigger": "schedule",
                    "status": status,
                    "theme": "unused-imports",
                    "pr_number": n + 1 if status == "succeeded" else None,
                    "created_at": created,
                    "started_at": created + timedelta(seconds=5) if finished else None,
                    "finished_at": created + timedelta(minutes=4) if finished else None,
                    "attempt_count": 2 if finished else 0,
                    "tries": 1,
                    "report": _report(rng, status) if finished else None,
                    "message": "opened a pull request" if status == "succeeded" else "",
                    "options": {},
                }
            )
        for start in range(0, len(rows), 1000):
            connection.execute(insert(Run), rows[start : start + 1000])
        metrics = []
        outcomes = []
        for row in rows:
            if row["status"] not in ("succeeded", "failed"):
                continue
            for name, better, unit in METRICS:
                value = rng.random() * 100
                metrics.append(
                    {"run_id": row["id"], "name": name, "base": value, "head": value, "better": better, "unit": unit}
                )
            if row["pr_number"] is not None and rng.random() < 0.8:
                outcomes.append(
                    {
                        "repository_id": row["repository_id"],
                        "pr_number": row["pr_number"],
                        "codemod": "unused-imports",
                        "outcome": "merged" if rng.random() < 0.6 else "closed",
                        "run_id": row["id"],
                        "recorded_at": row["finished_at"],
                    }
                )
        for start in range(0, len(metrics), 5000):
            connection.execute(insert(MetricSnapshot), metrics[start : start + 5000])
        connection.execute(insert(PROutcome), outcomes)
    with engine.connect() as connection:
        busiest = connection.execute(
            text("SELECT repository_id FROM runs GROUP BY repository_id ORDER BY count(*) DESC LIMIT 1")
        ).scalar_one()
        counts = {
            "runs": connection.execute(text("SELECT count(*) FROM runs")).scalar_one(),
            "metric_snapshots": connection.execute(text("SELECT count(*) FROM metric_snapshots")).scalar_one(),
        }
    engine.dispose()
    return {"repository": busiest, "middle": runs // 2, **counts}


def _get(url: str) -> float:
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {TOKEN}"})
    started = time.perf_counter()
    with urllib.request.urlopen(request, timeout=30) as answer:
        body = answer.read()
        if answer.status != 200 or b"<html" not in body:
            raise RuntimeError(f"{url} answered {answer.status}")
    return (time.perf_counter() - started) * 1000


def measure(database_url: str, workdir: Path, ids: dict[str, Any], requests: int) -> dict[str, tuple[float, float]]:
    """Start `evolve serve` on the database and time each page variant; {variant: (p50, p95)} in ms."""
    port = free_port()
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(workdir),
        "PYTHONPATH": str(REPO_ROOT),
        "EVOLVE_DATA_DIR": str(workdir / "data"),
        "EVOLVE_DATABASE_URL": database_url,
        "EVOLVE_OPERATOR_TOKEN": TOKEN,
        "EVOLVE_GITHUB_URL": "http://127.0.0.1:9",
        "EVOLVE_ALLOW_UNSANDBOXED": "1",
    }
    code = f"import sys; from evolve.cli import main; sys.exit(main(['serve', '--port', '{port}', '--role', 'web']))"
    log = (workdir / f"serve-{port}.log").open("w")
    process = subprocess.Popen([sys.executable, "-c", code], env=env, cwd=workdir, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            if process.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(f"the server did not start; see {log.name}")
            try:
                urllib.request.urlopen(f"{base}/healthz", timeout=1)
                break
            except OSError:
                time.sleep(0.2)
        variants = {
            "runs": "/status/runs",
            "runs deep": f"/status/runs?before={ids['middle']}",
            "runs repo": f"/status/runs?repo={ids['repository']}",
            "runs status": "/status/runs?status=failed",
            "repository": f"/status/repositories/{ids['repository']}",
            "overview": "/status",
        }
        results = {}
        for name, path in variants.items():
            for _ in range(5):
                _get(base + path)
            times = sorted(_get(base + path) for _ in range(requests))
            results[name] = (statistics.median(times), times[max(0, int(len(times) * 0.95) - 1)])
        return results
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
        log.close()


def _postgres_database(server_url: str) -> tuple[str, Any]:
    base = server_url.rsplit("/", 1)[0]
    name = f"evolve_bench_{uuid.uuid4().hex[:10]}"
    admin = create_engine(server_url.replace("postgresql://", "postgresql+psycopg://", 1), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))

    def drop() -> None:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()

    return f"{base}/{name}", drop


def main() -> int:
    """Fill, serve, measure, print."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=10_000, help="runs in the database (default 10000)")
    parser.add_argument("--repositories", type=int, default=40, help="repositories they belong to (default 40)")
    parser.add_argument("--requests", type=int, default=100, help="timed requests per page variant (default 100)")
    parser.add_argument("--json", type=Path, help="also write the figures as JSON here")
    parser.add_argument("--check", action="store_true", help="exit 1 when a run-list variant's p95 misses 300 ms")
    args = parser.parse_args()
    results: dict[str, dict[str, tuple[float, float]]] = {}
    with tempfile.TemporaryDirectory(prefix="bench-status-") as tmp:
        workdir = Path(tmp)
        (workdir / "data").mkdir()
        databases = [("sqlite", f"sqlite:///{workdir / 'data' / 'evolve.sqlite'}", None)]
        if os.environ.get("EVOLVE_TEST_POSTGRES_URL"):
            url, drop = _postgres_database(os.environ["EVOLVE_TEST_POSTGRES_URL"])
            databases.append(("postgresql", url, drop))
        for label, url, drop in databases:
            try:
                started = time.perf_counter()
                ids = fill(url, args.runs, args.repositories)
                print(
                    f"{label}: filled {ids['runs']} runs, {ids['metric_snapshots']} metric snapshots "
                    f"in {time.perf_counter() - started:.1f} s",
                    flush=True,
                )
                results[label] = measure(url, workdir, ids, args.requests)
            finally:
                if drop is not None:
                    drop()
    print(f"\n{'database':<12}{'page':<14}{'p50 ms':>10}{'p95 ms':>10}")
    missed = False
    for label, figures in results.items():
        for name, (p50, p95) in figures.items():
            over = name.startswith("runs") and p95 >= TARGET_MS
            missed |= over
            print(f"{label:<12}{name:<14}{p50:>10.1f}{p95:>10.1f}{'  > target' if over else ''}")
    print(f"\ntarget: the run list (runs*) under {TARGET_MS:.0f} ms with {args.runs} runs")
    if args.json:
        args.json.write_text(
            json.dumps(
                {k: {n: {"p50_ms": a, "p95_ms": b} for n, (a, b) in v.items()} for k, v in results.items()}, indent=2
            )
        )
    return 1 if args.check and missed else 0


if __name__ == "__main__":
    sys.exit(main())
