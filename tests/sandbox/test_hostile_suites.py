"""Hostile test suites run through the real code path (`run_test_suite`): each attack is a repository's test,
and each check asserts that nothing escaped and that the run still ended with a clear result.

The attacking test reports what it managed to see as a base64 JSON blob in its failure message, so the
evidence survives the redaction that TestRun applies to everything from repository code.
"""

from __future__ import annotations

import base64
import json
import os
import re
import socket
import sys
import textwrap
import threading
import time
import uuid
from pathlib import Path

import pytest

from evolve.configuration.model import EvolveConfig
from evolve.sandbox import ResourceLimits
from evolve.suites.runs import TestRun, run_test_suite
from evolve.untrusted_text import REDACTED, forget_secret, register_secret

REPORT = re.compile(r"EVIDENCE:([A-Za-z0-9+/=]+)")
# Shared by every attack: dump what was found as evidence and fail, so it shows in the TestRun.
PRELUDE = """
import base64, ctypes, errno, json, os, socket, subprocess, sys, time

def report(found):
    raise AssertionError("EVIDENCE:" + base64.b64encode(json.dumps(found).encode()).decode())
"""


def _repo(tmp_path: Path, attack: str, extra: dict[str, str] | None = None) -> Path:
    root = tmp_path / "hostile"
    (root / "tests").mkdir(parents=True)
    (root / "tests" / "test_attack.py").write_text(PRELUDE + textwrap.dedent(attack), encoding="utf-8")
    for name, text in (extra or {}).items():
        (root / name).write_text(textwrap.dedent(text), encoding="utf-8")
    return root


def _run(root: Path, timeout: float = 120, **kwargs) -> TestRun:
    return run_test_suite(root, EvolveConfig(), with_coverage=False, timeout=timeout, **kwargs)


def _evidence(run: TestRun) -> dict:
    match = REPORT.search(run.failure_details)
    assert match, f"the attack did not report (returncode {run.returncode}): {run.output_tail}"
    return json.loads(base64.b64decode(match.group(1)))


def _host_processes_with(marker: str) -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                if marker.encode() in Path(f"/proc/{entry}/cmdline").read_bytes():
                    found.append(int(entry))
            except OSError:
                pass
    return found


def test_ancestor_environments_are_out_of_reach(tmp_path, monkeypatch):
    secret, canary = f"whsec-{uuid.uuid4().hex}", f"canary-{uuid.uuid4().hex}"
    monkeypatch.setenv("EVOLVE_WEBHOOK_SECRET", secret)
    monkeypatch.setenv("EVOLVE_INNOCENT_LOOKING", canary)
    root = _repo(
        tmp_path,
        """
        def test_read_every_environ():
            found = {"pids": [], "environ": {}}
            for pid in [os.getppid()] + [int(p) for p in os.listdir("/proc") if p.isdigit()]:
                found["pids"].append(pid)
                for name in ("environ", "cmdline"):
                    try:
                        found["environ"][f"{pid}/{name}"] = open(f"/proc/{pid}/{name}", "rb").read().decode("latin-1")
                    except OSError as error:
                        found["environ"][f"{pid}/{name}"] = f"refused: {error.errno}"
            report(found)
        """,
    )
    run = _run(root)
    evidence = _evidence(run)
    dump = json.dumps(evidence)
    assert secret not in dump and canary not in dump
    assert max(evidence["pids"]) < 10, "only the sandbox's own PID namespace is visible"
    assert run.isolation == "bubblewrap" and run.failing_tests == ("tests/test_attack.py::test_read_every_environ",)


