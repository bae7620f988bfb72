"""The real egress proxy, and the real sandbox behind it, against a listener on the host's loopback that the
policy must keep out of reach (by IP, by a name the proxy resolves to loopback, directly, through DNS)."""

from __future__ import annotations

import socket
import sys
import threading
from pathlib import Path

import pytest

from evolve.sandbox import SandboxSpec, interpreter_mounts, policy_for, run_sandboxed
from evolve.sandbox.egress_proxy import EgressProxy


class Listener:
    """A TCP listener on 127.0.0.1 that counts every connection it accepts."""

    def __init__(self) -> None:
        self.server = socket.socket()
        self.server.bind(("127.0.0.1", 0))
        self.server.listen(16)
        self.port = self.server.getsockname()[1]
        self.accepted = 0
        self.thread = threading.Thread(target=self._accept, daemon=True)
        self.thread.start()

    def _accept(self) -> None:
        while True:
            try:
                connection, _ = self.server.accept()
            except OSError:
                return
            self.accepted += 1
            connection.sendall(b"HTTP/1.0 200 OK\r\nContent-Length: 7\r\n\r\nreached")
            connection.close()

    def close(self) -> None:
        self.server.close()


@pytest.fixture
def listener():
    opened = Listener()
    yield opened
    opened.close()


def _ask(path: Path, request: bytes) -> bytes:
    with socket.socket(socket.AF_UNIX) as client:
        client.settimeout(20)
        client.connect(str(path))
        client.sendall(request)
        answer = b""
        while chunk := client.recv(4096):
            answer += chunk
    return answer


def test_the_proxy_refuses_loopback_by_address_by_name_and_by_a_name_it_resolves_there(tmp_path, listener):
    port = listener.port
    # The operator even lists the names: the resolved address still decides.
    policy = policy_for(None, None, [f"localhost:{port}", f"index.test:{port}"])
    rebinding = {"index.test": ["127.0.0.1"]}  # a listed name that resolves to loopback

    def resolver(host: str, port: int) -> list[str]:
        return rebinding.get(host) or [info[4][0] for info in socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)]

    with EgressProxy(policy, tmp_path / "egress.sock", resolver=resolver) as proxy:
        answers = [
            _ask(proxy.path, f"CONNECT 127.0.0.1:{port} HTTP/1.1\r\n\r\n".encode()),
            _ask(proxy.path, f"CONNECT localhost:{port} HTTP/1.1\r\n\r\n".encode()),
            _ask(proxy.path, f"GET http://index.test:{port}/simple/ HTTP/1.1\r\nHost: x\r\n\r\n".encode()),
            _ask(proxy.path, b"CONNECT pypi.org:5432 HTTP/1.1\r\n\r\n"),
            _ask(proxy.path, b"CONNECT metadata.google.internal:80 HTTP/1.1\r\n\r\n"),
        ]
    assert all(answer.startswith(b"HTTP/1.1 403 ") for answer in answers), answers
    assert listener.accepted == 0
    assert any("IP address" in reason for reason in proxy.refused)
    assert any("loopback" in reason for reason in proxy.refused)
    assert any("not a configured package index" in reason for reason in proxy.refused)


SANDBOXED_ATTACK = """
import socket, sys, urllib.request
port = int(sys.argv[1])
results = []
for label, attempt in [
    ("direct", lambda: socket.create_connection(("127.0.0.1", port), timeout=5)),
    ("dns", lambda: socket.getaddrinfo("pypi.org", 443)),
    ("http via proxy", lambda: urllib.request.urlopen(f"http://localhost:{port}/", timeout=10).read()),
    ("connect via proxy", lambda: urllib.request.urlopen(f"https://localhost:{port}/", timeout=10).read()),
    ("ip via proxy", lambda: urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=10).read()),
]:
    try:
        attempt()
        results.append(label + ": reached")
    except Exception as error:
        results.append(label + ": blocked")
print("; ".join(results))
"""


def test_a_sandbox_with_egress_reaches_the_host_by_no_route(listener):
    policy = policy_for(None, None, [f"localhost:{listener.port}"])
    result = run_sandboxed(
        SandboxSpec(
            argv=(sys.executable, "-c", SANDBOXED_ATTACK, str(listener.port)),
            timeout=120,
            mounts=interpreter_mounts(sys.executable),
            egress=policy,
        )
    )
    assert result.ok, result.stderr
    assert "reached" not in result.stdout and result.stdout.count("blocked") == 5, result.stdout
    assert listener.accepted == 0
    assert result.network_isolated and result.egress_refused
    assert "sandbox: the egress proxy refused: localhost:" in result.stderr


def test_without_egress_there_is_no_proxy_and_no_route(listener):
    code = (
        "import os, socket\n"
        "print(sorted(k for k in os.environ if 'PROXY' in k.upper()))\n"
        f"socket.create_connection(('127.0.0.1', {listener.port}), timeout=5)\n"
    )
    result = run_sandboxed(
        SandboxSpec(argv=(sys.executable, "-c", code), timeout=60, mounts=interpreter_mounts(sys.executable))
    )
    assert not result.ok and result.stdout.strip() == "[]"
    assert listener.accepted == 0 and result.network_isolated


def test_without_socat_an_egress_run_fails_clearly_and_never_falls_back_to_the_host(monkeypatch):
    import evolve.sandbox.runner as runner

    found = runner.shutil.which
    monkeypatch.setattr(runner.shutil, "which", lambda name: None if name == "socat" else found(name))
    result = run_sandboxed(
        SandboxSpec(argv=(sys.executable, "-c", "print('ran')"), timeout=30, egress=policy_for(None, None))
    )
    assert not result.ok and "ran" not in result.stdout
    assert "needs socat" in result.stderr
