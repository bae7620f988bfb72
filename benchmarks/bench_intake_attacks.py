#!/usr/bin/env python3
"""Strangers against ``evolve serve``: slow, idle, oversized and unsigned requests, at full size.

The tests in ``tests/bot/test_service_limits.py`` run the same attacks small (300-450 connections) to
keep CI fast; this script runs them at the sizes of issue 8 against a real ``evolve serve`` on
127.0.0.1 and reports, for each attack: whether the limit held, the latency of signed deliveries sent
meanwhile (p50 / max, each answered 202), and the server's peak resident memory growth (VmHWM).

Attacks (each bounded in time; everything on loopback):
- ``slowloris``: 2,000 connections dribbling header bytes; all must be cut after the header timeout;
- ``idle``: 2,000 connections that send nothing;
- ``big-headers``: 40 connections each sending an unfinished 16 MiB header; one 8 MiB header; 5,000 headers;
- ``unsigned-bodies``: 20 concurrent 24 MiB bodies without a signature, then 20 with a wrong one.

Usage: ``python benchmarks/bench_intake_attacks.py [--connections 2000] [--json FILE]``. Exit 0 when every
limit held and every signed delivery got 202, 1 otherwise, 2 when the server could not start.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import hmac
import json
import os
import resource
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import httpx

REPO_ROOT = Path(__file__).resolve().parents[1]
SECRET = "bench-attack-secret"
MiB = 1024 * 1024
HEADER_TIMEOUT = 5.0


def _private_key() -> str:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL, serialization.NoEncryption()
    ).decode()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_server(workdir: Path, port: int) -> subprocess.Popen[bytes]:
    """``evolve serve`` with a fresh SQLite database and a short header timeout."""
    env = {
        **os.environ,
        "EVOLVE_APP_ID": "1",
        "EVOLVE_PRIVATE_KEY": _private_key(),
        "EVOLVE_WEBHOOK_SECRET": SECRET,
        "EVOLVE_DATA_DIR": str(workdir / "data"),
        "EVOLVE_GITHUB_URL": "http://127.0.0.1:9/api/v3",
        "EVOLVE_HEADER_TIMEOUT_SECONDS": str(HEADER_TIMEOUT),
        "HOME": str(workdir),
    }
    code = f"import sys; from evolve.cli import main; sys.exit(main(['serve', '--port', '{port}']))"
    log = (workdir / "serve.log").open("wb")
    return subprocess.Popen([sys.executable, "-c", code], env=env, cwd=workdir, stdout=log, stderr=subprocess.STDOUT)


def peak_rss_mib(pid: int) -> float:
    """VmHWM of the process in MiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


async def signed_delivery(client: httpx.AsyncClient, base: str) -> tuple[int, float]:
    """One signed ``issues`` delivery: its status and latency in ms."""
    body = json.dumps({"action": "opened", "issue": {"number": 1}}).encode()
    headers = {
        "X-GitHub-Event": "issues",
        "X-GitHub-Delivery": str(uuid.uuid4()),
        "X-Hub-Signature-256": "sha256=" + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest(),
        "Content-Type": "application/json",
    }
    started = time.perf_counter()
    response = await client.post(f"{base}/webhook", content=body, headers=headers)
    return response.status_code, (time.perf_counter() - started) * 1000


async def deliveries_meanwhile(base: str, seconds: float) -> dict[str, Any]:
    """Signed deliveries, one every 100 ms for `seconds`, each on a fresh connection."""
    statuses: list[int] = []
    latencies: list[float] = []
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        async with httpx.AsyncClient(timeout=10) as client:
            try:
                status, ms = await signed_delivery(client, base)
            except httpx.HTTPError:
                status, ms = 0, 10_000.0
        statuses.append(status)
        latencies.append(ms)
        await asyncio.sleep(0.1)
    return {
        "deliveries": len(statuses),
        "all_202": all(s == 202 for s in statuses),
        "p50_ms": round(statistics.median(latencies), 1),
        "max_ms": round(max(latencies), 1),
    }


async def _open(port: int) -> tuple[asyncio.StreamReader, asyncio.StreamWriter] | None:
    try:
        return await asyncio.open_connection("127.0.0.1", port)
    except OSError:
        return None


async def _closed(reader: asyncio.StreamReader, wait: float) -> bool:
    try:
        await asyncio.wait_for(reader.read(), wait)  # the 408, then EOF
        return True
    except ConnectionError:  # closed while we were still writing: the kernel answered with a reset
        return True
    except asyncio.TimeoutError:
        return False


async def attack_slow_or_idle(port: int, base: str, count: int, dribble: bool) -> dict[str, Any]:
    """`count` connections that dribble header bytes (or stay idle); how many the server cut, and when."""
    conns = [c for c in await asyncio.gather(*(_open(port) for _ in range(count))) if c is not None]
    started = time.monotonic()

    async def dribbler() -> None:
        if not dribble:
            return
        for _, writer in conns:
            writer.write(b"POST /webhook HTTP/1.1\r\nHost: x\r\n")
        while time.monotonic() - started < HEADER_TIMEOUT + 1:
            for _, writer in conns:
                if not writer.is_closing():
                    writer.write(b"X")
            await asyncio.sleep(1.0)

    meanwhile, _ = await asyncio.gather(deliveries_meanwhile(base, HEADER_TIMEOUT - 1), dribbler())
    closed = await asyncio.gather(*(_closed(reader, HEADER_TIMEOUT + 3) for reader, _ in conns))
    for _, writer in conns:
        writer.close()
    return {
        "opened": len(conns),
        "cut_by_server": sum(closed),
        "cut_within_s": round(time.monotonic() - started, 1),
        "held": sum(closed) == len(conns),
        **meanwhile,
    }