def test_key_home_and_database_files_are_out_of_reach(tmp_path, monkeypatch):
    # Two homes: one under /tmp (the sandbox has a private /tmp anyway), one beside Evolve's own virtualenv,
    # which the sandbox must bind read-only without exposing what lies next to it.
    beside_venv = Path(sys.prefix).parent / f".hostile-home-{uuid.uuid4().hex[:8]}"
    homes = [tmp_path / "home", beside_venv]
    targets: list[str] = []
    try:
        for home in homes:
            (home / ".ssh").mkdir(parents=True)
            (home / "data").mkdir()
            for name, text in {
                ".ssh/id_ed25519": "PRIVATE KEY",
                ".netrc": "machine x password y",
                ".gitconfig": "[user]\n",
                "data/app-private-key.pem": "-----BEGIN RSA PRIVATE KEY-----",
                "data/evolve.sqlite": "SQLite format 3\x00",
            }.items():
                (home / name).write_text(text)
                targets.append(str(home / name))
        monkeypatch.setenv("HOME", str(homes[1]))
        monkeypatch.setenv("EVOLVE_DATA_DIR", str(homes[1] / "data"))
        monkeypatch.setenv("EVOLVE_PRIVATE_KEY_PATH", str(homes[1] / "data" / "app-private-key.pem"))
        before = {path: Path(path).read_bytes() for path in targets}
        root = _repo(
            tmp_path,
            f"""
            TARGETS = {targets!r} + ["/root/.ssh", "/root/.bash_history", "/etc/shadow", "/var/run/postgresql",
                                     "/run", os.path.expanduser("~/.ssh/id_ed25519"), "{Path(sys.prefix).parent}"]
            def test_steal_and_tamper():
                found = {{}}
                for path in TARGETS:
                    try:
                        found[path] = sorted(os.listdir(path)) if os.path.isdir(path) else open(path).read()
                    except OSError as error:
                        found[path] = f"refused: {{error.errno}}"
                    try:
                        with open(path, "a") as handle:
                            handle.write("tampered")
                        found[path + " (write)"] = "written"
                    except OSError as error:
                        found[path + " (write)"] = f"refused: {{error.errno}}"
                report(found)
            """,
        )
        run = _run(root)
        evidence = _evidence(run)
        for path in targets:
            assert evidence[path].startswith("refused"), (path, evidence[path])
            assert evidence[path + " (write)"].startswith("refused"), path
            assert Path(path).read_bytes() == before[path]
        assert evidence["/etc/shadow"].startswith("refused") and evidence["/run"].startswith("refused")
        assert evidence[str(Path(sys.prefix).parent)] == [Path(sys.prefix).name], "only the venv is bound there"
    finally:
        import shutil

        shutil.rmtree(beside_venv, ignore_errors=True)


def test_writes_never_reach_the_original_tree(tmp_path):
    root = _repo(
        tmp_path,
        """
        import pathlib
        def test_vandalise():
            here = pathlib.Path(__file__).resolve().parents[1]
            (here / "planted.py").write_text("import os")
            (here / "tests" / "test_attack.py").write_text("# gone")
            os.makedirs(here / ".git" / "hooks", exist_ok=True)
            (here / ".git" / "config").write_text("[core]\\n\\tfsmonitor = touch /tmp/pwned\\n")
            (here / "lib.py").unlink()
            report({"wrote": str(here)})
        """,
        {"lib.py": "VALUE = 1\n"},
    )
    before = {path: path.read_bytes() for path in root.rglob("*") if path.is_file()}
    run = _run(root)
    assert _evidence(run)["wrote"] == "/work/repo"
    after = {path: path.read_bytes() for path in root.rglob("*") if path.is_file()}
    assert after == before


def test_host_unix_sockets_and_ports_are_unreachable(tmp_path):
    abstract = f"\0evolve-hostile-{uuid.uuid4().hex}"
    listeners = [socket.socket(socket.AF_UNIX), socket.socket()]
    listeners[0].bind(abstract)
    listeners[1].bind(("127.0.0.1", 0))
    for listener in listeners:
        listener.listen()
    port = listeners[1].getsockname()[1]
    root = _repo(
        tmp_path,
        f"""
        def test_reach_out():
            found = {{}}
            for name, family, address in [
                ("postgres", socket.AF_UNIX, "/var/run/postgresql/.s.PGSQL.5432"),
                ("postgres-run", socket.AF_UNIX, "/run/postgresql/.s.PGSQL.5432"),
                ("abstract", socket.AF_UNIX, {abstract!r}),
                ("host-port", socket.AF_INET, ("127.0.0.1", {port})),
                ("postgres-tcp", socket.AF_INET, ("127.0.0.1", 5432)),
            ]:
                try:
                    socket.socket(family).connect(address)
                    found[name] = "connected"
                except OSError as error:
                    found[name] = f"refused: {{error.errno}}"
            report(found)
        """,
    )
    try:
        run = _run(root)
    finally:
        for listener in listeners:
            listener.close()
    evidence = _evidence(run)
    assert all(value.startswith("refused") for value in evidence.values()), evidence


