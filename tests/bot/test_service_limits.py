"""Strangers against a real `evolve serve` on 127.0.0.1: slow, idle, oversized and unsigned requests.

Each test attacks with real sockets, checks that the limit holds, and that a signed delivery is
still answered 202 meanwhile. Counts are kept small for CI; `benchmarks/bench_intake_attacks.py`
runs the same attacks with 2,000 connections and reports figures.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator

import pytest

from tests.bot.live_server import LiveServer, base_env, credential_env, live_server

MiB = 1024 * 1024
RESET = b"(connection reset)"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    tmp_path = tmp_path_factory.mktemp("limits")
    env = {
        **base_env(tmp_path),
        **credential_env(),
        "EVOLVE_HEADER_TIMEOUT_SECONDS": "1.5",
        "EVOLVE_BODY_TIMEOUT_SECONDS": "3",
        "EVOLVE_MAX_CONNECTIONS": "400",
        "EVOLVE_MAX_BODY_BYTES_IN_FLIGHT": str(25 * MiB),
    }
    with live_server(tmp_path, env) as running:
        yield running


def _connect(port: int) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", port), timeout=5)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return sock


def _answer(sock: socket.socket, timeout: float = 5.0) -> bytes:
    """Everything the server sends until it closes the connection (or `timeout` passes)."""
    sock.settimeout(timeout)
    data = b""
    try:
        while chunk := sock.recv(65536):
            data += chunk
    except TimeoutError:
        pass
    except ConnectionResetError:
        # The server closed with our unread bytes in its buffer: the kernel answers with a reset, which
        # may discard its 431 before we read it. The refusal is still a refusal.
        return data or RESET
    return data


def _closed_by_server(sock: socket.socket) -> bool:
    sock.settimeout(0.05)
    try:
        sock.recv(65536)  # the server's 408 (it closes right after writing it) or EOF
        return True
    except (TimeoutError, BlockingIOError):
        return False
    except (ConnectionResetError, BrokenPipeError):
        return True


def test_slowloris_connections_are_cut_and_deliveries_still_answered(server):
    sockets = [_connect(server.port) for _ in range(300)]
    for sock in sockets:
        sock.sendall(b"POST /webhook HTTP/1.1\r\nHost: x\r\n")
    started = time.monotonic()
    # Keep dribbling one header byte at a time, as a slowloris client does.
    while time.monotonic() - started < 0.6:
        for sock in sockets:
            try:
                sock.send(b"X")
            except OSError:
                pass
        status, took = server.signed_delivery()
        assert status == 202 and took < 1.0
        time.sleep(0.1)
    deadline = started + 1.5 + 2.0
    open_ones = list(sockets)
    while open_ones and time.monotonic() < deadline:
        open_ones = [sock for sock in open_ones if not _closed_by_server(sock)]
        time.sleep(0.1)
    assert open_ones == [], f"{len(open_ones)} slow connections still open after the header timeout"
    for sock in sockets:
        sock.close()
    assert server.signed_delivery()[0] == 202


def test_idle_connections_beyond_the_cap_evict_the_oldest(server):
    sockets = [_connect(server.port) for _ in range(450)]  # cap is 400
    time.sleep(0.3)
    status, took = server.signed_delivery()
    assert status == 202 and took < 1.0
    evicted = sum(_closed_by_server(sock) for sock in sockets[:100])
    assert evicted >= 40  # the oldest ones made room for the newer ones
    for sock in sockets:
        sock.close()


@pytest.mark.parametrize(
    "head",
    [
        b"POST /webhook HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * (8 * MiB) + b"\r\n\r\n",
        b"POST /webhook HTTP/1.1\r\nHost: x\r\n" + b"".join(b"X-%d: 1\r\n" % i for i in range(5000)) + b"\r\n",
        b"GET /" + b"a" * (1 * MiB) + b" HTTP/1.1\r\nHost: x\r\n\r\n",
    ],
    ids=["8MiB-header", "5000-headers", "1MiB-url"],
)
def test_oversized_heads_are_refused_431(server, head):
    before = server.rss_peak_kib()
    sock = _connect(server.port)
    try:
        sock.sendall(head)
    except (BrokenPipeError, ConnectionResetError):
        pass  # the server refused and closed before we finished
    answer = _answer(sock)
    sock.close()
    # The server reads and discards the rest of the head after its answer (a lingering close), so the
    # 431 is not lost to a reset.
    assert answer.startswith(b"HTTP/1.1 431"), answer[:100]
    assert server.rss_peak_kib() - before < 16 * 1024
    assert server.signed_delivery()[0] == 202


def test_forty_unfinished_huge_headers_do_not_grow_the_process(server):
    before = server.rss_peak_kib()
    sockets = [_connect(server.port) for _ in range(40)]
    refused = 0
    for sock in sockets:
        sock.sendall(b"POST /webhook HTTP/1.1\r\nX-Big: ")
        try:
            for _ in range(20):  # up to 20 MiB each, never finished
                sock.sendall(b"a" * MiB)
        except (BrokenPipeError, ConnectionResetError):
            refused += 1  # cut once the server stopped discarding
        else:
            refused += _answer(sock, timeout=3).startswith(b"HTTP/1.1 431")
    assert refused == 40
    assert server.rss_peak_kib() - before < 16 * 1024
    assert server.signed_delivery()[0] == 202
    for sock in sockets:
        sock.close()


def test_unsigned_request_is_answered_401_before_its_body_is_read(server):
    sock = _connect(server.port)
    sock.sendall(
        b"POST /webhook HTTP/1.1\r\nHost: x\r\nX-GitHub-Event: issues\r\nContent-Type: application/json\r\n"
        b"Content-Length: %d\r\n\r\n" % (24 * MiB)
    )
    answer = _answer(sock, timeout=3)  # no body byte sent: the answer must not wait for it
    sock.close()
    assert answer.startswith(b"HTTP/1.1 401"), answer[:100]
    assert b"connection: close" in answer.lower()


def test_declared_body_above_the_cap_is_413_before_reading(server):
    sock = _connect(server.port)
    sock.sendall(
        b"POST /webhook HTTP/1.1\r\nHost: x\r\nX-GitHub-Event: issues\r\nX-Hub-Signature-256: sha256="
        + b"0" * 64
        + b"\r\nContent-Length: %d\r\n\r\n" % (26 * MiB)
    )
    answer = _answer(sock, timeout=3)
    sock.close()
    assert answer.startswith(b"HTTP/1.1 413"), answer[:100]


def _send_wrongly_signed(port: int, size: int, results: list[bytes]) -> None:
    sock = _connect(port)
    try:
        sock.sendall(
            b"POST /webhook HTTP/1.1\r\nHost: x\r\nX-GitHub-Event: issues\r\nX-Hub-Signature-256: sha256="
            + b"0" * 64
            + b"\r\nContent-Length: %d\r\n\r\n" % size
        )
        chunk = b"x" * MiB
        for _ in range(size // MiB):
            sock.sendall(chunk)
        results.append(_answer(sock, timeout=20))
    except OSError as error:
        results.append(repr(error).encode())
    finally:
        sock.close()


def test_concurrent_wrongly_signed_24mib_bodies_stay_within_the_body_budget(server):
    before = server.rss_peak_kib()
    results: list[bytes] = []
    threads = [threading.Thread(target=_send_wrongly_signed, args=(server.port, 24 * MiB, results)) for _ in range(8)]
    for thread in threads:
        thread.start()
    time.sleep(0.2)
    status, took = server.signed_delivery(timeout=10)
    for thread in threads:
        thread.join(60)
    assert status == 202 and took < 1.0
    assert len(results) == 8
    assert all(r.startswith((b"HTTP/1.1 401", b"HTTP/1.1 408")) for r in results), [r[:40] for r in results]
    grown_mib = (server.rss_peak_kib() - before) / 1024
    # Without the budget, 8 bodies of 24 MiB held at once grew the process by 200+ MiB.
    assert grown_mib < 100, grown_mib


def test_slow_body_is_cut_with_408(server):
    sock = _connect(server.port)
    sock.sendall(
        b"POST /webhook HTTP/1.1\r\nHost: x\r\nX-GitHub-Event: issues\r\nX-Hub-Signature-256: sha256="
        + b"0" * 64
        + b"\r\nContent-Length: 1000\r\n\r\n{"
    )
    answer = _answer(sock, timeout=6)
    sock.close()
    assert answer.startswith(b"HTTP/1.1 408"), answer[:100]


def test_a_100k_deep_signed_payload_is_400(server):
    import httpx

    from tests.bot.conftest import sign
    from tests.bot.live_server import SECRET

    body = b"[" * 100_000 + b"]" * 100_000
    headers = {
        "X-GitHub-Event": "issues",
        "X-GitHub-Delivery": "deep-1",
        "X-Hub-Signature-256": sign(body, SECRET),
        "Content-Type": "application/json",
    }
    response = httpx.post(f"{server.base}/webhook", content=body, headers=headers, timeout=10)
    assert response.status_code == 400
    assert response.json() == {"message": "payload is not valid JSON"}
    deep_object = b'{"a":' * 100_000 + b"1" + b"}" * 100_000
    headers["X-Hub-Signature-256"] = sign(deep_object, SECRET)
    assert httpx.post(f"{server.base}/webhook", content=deep_object, headers=headers, timeout=10).status_code == 400


def test_a_large_signed_delivery_in_one_write_passes_the_head_limit(server):
    import json
    import uuid

    from tests.bot.conftest import sign
    from tests.bot.live_server import SECRET

    body = json.dumps({"action": "opened", "issue": {"number": 1, "body": "x" * (3 * MiB)}}).encode()
    head = (
        b"POST /webhook HTTP/1.1\r\nHost: x\r\nX-GitHub-Event: issues\r\nX-GitHub-Delivery: "
        + str(uuid.uuid4()).encode()
        + b"\r\nX-Hub-Signature-256: "
        + sign(body, SECRET).encode()
        + b"\r\nContent-Type: application/json\r\nConnection: close\r\nContent-Length: %d\r\n\r\n" % len(body)
    )
    sock = _connect(server.port)
    sock.sendall(head + body)  # head and body in the same segments: only the head counts against the limit
    answer = _answer(sock, timeout=10)
    sock.close()
    assert answer.startswith(b"HTTP/1.1 202"), answer[:100]