async def _first_line(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> str:
    """The status line the server answered, or "reset" when it closed with our bytes unread (a refusal too)."""
    try:
        answer = await asyncio.wait_for(reader.read(64), 30)
    except (ConnectionError, asyncio.TimeoutError) as error:
        answer = b"reset" if isinstance(error, ConnectionError) else b"no answer"
    writer.close()
    return answer.split(b"\r\n")[0].decode(errors="replace") or "closed"


async def attack_big_headers(port: int, base: str) -> dict[str, Any]:
    """40 unfinished 16 MiB headers, one 8 MiB header and one request with 5,000 headers."""

    async def unfinished() -> str:
        conn = await _open(port)
        if conn is None:
            return "no connection"
        reader, writer = conn
        try:
            writer.write(b"POST /webhook HTTP/1.1\r\nX-Big: ")
            for _ in range(16):
                writer.write(b"a" * MiB)
                await writer.drain()
        except ConnectionError:
            pass
        return await _first_line(reader, writer)

    async def one(head: bytes) -> str:
        conn = await _open(port)
        if conn is None:
            return "no connection"
        reader, writer = conn
        try:
            writer.write(head)
            await writer.drain()
        except ConnectionError:
            pass
        return await _first_line(reader, writer)

    results, meanwhile = await asyncio.gather(
        asyncio.gather(*(unfinished() for _ in range(40))), deliveries_meanwhile(base, 3)
    )
    big = await one(b"POST /webhook HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * (8 * MiB) + b"\r\n\r\n")
    many = await one(
        b"POST /webhook HTTP/1.1\r\nHost: x\r\n" + b"".join(b"X-%d: 1\r\n" % i for i in range(5000)) + b"\r\n"
    )
    return {
        "unfinished_16mib_answers": sorted(set(results)),
        "8mib_header": big,
        "5000_headers": many,
        "held": all(r.startswith(("HTTP/1.1 431", "reset")) for r in [*results, big, many]),
        **meanwhile,
    }


async def attack_bodies(port: int, base: str, signature: bytes | None) -> dict[str, Any]:
    """20 concurrent 24 MiB bodies, unsigned or with a wrong signature."""

    async def body() -> str:
        conn = await _open(port)
        if conn is None:
            return "no connection"
        reader, writer = conn
        head = b"POST /webhook HTTP/1.1\r\nHost: x\r\nX-GitHub-Event: issues\r\nContent-Length: %d\r\n" % (24 * MiB)
        if signature:
            head += b"X-Hub-Signature-256: " + signature + b"\r\n"
        try:
            writer.write(head + b"\r\n")
            for _ in range(24):
                writer.write(b"x" * MiB)
                await writer.drain()
        except ConnectionError:
            pass
        return await _first_line(reader, writer)

    results, meanwhile = await asyncio.gather(
        asyncio.gather(*(body() for _ in range(20))), deliveries_meanwhile(base, 4)
    )
    held = all(r.startswith(("HTTP/1.1 401", "HTTP/1.1 408", "reset")) for r in results)
    return {"answers": sorted(set(results)), "held": held, **meanwhile}


async def run_all(port: int, base: str, pid: int, connections: int) -> dict[str, dict[str, Any]]:
    """Every attack in turn, with the server's peak memory growth for each."""
    results: dict[str, dict[str, Any]] = {}
    attacks = [
        ("slowloris", lambda: attack_slow_or_idle(port, base, connections, dribble=True)),
        ("idle", lambda: attack_slow_or_idle(port, base, connections, dribble=False)),
        ("big-headers", lambda: attack_big_headers(port, base)),
        ("unsigned-bodies", lambda: attack_bodies(port, base, None)),
        ("wrongly-signed-bodies", lambda: attack_bodies(port, base, b"sha256=" + b"0" * 64)),
    ]
    for name, attack in attacks:
        before = peak_rss_mib(pid)
        result = await attack()
        result["peak_rss_growth_mib"] = round(peak_rss_mib(pid) - before, 1)
        result["peak_rss_mib"] = round(peak_rss_mib(pid), 1)
        results[name] = result
        print(f"{name}: {json.dumps(result)}", flush=True)
    return results


def main() -> int:
    """Start the server, run the attacks, print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--connections", type=int, default=2000, help="slow / idle connections (default 2000)")
    parser.add_argument("--json", type=Path, help="also write the results as JSON")
    args = parser.parse_args()
    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    with tempfile.TemporaryDirectory(prefix="evolve-attacks-") as tmp:
        port = _free_port()
        base = f"http://127.0.0.1:{port}"
        proc = start_server(Path(tmp), port)
        try:
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                try:
                    if httpx.get(f"{base}/readyz", timeout=1).status_code == 200:
                        break
                except httpx.HTTPError:
                    time.sleep(0.3)
            else:
                print((Path(tmp) / "serve.log").read_text(), file=sys.stderr)
                return 2
            print(f"evolve serve pid {proc.pid}, peak RSS at start {peak_rss_mib(proc.pid):.1f} MiB", flush=True)
            results = asyncio.run(run_all(port, base, proc.pid, args.connections))
        finally:
            proc.terminate()
            proc.wait(timeout=30)
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))
    ok = all(r["held"] and r["all_202"] for r in results.values())
    print("every limit held, every signed delivery got 202" if ok else "A LIMIT DID NOT HOLD")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
