"""A run asked to stop (`evolve.sandbox.cancellation`): the sandbox kills the running child at once and starts no
other, threads of the engine see the request, and the engine ends with a `cancelled` report."""

from __future__ import annotations

import sys
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from evolve.engine import run_engine
from evolve.runs import RunOptions
from evolve.sandbox import SandboxSpec, interpreter_mounts, run_sandboxed
from evolve.sandbox.cancellation import RunCancelled, cancel_scope, check, in_context, stop_requested
from tests.repo_factory import SAMPLE_PACKAGE, make_repo

LONG = 120  # the child's own time limit: a cancelled child must end long before it


def _sleeper(started: str) -> SandboxSpec:
    code = f"import sys, time; print({started!r}, flush=True); time.sleep({LONG * 2})"
    return SandboxSpec(argv=(sys.executable, "-c", code), mounts=interpreter_mounts(sys.executable), timeout=LONG)


def _running(marker: str) -> bool:
    """Whether a process whose command line holds `marker` runs now."""
    for entry in Path("/proc").iterdir():
        try:
            if entry.name.isdigit() and marker.encode() in (entry / "cmdline").read_bytes():
                return True
        except OSError:
            continue
    return False


def test_a_running_child_is_killed_when_its_run_is_asked_to_stop(tmp_path):
    stop = threading.Event()
    results = []
    marker = f"child-{uuid.uuid4().hex}"

    def engine_thread() -> None:
        results.append(run_sandboxed(_sleeper(marker)))

    with cancel_scope(stop):
        thread = threading.Thread(target=in_context(engine_thread))
        thread.start()
    for _ in range(600):  # until the child runs (at most a minute)
        if _running(marker):
            break
        time.sleep(0.1)
    stop.set()
    thread.join(LONG * 2)
    assert not thread.is_alive()
    (result,) = results
    assert result.cancelled and not result.timed_out and result.returncode == -9
    assert result.duration < LONG  # it did not wait for the child's own time limit
    assert "the run was asked to stop" in result.stderr
    assert not _running(marker)


def test_no_child_starts_once_the_run_was_asked_to_stop():
    stop = threading.Event()
    stop.set()
    with cancel_scope(stop), pytest.raises(RunCancelled):
        run_sandboxed(_sleeper("never"))


def test_threads_of_a_pool_see_the_request_only_through_in_context():
    stop = threading.Event()
    stop.set()
    with cancel_scope(stop), ThreadPoolExecutor(max_workers=1) as pool:
        assert stop_requested() and pool.submit(in_context(stop_requested)).result()
        assert not pool.submit(stop_requested).result()  # a bare pool thread starts from an empty context
    assert not stop_requested()  # the scope is over
    check()  # outside any scope: never raises


def test_the_engine_ends_with_a_cancelled_report(tmp_path):
    repo = make_repo(tmp_path / "sample", SAMPLE_PACKAGE)
    stop = threading.Event()
    stop.set()
    with cancel_scope(stop):
        report = run_engine(repo, RunOptions(focus="correctness"))
    assert report.status == "cancelled" and "asked to stop" in report.message
    assert report.branch is None
