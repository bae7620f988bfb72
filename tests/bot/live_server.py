"""A real `evolve serve` process on 127.0.0.1 for tests that need real sockets (limits, start-up)."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

from tests.bot.conftest import sign

REPO_ROOT = Path(__file__).resolve().parents[2]
SECRET = "live-server-secret"


def free_port() -> int:
    """A TCP port nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def private_key() -> str:
    """A fresh RSA key in PEM form."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL, serialization.NoEncryption()
    ).decode()


def base_env(tmp_path: Path) -> dict[str, str]:
    """A minimal environment: PATH, a private HOME, the repository on PYTHONPATH."""
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(tmp_path / "home"),
        "PYTHONPATH": str(REPO_ROOT),
    }


def credential_env() -> dict[str, str]:
    """The three secrets of a configured app."""
    return {"EVOLVE_APP_ID": "1234", "EVOLVE_PRIVATE_KEY": private_key(), "EVOLVE_WEBHOOK_SECRET": SECRET}


def run_cli(args: list[str], env: dict[str, str], cwd: Path, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    """`evolve ARGS` as a subprocess (stdout and stderr captured)."""
    code = f"import sys; from evolve.cli import main; sys.exit(main({args!r}))"
    return subprocess.run(
        [sys.executable, "-c", code], env=env, cwd=cwd, capture_output=True, text=True, timeout=timeout, check=False
    )


@dataclass
class LiveServer:
    """A running server: its base URL, port and process."""

    base: str
    port: int
    process: subprocess.Popen[str]

    def rss_peak_kib(self) -> int:
        """The process's peak resident set size (VmHWM) in KiB."""
        for line in Path(f"/proc/{self.process.pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
        raise AssertionError("no VmHWM")

    def signed_delivery(self, timeout: float = 5.0) -> tuple[int, float]:
        """POST a signed `issues` delivery; return its status and how long the answer took."""
        body = json.dumps({"action": "opened", "issue": {"number": 1}}).encode()
        headers = {
            "X-GitHub-Event": "issues",
            "X-GitHub-Delivery": str(uuid.uuid4()),
            "X-Hub-Signature-256": sign(body, SECRET),
            "Content-Type": "application/json",
        }
        started = time.monotonic()
        response = httpx.post(f"{self.base}/webhook", content=body, headers=headers, timeout=timeout)
        return response.status_code, time.monotonic() - started


@contextmanager
def live_server(
    tmp_path: Path,
    env: dict[str, str],
    *,
    ready_status: int = 200,
    port: int | None = None,
    args: tuple[str, ...] = (),
) -> Iterator[LiveServer]:
    """Start `evolve serve` with `env` (on `port`, else a free one, plus `args`); wait until `/readyz` answers
    `ready_status`; stop it afterwards."""
    port = port or free_port()
    argv = ["serve", "--port", str(port), *args]
    code = f"import sys; from evolve.cli import main; sys.exit(main({argv!r}))"
    log = (tmp_path / f"serve-{port}.log").open("w+")
    process = subprocess.Popen(
        [sys.executable, "-c", code], env=env, cwd=tmp_path, stdout=log, stderr=subprocess.STDOUT, text=True
    )
    server = LiveServer(f"http://127.0.0.1:{port}", port, process)
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if process.poll() is not None:
                log.seek(0)
                raise AssertionError(f"server exited: {log.read()}")
            try:
                if httpx.get(f"{server.base}/readyz", timeout=1).status_code == ready_status:
                    break
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        else:
            raise AssertionError("server did not become ready")
        yield server
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
        log.close()


def server_log(tmp_path: Path, server: LiveServer) -> str:
    """What the server wrote so far."""
    return (tmp_path / f"serve-{server.port}.log").read_text()
