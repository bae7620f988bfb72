"""Jobs: the queue that claims deliveries and runs, dispatches them, and keeps cron schedules (APScheduler 4).

APScheduler stores task references by import path; those written before the functions moved to
`bot.jobs.queue` named them `bot.jobs:<function>`, so the task functions stay importable from here.
"""

from bot.jobs.queue import process_delivery_job, run_repository_job, scheduled_run_job, sweep_deliveries_job

__all__ = ["process_delivery_job", "run_repository_job", "scheduled_run_job", "sweep_deliveries_job"]
