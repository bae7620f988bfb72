"""Nothing blocks the event loop that also serves webhook intake: a lag probe on the app's loop sees
no stall over 100 ms while a comment becomes a run, a PR, a check run and a reply.

A stall counts the loop thread's own CPU time during the late wake-up: on a shared, loaded machine the
loop is also late when the process is not scheduled or another thread holds the GIL, which is not
the loop being blocked by the bot's code.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field

from tests.fakegithub.fixtures import BotWorld
from tests.fakegithub.stub_engine import StubEngine

LIMIT = 0.100  # seconds the loop may be kept from running its callbacks


@dataclass
class LagProbe:
    """Sleeps `tick` seconds over and over on the loop; records how much later than asked it woke."""

    tick: float = 0.01
    worst: float = 0.0
    samples: int = 0
    stop: asyncio.Event = field(default_factory=asyncio.Event)

    async def run(self) -> None:
        while not self.stop.is_set():
            started, busy = time.perf_counter(), time.thread_time()
            await asyncio.sleep(self.tick)
            late = time.perf_counter() - started - self.tick
            self.worst = max(self.worst, min(late, time.thread_time() - busy))
            self.samples += 1


def _probe(world: BotWorld) -> LagProbe:
    probe = world.client.portal.call(LagProbe)  # built on the loop: its Event belongs to that loop
    world.client.portal.start_task_soon(probe.run)
    return probe


def test_the_probe_sees_a_blocked_loop(bot_world: BotWorld) -> None:
    probe = _probe(bot_world)

    async def block() -> None:
        until = time.thread_time() + 0.2  # what blocking work on the loop would do
        while time.thread_time() < until:
            pass

    bot_world.client.portal.call(block)
    bot_world.client.portal.call(probe.stop.set)
    assert probe.worst > LIMIT


def test_a_run_never_blocks_the_event_loop(bot_world: BotWorld, engine: StubEngine) -> None:
    bot_world.install()
    probe = _probe(bot_world)
    bot_world.comment("alice", "/evolve run")
    bot_world.client.portal.call(probe.stop.set)
    assert bot_world.repo.pulls and engine.calls  # the run went all the way
    assert probe.samples > 10
    assert probe.worst < LIMIT, f"the event loop was blocked for {probe.worst * 1000:.0f} ms"
