"""The fair claim order, without a database: one run per repository, the per-installation limit,
installations in turn (fewest running, then the longest since its last start), oldest run first."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from bot.db.run_order import InstallationLoad, QueuedRun, claim_order

T0 = datetime(2026, 11, 27, 12, 0, tzinfo=timezone.utc)


def ids(order: list[QueuedRun]) -> list[int]:
    return [run.run_id for run in order]


def test_oldest_run_of_each_idle_repository_only():
    queued = [QueuedRun(3, 10, 1), QueuedRun(1, 10, 1), QueuedRun(2, 11, 1), QueuedRun(4, 12, 1)]
    assert ids(claim_order(queued, busy_repositories={12}, loads={}, limit=5)) == [1, 2]


def test_installation_at_its_limit_waits():
    queued = [QueuedRun(1, 10, 1), QueuedRun(2, 20, 2)]
    loads = {1: InstallationLoad(running=2, last_started=T0)}
    assert ids(claim_order(queued, [], loads, limit=2)) == [2]
    assert ids(claim_order(queued, [], loads, limit=3)) == [2, 1]


def test_fewest_running_goes_first_even_with_younger_runs():
    queued = [QueuedRun(1, 10, 1), QueuedRun(9, 20, 2)]
    loads = {1: InstallationLoad(running=1, last_started=T0), 2: InstallationLoad(running=0, last_started=T0)}
    assert ids(claim_order(queued, [], loads, limit=4)) == [9, 1]


def test_installations_take_turns_when_nothing_runs():
    # Installation 1 queued its backlog first, but its last run started after installation 2's.
    queued = [QueuedRun(n, 100 + n, 1) for n in range(1, 6)] + [QueuedRun(50, 200, 2)]
    loads = {
        1: InstallationLoad(running=0, last_started=T0 + timedelta(seconds=5)),
        2: InstallationLoad(running=0, last_started=T0),
    }
    assert ids(claim_order(queued, [], loads, limit=2))[0] == 50
    never = {1: InstallationLoad(running=0, last_started=T0)}  # installation 2 never started a run
    assert ids(claim_order(queued, [], never, limit=2))[0] == 50


def test_repositories_without_installation_form_one_group():
    queued = [QueuedRun(1, 10, None), QueuedRun(2, 11, None)]
    assert ids(claim_order(queued, [], {None: InstallationLoad(running=1)}, limit=1)) == []


def test_naive_start_times_compare_with_aware_ones():
    queued = [QueuedRun(1, 10, 1), QueuedRun(2, 20, 2)]
    loads = {1: InstallationLoad(0, T0.replace(tzinfo=None)), 2: InstallationLoad(0, T0 - timedelta(seconds=1))}
    assert ids(claim_order(queued, [], loads, limit=1)) == [2, 1]


def test_drained_queue_serves_a_busy_and_a_quiet_installation_in_turn():
    """Simulated: claims with a limit of 1; the quiet installation's two runs start among the first four."""
    queued = [QueuedRun(n, 100 + n % 10, 1) for n in range(1, 51)] + [QueuedRun(60, 300, 2), QueuedRun(61, 301, 2)]
    started: list[QueuedRun] = []
    loads: dict[int | None, InstallationLoad] = {}
    clock = T0
    while queued:
        order = claim_order(queued, [], loads, limit=1)
        run = order[0]
        started.append(run)
        queued.remove(run)
        clock += timedelta(seconds=1)
        loads[run.installation_id] = InstallationLoad(running=0, last_started=clock)  # runs end at once
    assert [run.run_id for run in started].index(61) < 4


def test_a_limit_below_one_is_refused():
    with pytest.raises(ValueError, match="at least 1"):
        claim_order([], [], {}, limit=0)
