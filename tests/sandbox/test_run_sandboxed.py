"""run_sandboxed: the real bubblewrap on real commands — environment, tree copy, outputs, limits, results."""

import os
import socket
import sys
from pathlib import Path

import pytest

from evolve.sandbox import (
    SANDBOX_HOME,
    ResourceLimits,
    SandboxSpec,
    interpreter_mounts,
    policy_for,
    read_output_file,
    run_sandboxed,
    sandbox_support,
    scrubbed_environment,
)

PYTHON = interpreter_mounts(sys.executable)


def _python(code: str, **fields) -> SandboxSpec:
    fields.setdefault("timeout", 60)
    return SandboxSpec(argv=(sys.executable, "-c", code), mounts=PYTHON, **fields)


def test_bubblewrap_is_available_here():
    support = sandbox_support()
    assert support.available, support.reason
    assert support.mechanism == "bubblewrap"


def test_secrets_never_reach_the_child(monkeypatch):
    for name in ("GITHUB_TOKEN", "ANTHROPIC_API_KEY", "EVOLVE_WEBHOOK_SECRET", "DB_PASSWORD", "MY_PRIVATE_THING"):
        monkeypatch.setenv(name, "s3cr3t-value")
    result = run_sandboxed(_python("import os, json; print(json.dumps(dict(os.environ)))"))
    assert result.ok, result.stderr
    assert "s3cr3t-value" not in result.stdout
    assert f'"HOME": "{SANDBOX_HOME}"' in result.stdout
    assert result.isolation == "bubblewrap" and result.network_isolated


def test_the_tree_is_a_copy_without_git(tmp_path):
    tree = tmp_path / "tree"
    (tree / ".git").mkdir(parents=True)
    (tree / ".git" / "config").write_text("[core]\n")
    (tree / "mod.py").write_text("VALUE = 1\n")
    (tree / "outside").symlink_to("/etc/shadow")
    code = (
        "import os; print(sorted(os.listdir('.'))); open('mod.py', 'w').write('VALUE = 2\\n');"
        "open('new.txt', 'w').write('x'); print(os.path.exists('outside') and 'followed' or 'dangling')"
    )
    result = run_sandboxed(_python(code, tree=tree))
    assert result.ok, result.stderr
    assert "['mod.py', 'outside']" in result.stdout and "dangling" in result.stdout
    assert (tree / "mod.py").read_text() == "VALUE = 1\n" and not (tree / "new.txt").exists()


def test_outputs_come_back_only_as_plain_files(tmp_path):
    outputs = tmp_path / "out"
    outputs.mkdir()
    code = (
        "import os; open('/work/out/report.xml', 'w').write('<ok/>');"
        "os.symlink('/etc/passwd', '/work/out/link'); open('/work/out/big', 'w').write('x' * 5000)"
    )
    result = run_sandboxed(_python(code, outputs=outputs))
    assert result.ok, result.stderr
    assert read_output_file(outputs, "report.xml", 1000) == b"<ok/>"
    assert read_output_file(outputs, "link", 1000) is None
    assert read_output_file(outputs, "big", 1000) is None
    assert read_output_file(outputs, "missing", 1000) is None
    with pytest.raises(ValueError):
        read_output_file(outputs, "../etc/passwd", 1000)


def test_timeout_kills_the_process_tree():
    code = "import subprocess, sys, time; subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)']); time.sleep(60)"
    result = run_sandboxed(_python(code, timeout=1))
    assert result.timed_out and not result.ok and result.duration < 30


def test_memory_limit_applies():
    result = run_sandboxed(
        _python(
            "x = bytearray(1024**3); x[::4096] = b'1' * len(x[::4096])",
            limits=ResourceLimits(memory_bytes=256 * 1024**2),
        )
    )
    assert result.returncode != 0
    assert "cgroup" in result.limits_enforced


def test_file_size_limit_applies():
    result = run_sandboxed(
        _python("open('/tmp/big', 'wb').write(b'x' * 10000)", limits=ResourceLimits(file_size_bytes=1024))
    )
    assert result.returncode != 0


def test_missing_program_is_a_result_not_an_exception():
    result = run_sandboxed(SandboxSpec(argv=("definitely-not-a-program-xyz",), timeout=10))
    assert result.returncode != 0 and not result.timed_out
    assert "definitely-not-a-program-xyz" in result.stderr


def test_extra_secret_looking_variables_are_refused():
    with pytest.raises(ValueError):
        scrubbed_environment({"GITHUB_TOKEN": "x"})
    env = scrubbed_environment({"COVERAGE_FILE": "/tmp/c"}, parent={"PATH": "/root/bin", "API_KEY": "k", "LANG": "C"})
    assert env["COVERAGE_FILE"] == "/tmp/c" and "API_KEY" not in env and "/root" not in env["PATH"]


def test_network_is_isolated_but_loopback_works():
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
        isolated = run_sandboxed(_python(script))
        with_egress = run_sandboxed(_python(script, egress=policy_for(None, None)))
    finally:
        server.close()
    assert isolated.network_isolated
    assert "own loopback ok" in isolated.stdout and "host unreachable" in isolated.stdout
    # Egress granted is the proxy to the package index, never the host's namespace.
    assert "host unreachable" in with_egress.stdout and with_egress.network_isolated


def test_scratch_directories_are_removed(tmp_path):
    tree = tmp_path / "tree"
    tree.mkdir()
    result = run_sandboxed(_python("import os; print(os.getcwd())", tree=tree))
    assert result.ok
    from evolve.sandbox.trees import scratch_root

    leftovers = [entry for entry in scratch_root().iterdir() if entry.name.startswith(f"{os.getpid()}-")]
    assert leftovers == []


def test_sweep_removes_what_a_dead_process_left(tmp_path):
    from evolve.sandbox import sweep_stale_sandboxes

    stale = tmp_path / "999999999-abc"
    (stale / "repo").mkdir(parents=True)
    (stale / "repo" / "f").write_text("x")
    os.chmod(stale / "repo", 0o500)
    live = tmp_path / f"{os.getpid()}-def"
    live.mkdir()
    assert sweep_stale_sandboxes(tmp_path) >= 1
    assert not stale.exists() and live.exists()
    assert Path(tmp_path).exists()


def test_the_cli_sweeps_at_start_up(capsys):
    from evolve.cli import main
    from evolve.sandbox.trees import scratch_root

    scratch_root().mkdir(mode=0o700, exist_ok=True)
    stale = scratch_root() / "999999998-crashed"
    (stale / "repo").mkdir(parents=True)
    main(["codemods"])
    capsys.readouterr()
    assert not stale.exists()
