"""References stored in databases before the layout moved keep resolving to the same functions."""

from __future__ import annotations

from apscheduler._marshalling import callable_from_ref

from bot.jobs import queue

TASKS = ("process_delivery_job", "sweep_deliveries_job", "run_repository_job", "scheduled_run_job")


def test_task_references_stored_before_the_move_resolve_to_the_moved_functions():
    for name in TASKS:
        assert callable_from_ref(f"bot.jobs:{name}") is getattr(queue, name)


def test_task_references_written_now_resolve_too():
    for name in TASKS:
        assert callable_from_ref(f"bot.jobs.queue:{name}") is getattr(queue, name)
