"""Untrusted subprocesses: scrubbed environment, own HOME, timeout, resource limits."""

import os
import sys

import pytest

from evolve.sandbox import ResourceLimits, run_untrusted, scrubbed_environment


def test_secrets_never_reach_the_child(tmp_path, monkeypatch):
    for name in (
        "GITHUB_TOKEN",
        "ANTHROPIC_API_KEY",
        "EVOLVE_WEBHOOK_SECRET",
        "DB_PASSWORD",
        "AWS_SECRET_ACCESS_KEY",
        "MY_PRIVATE_THING",
    ):
        monkeypatch.setenv(name, "s3cr3t-value")
    result = run_untrusted(
        [sys.executable, "-c", "import os, json; print(json.dumps(dict(os.environ)))"], tmp_path, timeout=30
    )
    assert result.ok
    assert "s3cr3t-value" not in result.stdout
    assert "HOME" in result.stdout and os.path.expanduser("~") not in result.stdout.split('"HOME": ')[1].split(",")[0]


def test_own_home_is_removed_afterwards(tmp_path):
    result = run_untrusted([sys.executable, "-c", "import os; print(os.environ['HOME'])"], tmp_path, timeout=30)
    home = result.stdout.strip()
    assert home.startswith(("/tmp", os.environ.get("TMPDIR", "/tmp")))
    assert not os.path.exists(home)


def test_timeout_kills_the_process_tree(tmp_path):
    script = "import subprocess, sys, time; subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)']); time.sleep(60)"
    result = run_untrusted([sys.executable, "-c", script], tmp_path, timeout=1)
    assert result.timed_out and not result.ok and result.duration < 30


def test_memory_limit_applies(tmp_path):
    limits = ResourceLimits(memory_bytes=256 * 1024**2)
    result = run_untrusted([sys.executable, "-c", "x = bytearray(1024**3)"], tmp_path, timeout=30, limits=limits)
    assert result.returncode != 0 and "MemoryError" in result.stderr


def test_file_size_limit_applies(tmp_path):
    limits = ResourceLimits(file_size_bytes=1024)
    result = run_untrusted(
        [sys.executable, "-c", "open('big', 'wb').write(b'x' * 10000)"], tmp_path, timeout=30, limits=limits
    )
    assert result.returncode != 0


def test_missing_program_is_a_result_not_an_exception(tmp_path):
    result = run_untrusted(["definitely-not-a-program-xyz"], tmp_path, timeout=5)
    assert result.returncode == 127 and "cannot start" in result.stderr


def test_extra_secret_looking_variables_are_refused():
    with pytest.raises(ValueError):
        scrubbed_environment({"GITHUB_TOKEN": "x"})
    env = scrubbed_environment({"COVERAGE_FILE": "/tmp/c"}, parent={"PATH": "/bin", "API_KEY": "k", "LANG": "C"})
    assert env["COVERAGE_FILE"] == "/tmp/c" and "API_KEY" not in env and env["PATH"] == "/bin"


def test_network_is_isolated_but_loopback_works(tmp_path):
    import socket

    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()
    port = server.getsockname()[1]
    script = (
        "import socket\n"
        "s = socket.socket(); s.bind(('127.0.0.1', 0)); s.listen()\n"
        "socket.create_connection(s.getsockname(), timeout=5); print('own loopback ok')\n"
        "try:\n"
        f"    socket.create_connection(('127.0.0.1', {port}), timeout=5); print('host reachable')\n"
        "except OSError:\n"
        "    print('host unreachable')\n"
    )
    try:
        isolated = run_untrusted([sys.executable, "-c", script], tmp_path, timeout=60)
        open_net = run_untrusted([sys.executable, "-c", script], tmp_path, timeout=60, isolate_network=False)
    finally:
        server.close()
    assert isolated.network_isolated, "this platform offers network namespaces (unshare); CI runs on it"
    assert "own loopback ok" in isolated.stdout and "host unreachable" in isolated.stdout
    assert "host reachable" in open_net.stdout and not open_net.network_isolated
