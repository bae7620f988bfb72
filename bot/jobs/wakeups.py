"""Wake every worker when deliveries wait: PostgreSQL LISTEN/NOTIFY on one channel.

An APScheduler job wakes exactly one worker; a notification wakes them all, so every idle worker pulls its
share of a backlog at once. Only PostgreSQL has it; on SQLite (one process) nothing is sent or heard and the
periodic sweep stays the safety net everywhere.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from sqlalchemy import text
from sqlalchemy.engine import Engine, make_url

log = logging.getLogger("bot.jobs")
CHANNEL = "evolve_deliveries"
RECONNECT_SECONDS = 1.0


def listen_url(engine: Engine) -> str | None:
    """The libpq URL to LISTEN on for this engine's database, or None when it is not PostgreSQL."""
    if engine.dialect.name != "postgresql":
        return None
    return make_url(engine.url).set(drivername="postgresql").render_as_string(hide_password=False)


def notify(engine: Engine) -> None:
    """Tell every listening worker that deliveries wait (blocking: call it in a thread)."""
    if engine.dialect.name != "postgresql":
        return
    with engine.begin() as connection:
        connection.execute(text("SELECT pg_notify(:channel, '')"), {"channel": CHANNEL})


async def listen(url: str, on_wake: Callable[[], Awaitable[object]]) -> None:
    """Call `on_wake` for every notification, forever; reconnects after a lost connection."""
    import psycopg

    while True:
        try:
            async with await psycopg.AsyncConnection.connect(url, autocommit=True) as connection:
                await connection.execute(f"LISTEN {CHANNEL}")
                await on_wake()  # whatever was announced while not listening
                async for _ in connection.notifies():
                    await on_wake()
        except asyncio.CancelledError:
            raise
        except Exception as error:  # the periodic sweep covers the gap
            log.warning("delivery wake-ups lost (%s); listening again in %.0f s", error, RECONNECT_SECONDS)
        await asyncio.sleep(RECONNECT_SECONDS)
