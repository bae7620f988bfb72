#!/usr/bin/env python3
"""Worker benchmark: CPU per processed delivery, and deliveries/s with 1, 2, 3 worker processes on PostgreSQL.

Each delivery is a comment command that replies (`/evolve status`: a reaction, then a reply comment) on
a repository of the fake GitHub (`tests/fakegithub`, in this process, no added latency). One
`evolve serve --role web` records the deliveries (and mints the workers' tokens); for each worker count
K, K `evolve serve --role worker` processes start once every delivery is queued (10 per worker more, as a
warm-up), and the benchmark waits until all are processed. Reported per K: deliveries/s (from the end of
the warm-up to the last one processed) and the workers' CPU time (all threads, all K processes, from
/proc) per delivery, start-up and warm-up excluded. Targets (shared/TARGETS.md): at most 5 ms of worker CPU per delivery; the rate grows
with the workers.

    python benchmarks/bench_workers.py --postgres postgresql://postgres@127.0.0.1:5432/test \\
        --deliveries 300 --workers 1 --workers 2 --workers 3 --repeat 3 --baseline-evolve OLD/.venv/bin/evolve

With --baseline-evolve, each round measures that other checkout first, then this one, under the same load;
both get a table (medians of the rounds, rate and CPU each on its own) and the ratios are printed.

Exit 0 when it measured (1 with --check when a target is missed), 2 when it could not run.
"""

from __future__ import annotations

import argparse
import hashlib
import hmac
import itertools
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
REPO_ROOT = HERE.parent
sys.path.insert(0, str(REPO_ROOT))
sys.path.insert(0, str(HERE))

from bench_webhooks import (  # noqa: E402
    cpu_seconds,
    drop_postgres_database,
    evolve_command,
    free_port,
    fresh_postgres_database,
    load_average,
    stop,
    wait_ready,
)

SECRET = "bench-workers-webhook-secret"
INTERNAL = "bench-workers-internal-secret-0123456789abcdef"
TARGET_CPU_MS = 5.0
INSTALLATION, OWNER = 31337, "octo-org"


