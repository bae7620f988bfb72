"""How many wrong secrets one client address may offer: a token bucket per address, refilled over time.

Each wrong operator token (status pages) or wrong internal secret (`/internal/tokens`) takes one token from the
bucket of the address it came from; an address with an empty bucket is answered 429 with `Retry-After` *before*
its secret is compared, so a right guess cannot be told from a wrong one while it is limited. A right secret
takes nothing. The table of addresses is bounded (least recently seen forgotten first), and held per process.
"""

from __future__ import annotations

import math
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

FAILURES_PER_MINUTE = 5
MAX_ADDRESSES = 10_000


@dataclass
class _Bucket:
    tokens: float
    updated: float


class FailureLimiter:
    """At most `burst` failures at once per address, refilled at `per_minute` a minute."""

    def __init__(
        self,
        per_minute: int = FAILURES_PER_MINUTE,
        burst: int | None = None,
        clock: Callable[[], float] = time.monotonic,
        max_addresses: int = MAX_ADDRESSES,
    ) -> None:
        self.rate = per_minute / 60.0
        self.burst = float(burst if burst is not None else per_minute)
        self.clock = clock
        self.max_addresses = max_addresses
        self._buckets: OrderedDict[str, _Bucket] = OrderedDict()
        self._lock = threading.Lock()

    def _bucket(self, address: str, now: float) -> _Bucket:
        bucket = self._buckets.get(address)
        if bucket is None:
            bucket = _Bucket(self.burst, now)
            self._buckets[address] = bucket
            while len(self._buckets) > self.max_addresses:
                self._buckets.popitem(last=False)
        else:
            bucket.tokens = min(self.burst, bucket.tokens + (now - bucket.updated) * self.rate)
            bucket.updated = now
            self._buckets.move_to_end(address)
        return bucket

    def retry_after(self, address: str) -> int | None:
        """Whole seconds until `address` may try again, or None when it may try now."""
        with self._lock:
            bucket = self._bucket(address, self.clock())
            if bucket.tokens >= 1.0:
                return None
            return max(1, math.ceil((1.0 - bucket.tokens) / self.rate))

    def failed(self, address: str) -> None:
        """Record one wrong secret from `address`."""
        with self._lock:
            bucket = self._bucket(address, self.clock())
            bucket.tokens = max(0.0, bucket.tokens - 1.0)


def client_address(client: object) -> str:
    """The address a request came from (Starlette's `request.client`), or "unknown"."""
    host = getattr(client, "host", None)
    return host if isinstance(host, str) and host else "unknown"


def limiter_on(state: object, name: str) -> FailureLimiter:
    """The limiter called `name` kept on an app's `state` (made on first use; one per process and app)."""
    limiter = getattr(state, name, None)
    if not isinstance(limiter, FailureLimiter):
        limiter = FailureLimiter()
        setattr(state, name, limiter)
    return limiter