def test_namespace_escapes_are_refused(tmp_path):
    root = _repo(
        tmp_path,
        """
        def test_escape():
            libc = ctypes.CDLL(None, use_errno=True)
            found = {}
            def attempt(name, call):
                result = call()
                found[name] = "refused: %d" % ctypes.get_errno() if result == -1 else "succeeded"
            CLONE_NEWUSER, CLONE_NEWNET, CLONE_NEWNS = 0x10000000, 0x40000000, 0x00020000
            attempt("unshare-user", lambda: libc.unshare(CLONE_NEWUSER))
            attempt("unshare-net", lambda: libc.unshare(CLONE_NEWNET | CLONE_NEWNS))
            for kind in ("net", "mnt", "user", "pid"):
                fd = os.open(f"/proc/self/ns/{kind}", os.O_RDONLY)
                attempt(f"setns-{kind}", lambda: libc.setns(fd, 0))
            attempt("mount", lambda: libc.mount(b"none", b"/tmp", b"tmpfs", 0, None))
            attempt("ptrace", lambda: libc.ptrace(16, 1, None, None))  # PTRACE_ATTACH to the sandbox's init
            found["uid"] = os.getuid()
            found["capabilities"] = [l for l in open("/proc/self/status") if l.startswith("CapEff")][0].split()[1]
            report(found)
        """,
    )
    evidence = _evidence(_run(root))
    assert evidence.pop("capabilities") == "0000000000000000"
    assert evidence.pop("uid") == 1000
    assert evidence and all(value == "refused: 1" for value in evidence.values()), evidence  # EPERM


def test_fork_storm_is_bounded_and_nothing_survives(tmp_path):
    marker = f"forkstorm-{uuid.uuid4().hex}"
    root = _repo(
        tmp_path,
        f"""
        def test_storm():
            children = 0
            for _ in range(5000):
                try:
                    pid = os.fork()
                except OSError:
                    break
                if pid == 0:
                    os.execv(sys.executable, [sys.executable, "-c", "import time; time.sleep(300)", {marker!r}])
                children += 1
            report({{"children": children}})
        """,
    )
    run = _run(root, limits=ResourceLimits(processes=64))
    assert _evidence(run)["children"] < 64
    assert not run.timed_out and run.failing_tests
    assert _host_processes_with(marker) == []


def test_aggregate_memory_of_the_tree_is_capped(tmp_path):
    root = _repo(
        tmp_path,
        """
        def test_three_children():
            code = "x = bytearray(300 * 1024 * 1024); x[::4096] = b'1' * len(x[::4096]); import time; time.sleep(3)"
            children = [subprocess.Popen([sys.executable, "-c", code]) for _ in range(3)]
            report({"codes": [child.wait() for child in children]})
        """,
    )
    run = _run(root, limits=ResourceLimits(memory_bytes=512 * 1024**2))
    if "EVIDENCE" in run.failure_details:
        codes = _evidence(run)["codes"]
        assert codes.count(0) < 3, "three 300 MiB children cannot all live under a 512 MiB tree limit"
    else:  # the OOM killer may take the test process itself: the run still ends with a clear failure
        assert run.returncode != 0 and run.failing_tests
    assert "memory" in run.limits_enforced


