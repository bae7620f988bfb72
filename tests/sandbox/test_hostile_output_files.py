"""Special files planted where Evolve reads back what the sandbox wrote (the progress file, junit.xml,
coverage.json): a FIFO, a socket or a link is never opened as a file, so reading can never block a run."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading

from evolve.sandbox import read_output_file
from evolve.suites.live_progress import PROGRESS_FILE, ProgressWatcher, read_progress
from tests.repo_factory import SAMPLE_PACKAGE, make_repo


def _in_thread(function, *args):
    """Run `function(*args)` in a daemon thread; (finished, result) after a generous join."""
    box: list[object] = []
    thread = threading.Thread(target=lambda: box.append(function(*args)), daemon=True)
    thread.start()
    thread.join(60)
    return not thread.is_alive(), (box[0] if box else None)


def test_a_fifo_at_the_progress_file_is_not_opened(tmp_path):
    os.mkfifo(tmp_path / PROGRESS_FILE)  # nobody ever writes to it: a plain open() would block for ever
    finished, result = _in_thread(read_progress, tmp_path)
    assert finished and result is None
    seen: list[tuple[int, int]] = []
    with ProgressWatcher(tmp_path, lambda done, total: seen.append((done, total))):
        pass  # leaving the block polls one last time: that must return too
    assert seen == []


def test_a_socket_a_link_and_a_huge_file_are_not_read(tmp_path):
    server = socket.socket(socket.AF_UNIX)
    server.bind(str(tmp_path / "junit.xml"))
    outside = tmp_path.parent / f"{tmp_path.name}-outside.txt"
    outside.write_text("3 4\n")
    os.symlink(outside, tmp_path / PROGRESS_FILE)
    (tmp_path / "coverage.json").write_bytes(b"x" * 2048)
    try:
        assert read_output_file(tmp_path, "junit.xml", 1 << 20) is None
        assert read_progress(tmp_path) is None  # the link's target holds two fine numbers: still not read
        assert read_output_file(tmp_path, "coverage.json", 1024) is None
    finally:
        server.close()
    (tmp_path / PROGRESS_FILE).unlink()
    (tmp_path / PROGRESS_FILE).write_text("3 4\n")
    assert read_progress(tmp_path) == (3, 4)


# Plants FIFOs (and a socket) where Evolve reads back: the progress file early and late, junit.xml after pytest
# wrote it. Before the fix, the progress watcher blocked on the FIFO for ever.
PLANTING_CONFTEST = """
import os, socket

def _out():
    progress = os.environ.get("EVOLVE_PROGRESS_FILE")
    return os.path.dirname(progress) if progress else "/work/out"

def _fifo(path):
    try:
        os.unlink(path)
    except OSError:
        pass
    try:
        os.mkfifo(path)
    except OSError:
        pass

def pytest_sessionstart(session):
    _fifo(os.path.join(_out(), "progress"))

def pytest_unconfigure(config):
    out = _out()
    # Not coverage.json: `coverage json` writes it after pytest, in the sandbox, and would block there on the
    # FIFO until the suite's time limit, like any suite that hangs itself (tests/sandbox/test_hostile_suites.py).
    for name in ("progress", "junit.xml"):
        _fifo(os.path.join(out, name))
    try:
        os.unlink(os.path.join(out, "progress.tmp"))
        socket.socket(socket.AF_UNIX).bind(os.path.join(out, "progress.tmp"))
    except OSError:
        pass
"""


def test_evolve_run_ends_with_a_clear_result_when_the_suite_plants_fifos(tmp_path):
    repo = make_repo(tmp_path / "r", {**SAMPLE_PACKAGE, "tests/conftest.py": PLANTING_CONFTEST})
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(tmp_path / "home"),
        "EVOLVE_DATA_DIR": str(tmp_path / "data"),
        "LANG": "C.UTF-8",
    }
    # Not --quiet: progress on, so the watcher polls the planted FIFO. The timeout only bounds a hang.
    done = subprocess.run(
        [sys.executable, "-m", "evolve.cli", "run", str(repo), "--json", "--focus", "correctness"],
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert done.returncode in (0, 1), done.stderr[-3000:]
    document = json.loads(done.stdout)
    assert document["status"] in ("succeeded", "failed", "cannot-check", "no-change"), document
    assert "Traceback" not in done.stderr
