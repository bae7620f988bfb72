"""Base's cached test runs: a run cut short because the run was asked to stop never stands for base later."""

from __future__ import annotations

import threading

from evolve.sandbox.cancellation import cancel_scope
from evolve.suites.base_results import BaseResultsCache
from evolve.suites.runs import TestRun


def finished_run(**fields) -> TestRun:
    return TestRun(command=("pytest",), returncode=0, timed_out=False, duration=1.0, passed=3, **fields)


def test_a_finished_run_is_kept_and_read_back(tmp_path):
    cache = BaseResultsCache(tmp_path)
    cache.store("k", finished_run())
    loaded = cache.load("k")
    assert loaded is not None and loaded.passed == 3


def test_a_run_stopped_by_ctrl_c_or_a_time_limit_is_not_kept(tmp_path):
    cache = BaseResultsCache(tmp_path)
    stop = threading.Event()
    with cancel_scope(stop):
        stop.set()  # the sandbox killed the suite: what it returned is not base's result
        cache.store("k", TestRun(command=("pytest",), returncode=-9, timed_out=False, duration=6.8))
    assert cache.load("k") is None
    assert not list(tmp_path.iterdir())


def test_a_timed_out_run_is_not_kept(tmp_path):
    cache = BaseResultsCache(tmp_path)
    cache.store("k", TestRun(command=("pytest",), returncode=-9, timed_out=True, duration=60.0))
    assert cache.load("k") is None