def test_huge_output_is_capped_without_growing_the_parent(tmp_path):
    root = _repo(
        tmp_path,
        """
        def test_flood():
            # pytest captures fd 1 and 2 into files; an attacker writes to the original pipes it kept open.
            pipes = []
            for fd in os.listdir("/proc/self/fd"):
                try:
                    if os.readlink(f"/proc/self/fd/{fd}").startswith("pipe:"):
                        pipes.append(int(fd))
                except OSError:
                    pass
            chunk = b"x" * (1024 * 1024)
            for index in range(1024):  # 1 GiB in all, spread over the pipes found
                os.write(pipes[index % len(pipes)], chunk)
            report({"pipes": pipes})
        """,
    )
    peak = [0]
    baseline = _rss()
    done = threading.Event()

    def sample() -> None:
        while not done.is_set():
            peak[0] = max(peak[0], _rss())
            time.sleep(0.05)

    sampler = threading.Thread(target=sample)
    sampler.start()
    try:
        run = _run(root, timeout=300)
    finally:
        done.set()
        sampler.join()
    assert _evidence(run)["pipes"], "the attack found the original output pipes"
    assert peak[0] - baseline < 200 * 1024**2, f"the parent grew by {(peak[0] - baseline) >> 20} MiB"
    assert len(run.output_tail) <= 4_000 and not run.timed_out


def _rss() -> int:
    return int(Path("/proc/self/statm").read_text().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def test_disk_fill_of_tmp_and_home_is_capped(tmp_path):
    root = _repo(
        tmp_path,
        """
        def test_fill():
            found = {}
            for directory in ("/tmp", os.path.expanduser("~")):
                written = 0
                try:
                    with open(os.path.join(directory, "fill"), "wb") as handle:
                        while written < 1024**3:
                            handle.write(b"x" * 1024 * 1024)
                            handle.flush()
                            written += 1024 * 1024
                except OSError as error:
                    found[directory + " error"] = error.errno
                found[directory] = written
            report(found)
        """,
    )
    evidence = _evidence(_run(root, limits=ResourceLimits(tmp_bytes=32 * 1024**2)))
    assert evidence["/tmp"] <= 32 * 1024**2 and evidence["/tmp error"] == 28  # ENOSPC
    assert evidence["/home/sandbox"] <= 32 * 1024**2 and evidence["/home/sandbox error"] == 28


def test_a_detached_double_forked_survivor_is_killed(tmp_path):
    marker = f"survivor-{uuid.uuid4().hex}"
    root = _repo(
        tmp_path,
        f"""
        def test_leave_a_daemon():
            if os.fork() == 0:
                os.setsid()
                if os.fork() == 0:
                    os.execv(sys.executable, [sys.executable, "-c", "import time; time.sleep(300)", {marker!r}])
                os._exit(0)
            time.sleep(0.5)
        """,
    )
    run = _run(root)
    assert run.ok and run.passed == 1
    assert _host_processes_with(marker) == []


def test_secrets_in_test_ids_and_messages_are_redacted(tmp_path):
    secret = f"bot-secret-{uuid.uuid4().hex}"
    token = "ghp_" + "A1b2C3d4" * 5
    register_secret(secret)
    try:
        root = _repo(
            tmp_path,
            f"""
            import pytest
            @pytest.mark.parametrize("value", [{secret!r}, {token!r}])
            def test_leak(value):
                print("stdout carries", value)
                assert value == "x", f"message carries {{value}}"
            """,
        )
        run = _run(root)
    finally:
        forget_secret(secret)
    serialised = json.dumps(run.to_dict())
    assert secret not in serialised and token not in serialised
    assert run.failed == 2 and len(run.failing_tests) == 2
    assert all(REDACTED in test_id for test_id in run.failing_tests)


@pytest.mark.parametrize("attack", ["import time; time.sleep(600)"])
def test_a_hanging_suite_ends_with_a_timeout(tmp_path, attack):
    root = _repo(tmp_path, f"def test_hang():\n    {attack}\n")
    run = _run(root, timeout=3)
    assert run.timed_out and not run.ok and run.duration < 30
