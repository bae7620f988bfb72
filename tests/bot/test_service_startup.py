"""`evolve serve` start-up: bad credentials exit 2 with a message; no credentials at all is setup mode."""

from __future__ import annotations

import re
import socket
import uuid

import httpx
import pytest

from tests.bot.conftest import postgres_reachable
from tests.bot.live_server import base_env, credential_env, live_server, run_cli, server_log


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ({"EVOLVE_APP_ID": "abc"}, "EVOLVE_APP_ID must be the app's numeric id, not 'abc'"),
        ({"EVOLVE_PRIVATE_KEY": "not a key"}, "EVOLVE_PRIVATE_KEY is not a PEM private key"),
        ({"EVOLVE_WEBHOOK_SECRET": ""}, "EVOLVE_WEBHOOK_SECRET is not set"),
        ({"EVOLVE_APP_ID": ""}, "EVOLVE_APP_ID is not set"),
        ({"EVOLVE_MAX_CONNECTIONS": "many"}, "invalid settings: EVOLVE_MAX_CONNECTIONS"),
    ],
)
def test_bad_credentials_exit_2_with_a_message(tmp_path, override, message):
    env = {**base_env(tmp_path), **credential_env(), **override}
    result = run_cli(["serve", "--port", "1"], env, tmp_path)
    assert result.returncode == 2, result.stderr
    assert message in result.stderr
    assert "PRIVATE KEY-----" not in result.stderr + result.stdout


def test_missing_key_file_is_named(tmp_path):
    env = {**base_env(tmp_path), **credential_env()}
    del env["EVOLVE_PRIVATE_KEY"]
    env["EVOLVE_PRIVATE_KEY_PATH"] = str(tmp_path / "nowhere" / "app.pem")
    result = run_cli(["serve", "--port", "1"], env, tmp_path)
    assert result.returncode == 2
    assert f"the private key file {tmp_path / 'nowhere' / 'app.pem'} does not exist" in result.stderr


def test_a_worker_without_the_token_service_exits_2(tmp_path):
    result = run_cli(["serve", "--port", "1", "--role", "worker"], base_env(tmp_path), tmp_path)
    assert result.returncode == 2
    assert "set EVOLVE_TOKEN_SERVICE_URL" in result.stderr and "EVOLVE_INTERNAL_SECRET is not set" in result.stderr
    # the App's key is no substitute: a worker never mints tokens itself
    result = run_cli(["serve", "--port", "1", "--role", "worker"], {**base_env(tmp_path), **credential_env()}, tmp_path)
    assert result.returncode == 2 and "set EVOLVE_TOKEN_SERVICE_URL" in result.stderr


def test_a_short_internal_secret_exits_2(tmp_path):
    env = {**base_env(tmp_path), "EVOLVE_TOKEN_SERVICE_URL": "http://127.0.0.1:1", "EVOLVE_INTERNAL_SECRET": "short"}
    result = run_cli(["serve", "--port", "1", "--role", "worker"], env, tmp_path)
    assert result.returncode == 2 and "EVOLVE_INTERNAL_SECRET must be at least 32 characters" in result.stderr
    result = run_cli(["serve", "--port", "1"], {**base_env(tmp_path), **credential_env(), **env}, tmp_path)
    assert result.returncode == 2 and "EVOLVE_INTERNAL_SECRET must be at least 32 characters" in result.stderr


def test_no_credentials_is_setup_mode_with_a_one_time_token(tmp_path):
    env = {**base_env(tmp_path), "EVOLVE_PUBLIC_URL": "https://evolve.example.org"}
    with live_server(tmp_path, env, ready_status=503) as server:
        ready = httpx.get(f"{server.base}/readyz")
        assert ready.status_code == 503 and ready.json()["reason"].startswith("setup mode")
        match = re.search(r"https://evolve\.example\.org/setup\?token=([A-Za-z0-9_\-]+)", server_log(tmp_path, server))
        assert match, server_log(tmp_path, server)
        assert httpx.get(f"{server.base}/setup").status_code == 404
        assert httpx.get(f"{server.base}/setup", params={"token": "x" + match.group(1)}).status_code == 404
        page = httpx.get(f"{server.base}/setup", params={"token": match.group(1)})
        assert page.status_code == 200 and "https://evolve.example.org/webhook" in page.text
        assert str(tmp_path) not in page.text


def test_setup_mode_without_public_url_says_so_in_the_log(tmp_path):
    with live_server(tmp_path, base_env(tmp_path), ready_status=503) as server:
        assert "EVOLVE_PUBLIC_URL is not set" in server_log(tmp_path, server)


def _one_error_line(result) -> str:
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr + result.stdout
    (line,) = result.stderr.splitlines()
    return line


def test_a_port_in_use_is_one_line_naming_the_port_and_exit_2(tmp_path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = run_cli(["serve", "--port", str(port)], {**base_env(tmp_path), **credential_env()}, tmp_path)
    assert _one_error_line(result) == (
        f"evolve: error: port {port} on 127.0.0.1 is already in use by another process: stop it, or choose another "
        "port with --port"
    )


@pytest.mark.skipif(not postgres_reachable(), reason="no PostgreSQL server on 127.0.0.1:5432")
def test_a_missing_postgres_database_is_one_line_naming_it_and_exit_2(tmp_path):
    name = f"evolve_missing_{uuid.uuid4().hex[:8]}"
    env = {
        **base_env(tmp_path),
        **credential_env(),
        "EVOLVE_DATABASE_URL": f"postgresql://postgres:pw@127.0.0.1/{name}",
    }
    line = _one_error_line(run_cli(["serve", "--port", "0"], env, tmp_path))
    assert line == (
        f'evolve: error: cannot open the database postgresql://postgres:***@127.0.0.1/{name}: database "{name}" '
        "does not exist; create it (e.g. `createdb` with that name) or point EVOLVE_DATABASE_URL at one that exists"
    )


def test_a_database_url_that_is_none_is_one_line_and_exit_2(tmp_path):
    env = {**base_env(tmp_path), **credential_env(), "EVOLVE_DATABASE_URL": "my database"}
    line = _one_error_line(run_cli(["serve", "--port", "0"], env, tmp_path))
    assert line.startswith("evolve: error: EVOLVE_DATABASE_URL is not a database URL")
