"""`evolve serve` as a real process: it starts with only the three secrets in its environment."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.bot.conftest import sign

REPO_ROOT = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _private_key() -> str:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL, serialization.NoEncryption()
    ).decode()


@pytest.fixture
def server(tmp_path):
    port = _free_port()
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(tmp_path / "home"),
        "PYTHONPATH": str(REPO_ROOT),
        "EVOLVE_APP_ID": "1234",
        "EVOLVE_PRIVATE_KEY": _private_key(),
        "EVOLVE_WEBHOOK_SECRET": "three-secrets-only",
    }
    process = subprocess.Popen(
        [sys.executable, "-c", f"from bot.service.server import serve; serve('127.0.0.1', {port})"],
        env=env,
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if process.poll() is not None:
                pytest.fail(f"server exited: {process.stdout.read()}")
            try:
                if httpx.get(f"{base}/readyz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        else:
            pytest.fail("server did not become ready")
        yield base, tmp_path, process
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()


def test_serve_starts_with_only_the_three_secrets(server):
    base, tmp_path, _process = server
    assert httpx.get(f"{base}/healthz").json() == {"status": "ok"}
    body = json.dumps({"action": "opened", "issue": {"number": 1}}).encode()
    headers = {
        "X-GitHub-Event": "issues",
        "X-GitHub-Delivery": "sub-1",
        "X-Hub-Signature-256": sign(body, "three-secrets-only"),
        "Content-Type": "application/json",
    }
    assert httpx.post(f"{base}/webhook", content=body, headers=headers).status_code == 202
    assert httpx.post(f"{base}/webhook", content=body, headers=headers).status_code == 200
    headers["X-Hub-Signature-256"] = sign(body, "wrong")
    assert httpx.post(f"{base}/webhook", content=body, headers=headers).status_code == 401
    # The default data directory is under $HOME, and holds the SQLite database.
    assert (tmp_path / "home" / ".local" / "share" / "evolve" / "evolve.sqlite").exists()


def test_secrets_never_reach_the_log(server):
    base, _, process = server
    httpx.get(f"{base}/setup")
    process.terminate()
    output = process.communicate(timeout=20)[0]
    assert "three-secrets-only" not in output
    assert "PRIVATE KEY" not in output