def _post(url: str, event: str, payload: dict[str, Any]) -> int:
    import urllib.error
    import urllib.request

    body = json.dumps(payload).encode()
    request = urllib.request.Request(
        url,
        data=body,
        method="POST",
        headers={
            "Content-Type": "application/json",
            "X-GitHub-Event": event,
            "X-GitHub-Delivery": str(uuid.uuid4()),
            "X-Hub-Signature-256": "sha256=" + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest(),
        },
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return int(response.status)
    except urllib.error.HTTPError as error:
        return int(error.code)


_CONNECTIONS: dict[str, Any] = {}


def _counts(database_url: str) -> dict[str, int]:
    """Deliveries per status, over one kept connection (this process also serves the fake GitHub: a connection
    per poll would take its CPU from the workers' GitHub calls)."""
    import psycopg

    conn = _CONNECTIONS.get(database_url)
    if conn is None:
        conn = _CONNECTIONS[database_url] = psycopg.connect(
            database_url.replace("postgresql+psycopg", "postgresql"), autocommit=True
        )
    return dict(conn.execute("SELECT status, count(*) FROM deliveries GROUP BY status").fetchall())


def _forget_connection(database_url: str) -> None:
    conn = _CONNECTIONS.pop(database_url, None)
    if conn is not None:
        conn.close()


def _start(args: list[str], env: dict[str, str], log: Path, command: list[str]) -> subprocess.Popen[bytes]:
    with open(log, "ab") as handle:
        return subprocess.Popen(
            [*command, "serve", "--host", "127.0.0.1", *args],
            env=env,
            stdout=handle,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


def measure(
    workers: int, deliveries: int, server_url: str, workdir: Path, command: list[str], py_spy: Path | None = None
) -> dict[str, Any]:
    """One round: a fresh database and fake GitHub, `deliveries` queued, then `workers` worker processes."""
    from tests.fakegithub.payloads import comment_created, installation_created
    from tests.fakegithub.sample_repo import SAMPLE_FILES
    from tests.fakegithub.server import FakeGitHub

    database_url = fresh_postgres_database(server_url)
    round_dir = workdir / f"workers-{workers}"
    round_dir.mkdir(parents=True)
    procs: list[subprocess.Popen[bytes]] = []
    try:
        with FakeGitHub(round_dir / "fake") as fake:
            fake.add_installation(INSTALLATION, OWNER)
            repo = fake.add_repo(f"{OWNER}/sample", INSTALLATION, repo_id=90210)
            fake.commit_files(repo, SAMPLE_FILES, "Initial commit")
            fake.set_permission(repo, "alice", "write")
            base = {
                **os.environ,
                "EVOLVE_DATABASE_URL": database_url,
                "EVOLVE_GITHUB_URL": fake.base_url,
                "EVOLVE_INTERNAL_SECRET": INTERNAL,
                "EVOLVE_ALLOW_UNSANDBOXED": "1",
            }
            web_port = free_port()
            web_env = {
                **base,
                "EVOLVE_APP_ID": str(fake.app_id),
                "EVOLVE_PRIVATE_KEY": fake.private_key,
                "EVOLVE_WEBHOOK_SECRET": SECRET,
                "EVOLVE_DATA_DIR": str(round_dir / "web"),
            }
            web = _start(["--port", str(web_port), "--role", "web"], web_env, round_dir / "web.log", command)
            procs.append(web)
            wait_ready(web_port, 60)
            url = f"http://127.0.0.1:{web_port}/webhook"
            worker_env = {**base, "EVOLVE_TOKEN_SERVICE_URL": f"http://127.0.0.1:{web_port}"}

            def start_workers(count: int) -> list[tuple[subprocess.Popen[bytes], int]]:
                started = []
                for number in range(count):
                    port = free_port()
                    env = {**worker_env, "EVOLVE_DATA_DIR": str(round_dir / f"worker-{number}")}
                    proc = _start(
                        ["--port", str(port), "--role", "worker"], env, round_dir / f"worker-{number}.log", command
                    )
                    procs.append(proc)
                    started.append((proc, port))
                return started

            # The installation first (enrols the repository), with one worker, then stop it.
            ((first, first_port),) = start_workers(1)
            wait_ready(first_port, 60)
            assert _post(url, "installation", installation_created(fake, INSTALLATION, [repo], "alice")) == 202
            deadline = time.monotonic() + 60
            while _counts(database_url).get("processed", 0) < 1 and time.monotonic() < deadline:
                time.sleep(0.1)
            stop(first)
            issues = [fake.add_issue(repo) for _ in range(10)]
            warmup = 10 * workers  # first uses (githubkit's lazily imported models, connections) are not measured
            for n in range(warmup + deliveries):
                payload = comment_created(fake, repo, issues[n % len(issues)], "alice", "/evolve status")
                status = _post(url, "issue_comment", payload)
                if status != 202:
                    raise RuntimeError(f"a delivery was answered {status}")
            before = _counts(database_url).get("processed", 0)
            running = start_workers(workers)
            for _, port in running:
                wait_ready(port, 60)
            deadline = time.monotonic() + 300
            while _counts(database_url).get("processed", 0) - before < warmup and time.monotonic() < deadline:
                time.sleep(0.02)
            started = time.monotonic()
            spy = None
            if py_spy is not None:  # the first worker, while it works
                spy = subprocess.Popen(
                    [
                        "py-spy",
                        "record",
                        "--gil",
                        "-p",
                        str(running[0][0].pid),
                        "-r",
                        "200",
                        "-f",
                        "raw",
                        "-o",
                        str(py_spy),
                    ],
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                )
            cpu_start = sum(cpu_seconds(proc.pid) or 0.0 for proc, _ in running)
            done_at_start = _counts(database_url).get("processed", 0) - before
            deadline = started + 600
            while time.monotonic() < deadline:
                counts = _counts(database_url)
                if counts.get("processed", 0) - before >= warmup + deliveries or counts.get("failed", 0):
                    break
                time.sleep(0.05)
            elapsed = time.monotonic() - started
            cpu_end = sum(cpu_seconds(proc.pid) or 0.0 for proc, _ in running)
            if spy is not None:
                spy.send_signal(signal.SIGINT)
                spy.wait(timeout=30)
            counts = _counts(database_url)
            processed = counts.get("processed", 0) - before - done_at_start
            replies = sum(len(fake.comments(repo, number)) for number in issues)
            return {
                "workers": workers,
                "deliveries": deliveries,
                "processed_measured": processed,
                "statuses": counts,
                "seconds": elapsed,
                "rate": processed / elapsed if elapsed else 0.0,
                "cpu_ms_per_delivery": (cpu_end - cpu_start) * 1e3 / processed if processed else None,
                "comments": replies,
            }
    finally:
        for proc in reversed(procs):
            stop(proc)
        _forget_connection(database_url)
        drop_postgres_database(server_url, database_url)


def _median(values: list[float]) -> float:
    ordered = sorted(values)
    middle = len(ordered) // 2
    return ordered[middle] if len(ordered) % 2 else (ordered[middle - 1] + ordered[middle]) / 2


def summarize(rounds: list[dict[str, Any]]) -> dict[str, Any]:
    """One row for a worker count: the medians of its rounds' rate and CPU per delivery (each on its own)."""
    cpus = [r["cpu_ms_per_delivery"] for r in rounds if r["cpu_ms_per_delivery"] is not None]
    return {
        "workers": rounds[0]["workers"],
        "rate": _median([r["rate"] for r in rounds]),
        "cpu_ms_per_delivery": _median(cpus) if cpus else None,
        "processed_measured": min(r["processed_measured"] for r in rounds),
        "comments": min(r["comments"] for r in rounds),
        "rounds": len(rounds),
    }


def table(title: str, rows: list[dict[str, Any]]) -> list[str]:
    """The Markdown table of one server's rows."""
    lines = [
        f"{title}:",
        "",
        "| workers | deliveries/s | worker CPU ms/delivery | processed (fewest measured) | replies posted | rounds |",
        "|---|---|---|---|---|---|",
    ]
    for row in rows:
        cpu = row["cpu_ms_per_delivery"]
        lines.append(
            f"| {row['workers']} | {row['rate']:.1f} | {'-' if cpu is None else f'{cpu:.1f}'} | "
            f"{row['processed_measured']} | {row['comments']} | {row['rounds']} |"
        )
    return lines


def verdicts(rows: list[dict[str, Any]]) -> tuple[list[str], bool]:
    """PASS/MISS lines against shared/TARGETS.md (CPU per delivery at most 5 ms; the rate grows with workers)."""
    lines, all_met = [], True
    for row in rows:
        cpu = row["cpu_ms_per_delivery"]
        ok = cpu is not None and cpu <= TARGET_CPU_MS
        all_met &= ok
        shown = "-" if cpu is None else f"{cpu:.1f}"
        lines.append(f"- {row['workers']} worker(s): {'PASS' if ok else 'MISS'} CPU {shown} ms/delivery (target <= 5)")
    for previous, row in itertools.pairwise(rows):
        ok = row["rate"] > previous["rate"]
        all_met &= ok
        lines.append(
            f"- {row['workers']} workers: {'PASS' if ok else 'MISS'} {row['rate']:.1f}/s vs {previous['rate']:.1f}/s "
            f"with {previous['workers']} (target: grows with workers)"
        )
    return lines, all_met


def main(argv: list[str] | None = None) -> int:
    """Entry point (exit codes in the module docstring)."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--postgres", required=True, metavar="URL", help="a PostgreSQL server (fresh databases)")
    parser.add_argument("--deliveries", type=int, default=300, help="comment commands per round (default 300)")
    parser.add_argument("--workers", type=int, action="append", help="worker process counts (default 1, 2, 3)")
    parser.add_argument("--repeat", type=int, default=1, help="rounds per worker count; medians are reported")
    parser.add_argument("--evolve", type=Path, help="another checkout's `evolve` executable (default: this one's)")
    parser.add_argument(
        "--baseline-evolve",
        type=Path,
        metavar="EXE",
        help="another checkout's `evolve` (e.g. OLD/.venv/bin/evolve), measured right before this one in every "
        "round (an A/B in the same run, reported as a table of its own)",
    )
    parser.add_argument(
        "--py-spy", type=Path, metavar="FILE", help="profile the first worker, on-CPU samples (py-spy --gil, on PATH)"
    )
    parser.add_argument("--check", action="store_true", help="exit 1 when a target is missed")
    args = parser.parse_args(argv)
    command = [str(args.evolve)] if args.evolve else evolve_command()
    servers = [("this checkout", command)]
    if args.baseline_evolve:
        servers.insert(0, (f"baseline {args.baseline_evolve}", [str(args.baseline_evolve)]))
    workdir = Path(tempfile.mkdtemp(prefix="bench-workers-"))
    print(f"load average before: {load_average()}", file=sys.stderr)
    rows: dict[str, list[dict[str, Any]]] = {name: [] for name, _ in servers}
    try:
        for workers in args.workers or [1, 2, 3]:
            rounds: dict[str, list[dict[str, Any]]] = {name: [] for name, _ in servers}
            for repetition in range(args.repeat):
                for number, (name, server) in enumerate(servers):
                    profiled = args.py_spy and name == "this checkout"
                    spy = args.py_spy.with_suffix(f".{workers}.{repetition}.txt") if profiled else None
                    where = workdir / f"r{repetition}-s{number}"
                    result = measure(workers, args.deliveries, args.postgres, where, server, spy)
                    print(json.dumps({"server": name, **result}), file=sys.stderr)
                    rounds[name].append(result)
            for name, _ in servers:
                rows[name].append(summarize(rounds[name]))
    except Exception as error:
        print(f"error: {type(error).__name__}: {error}", file=sys.stderr)
        return 2
    finally:
        print(f"load average after: {load_average()}", file=sys.stderr)
    all_met = True
    for name, _ in servers:
        print("\n".join(table(f"{name} (medians of {args.repeat})", rows[name])))
        lines, met = verdicts(rows[name])
        print("\n".join(lines), end="\n\n")
        if name == "this checkout":
            all_met = met
    if args.baseline_evolve:
        for base, row in zip(rows[servers[0][0]], rows["this checkout"]):
            if base["cpu_ms_per_delivery"] and row["cpu_ms_per_delivery"] and base["rate"]:
                cpu_ratio = row["cpu_ms_per_delivery"] / base["cpu_ms_per_delivery"]
                print(
                    f"- {row['workers']} worker(s): CPU per delivery {cpu_ratio:.2f}x the baseline's, "
                    f"deliveries/s {row['rate'] / base['rate']:.2f}x"
                )
    return 1 if args.check and not all_met else 0


if __name__ == "__main__":
    signal.signal(signal.SIGINT, signal.default_int_handler)
    sys.exit(main())
