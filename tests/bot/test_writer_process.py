"""`evolve serve --role web --processes N` shares the port; `EVOLVE_INTAKE_WRITER=process` records through a writer process.

The frames between a web process and the writer (pure), a `RemoteDeliveryWriter` against a real writer
process on SQLite and on a PostgreSQL database the test creates (new, duplicate, sealed rows; a killed
writer fails the request instead of acknowledging it), and `evolve serve --role web --processes 2` end to
end: both processes answer on one port, every 202 is a row, SIGTERM stops every process.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import create_engine, text

from bot.db import store
from bot.db.deliveries import NewDelivery
from bot.db.delivery_seal import sealer_for
from bot.db.delivery_writer import WriterClosed
from bot.db.writer_process import RemoteDeliveryWriter, decode_records, encode_record
from tests.bot.conftest import postgres_reachable, sign
from tests.bot.live_server import SECRET, base_env, credential_env, live_server, run_cli, server_log

SERVER = "postgresql+psycopg://postgres@127.0.0.1:5432"
REPO_ROOT = Path(__file__).resolve().parents[2]


# -- frames -------------------------------------------------------------------------------------
def test_frames_round_trip_whole_and_in_pieces() -> None:
    deliveries = [
        NewDelivery("d-1", "issues", '{"a": "é ☃"}', action="opened", installation_id=42, seal="ab" * 32),
        NewDelivery("d-2", "ping", "{}"),
        NewDelivery("d-3", "push", "x" * 70_000, action="", installation_id=0, seal=""),
        NewDelivery("d-4", "installation", "{}", installation_id=-(1 << 63)),
    ]
    stream = b"".join(b"".join(encode_record(n, d)) for n, d in enumerate(deliveries, 1))
    assert decode_records(bytearray(stream)) == list(enumerate(deliveries, 1))
    for cut in (1, 7, len(stream) // 3, len(stream) - 1):  # frames split anywhere arrive whole, in order
        buffer, got = bytearray(), []
        for piece in (stream[:cut], stream[cut:]):
            buffer += piece
            got += decode_records(buffer)
        assert got == list(enumerate(deliveries, 1)) and not buffer


def test_only_unclaimed_deliveries_with_int64_installations_are_framed() -> None:
    with pytest.raises(ValueError, match="unclaimed"):
        encode_record(1, NewDelivery("d", "issues", "{}", lease_seconds=5))
    with pytest.raises(ValueError, match="out of range"):
        encode_record(1, NewDelivery("d", "issues", "{}", installation_id=1 << 63))


# -- a real writer process ----------------------------------------------------------------------
def _writer_process(database_url: str, sock: socket.socket) -> subprocess.Popen[bytes]:
    code = (
        "import socket, sys; from bot.db.writer_process import run_writer_process; "
        f"sys.exit(run_writer_process([socket.socket(fileno={sock.fileno()})], {database_url!r}))"
    )
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    return subprocess.Popen([sys.executable, "-c", code], pass_fds=[sock.fileno()], env=env, cwd=REPO_ROOT)


@pytest.fixture
def pg_url() -> Iterator[str]:
    """A fresh PostgreSQL database for one test, dropped afterwards."""
    if not postgres_reachable():
        pytest.skip("no PostgreSQL server on 127.0.0.1:5432")
    name = f"evolve_writer_{uuid.uuid4().hex[:10]}"
    admin = create_engine(f"{SERVER}/test", isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    yield f"postgresql://postgres@127.0.0.1:5432/{name}"
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'writer.sqlite'}" if request.param == "sqlite" else request.getfixturevalue("pg_url")
    store.migrate(url)
    return url


def test_a_writer_process_records_new_and_duplicate_deliveries_then_exits_on_eof(database_url: str) -> None:
    engine = store.make_engine(database_url)
    web_end, writer_end = socket.socketpair()
    writer = _writer_process(database_url, writer_end)
    writer_end.close()
    sealer = sealer_for("k" * 40)

    async def scenario() -> list[bool]:
        remote = RemoteDeliveryWriter(engine, web_end)
        await remote.start()
        try:
            batch = [
                NewDelivery(f"w-{n}", "issues", json.dumps({"n": n}), seal=sealer.seal(f"w-{n}", "issues", b"{}"))
                for n in range(50)
            ]
            first = await asyncio.gather(*(remote.record(d) for d in batch))
            again = await remote.record(batch[7])
            return [*first, again]
        finally:
            await remote.stop()

    outcomes = asyncio.run(scenario())
    assert outcomes == [True] * 50 + [False]
    assert writer.wait(timeout=30) == 0  # the web end closed: it wrote everything and stopped
    db = store.make_sessionmaker(engine)
    assert store.count_deliveries(db, "queued") == 50
    row = store.get_delivery(db, "w-7")
    assert row is not None and row.payload == '{"n": 7}' and row.seal == sealer.seal("w-7", "issues", b"{}")
    engine.dispose()


def test_a_killed_writer_fails_the_request_instead_of_acknowledging_it(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'writer.sqlite'}"
    store.migrate(url)
    engine = store.make_engine(url)
    web_end, writer_end = socket.socketpair()
    writer = _writer_process(url, writer_end)
    writer_end.close()

    async def scenario() -> None:
        remote = RemoteDeliveryWriter(engine, web_end)
        await remote.start()
        assert await remote.record(NewDelivery("before", "issues", "{}"))
        writer.kill()
        writer.wait(timeout=10)
        with pytest.raises(WriterClosed):
            for _ in range(50):  # the first one may be written into the socket before the loss is seen
                await remote.record(NewDelivery(f"after-{uuid.uuid4()}", "issues", "{}"))
                await asyncio.sleep(0.05)
        await remote.stop()

    asyncio.run(scenario())
    assert store.get_delivery(store.make_sessionmaker(engine), "before") is not None
    engine.dispose()


# -- evolve serve --role web --processes 2 ------------------------------------------------------
def _children(pid: int) -> list[int]:
    found = []
    for task in os.listdir(f"/proc/{pid}/task"):
        with open(f"/proc/{pid}/task/{task}/children", encoding="ascii") as handle:
            found += [int(kid) for kid in handle.read().split()]
    return found


def _post(base: str, delivery_id: str) -> int:
    body = json.dumps({"action": "opened", "installation": {"id": 5}, "issue": {"number": 1}}).encode()
    headers = {
        "X-GitHub-Event": "issues",
        "X-GitHub-Delivery": delivery_id,
        "X-Hub-Signature-256": sign(body, SECRET),
        "Content-Type": "application/json",
        "Connection": "close",  # a new connection each time: the kernel spreads them over the processes
    }
    return httpx.post(f"{base}/webhook", content=body, headers=headers, timeout=20).status_code


@pytest.mark.parametrize("writer", ["thread", "process"])
def test_two_web_processes_share_the_port(tmp_path: Path, writer: str) -> None:
    env = {**base_env(tmp_path), **credential_env(), "EVOLVE_DATA_DIR": str(tmp_path / "data")}
    env |= {"EVOLVE_INTERNAL_SECRET": "i" * 40, "EVOLVE_INTAKE_WRITER": writer}
    with live_server(tmp_path, env, args=("--role", "web", "--processes", "2")) as server:
        supervisor = server.process.pid
        children = _children(supervisor)
        assert len(children) == (3 if writer == "process" else 2)  # two web processes (and the writer)
        for number in range(40):
            assert _post(server.base, f"multi-{number}") == 202
        # Each process serves its own /metrics: each saw only part of the 40, and two of them make the whole.
        seen = set()
        for _ in range(40):
            metrics = httpx.get(f"{server.base}/metrics", headers={"Connection": "close"}, timeout=10).text
            seen |= {
                float(line.rsplit(" ", 1)[1])
                for line in metrics.splitlines()
                if line.startswith("evolve_webhook_responses_total") and 'outcome="accepted"' in line
            }
        assert all(0 < value < 40 for value in seen) and any(40 - value in seen for value in seen), seen
        assert _post(server.base, "multi-3") == 200  # a duplicate, whichever process it reaches
        engine = store.make_engine(f"sqlite:///{tmp_path / 'data' / 'evolve.sqlite'}")
        db = store.make_sessionmaker(engine)
        assert store.count_deliveries(db, "queued") == 40
        row = store.get_delivery(db, "multi-0")
        assert row is not None and row.seal == sealer_for("i" * 40).seal("multi-0", "issues", row.payload.encode())
        engine.dispose()
        log = server_log(tmp_path, server)
        assert "2 web processes on 127.0.0.1" in log
        assert log.count("Application startup complete") == 2
        server.process.send_signal(signal.SIGTERM)
        assert server.process.wait(timeout=30) == 0
    for pid in children:  # nothing left behind
        assert not Path(f"/proc/{pid}").exists() or "zombie" in Path(f"/proc/{pid}/status").read_text().lower()


def test_processes_is_refused_outside_the_web_role(tmp_path: Path) -> None:
    env = {**base_env(tmp_path), **credential_env(), "EVOLVE_DATA_DIR": str(tmp_path / "data")}
    result = run_cli(["serve", "--role", "all", "--processes", "2"], env, tmp_path)
    assert result.returncode == 2
    assert "more than one only with --role web" in result.stderr and "Traceback" not in result.stderr


def test_one_web_process_records_through_its_writer_process(tmp_path: Path) -> None:
    env: dict[str, Any] = {**base_env(tmp_path), **credential_env(), "EVOLVE_DATA_DIR": str(tmp_path / "data")}
    env["EVOLVE_INTAKE_WRITER"] = "process"
    with live_server(tmp_path, env, args=("--role", "web")) as server:
        (writer,) = _children(server.process.pid)
        for number in range(10):
            assert _post(server.base, f"one-{number}") == 202
        server.process.send_signal(signal.SIGTERM)
        assert server.process.wait(timeout=30) in (0, -signal.SIGTERM)  # uvicorn re-raises the signal it stopped on
    deadline = time.monotonic() + 10
    while Path(f"/proc/{writer}").exists() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not Path(f"/proc/{writer}").exists()  # the writer went with its web process
    engine = store.make_engine(f"sqlite:///{tmp_path / 'data' / 'evolve.sqlite'}")
    assert store.count_deliveries(store.make_sessionmaker(engine), "queued") == 10
    engine.dispose()
