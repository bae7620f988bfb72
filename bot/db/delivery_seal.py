"""Delivery seals: a worker dispatches only delivery rows the web process wrote.

The web process verifies GitHub's signature, then stores each delivery with a seal: HMAC-SHA256,
under a key derived from `EVOLVE_INTERNAL_SECRET` (the webhook secret when no internal secret is
set, as in a single `--role all` process), over the delivery id, the event name and the body exactly
as stored. A worker recomputes it before dispatch; a row without a seal, or whose id, event or body
changed since, is marked ignored with the reason and never reaches a handler. Anything that can write
to the database but does not hold the secret (a hostile build that reached PostgreSQL, say) cannot
make a worker act.

The seal is pure (no I/O here). Its message frames each part with its length, so no two different
(id, event, body) triples share one message. Sealing a 12 KB body costs about as much as checking
GitHub's signature of it (one HMAC-SHA256 pass, ~10 µs).
"""

from __future__ import annotations

import functools
import hashlib
import hmac
from dataclasses import dataclass

SEAL_VERSION = b"evolve delivery seal v1"  # the key's derivation label: a new version never verifies an old seal
NOT_SEALED = "not sealed by the web process (a row written to the database by something else): not dispatched"
ALTERED = "seal does not match: the delivery's id, event or body changed after the web process recorded it"
# What migration 0010 set on deliveries that were still pending when seals were introduced.
BEFORE_SEALING = "recorded before sealing (migration 0010): not dispatched; redeliver it from GitHub if it is needed"


@dataclass(frozen=True)
class DeliverySealer:
    """Seals and checks deliveries with one key (derive it with :func:`sealer_for`)."""

    key: bytes

    def seal(self, delivery_id: str, event: str, body: bytes) -> str:
        """The seal of a delivery (64 lower-case hex digits); `body` is the payload's UTF-8 bytes."""
        return hmac.digest(self.key, _header(delivery_id, event) + body, "sha256").hex()

    def problem(self, delivery_id: str, event: str, payload: str | bytes, seal: str | None) -> str | None:
        """Why this stored delivery must not be dispatched, or None when its seal matches."""
        if not seal:
            return NOT_SEALED
        body = payload.encode("utf-8", "surrogatepass") if isinstance(payload, str) else payload
        if not hmac.compare_digest(self.seal(delivery_id, event, body), seal):
            return ALTERED
        return None


def _header(delivery_id: str, event: str) -> bytes:
    head_id, head_event = delivery_id.encode("utf-8", "surrogatepass"), event.encode("utf-8", "surrogatepass")
    return b"%d:%b\n%d:%b\n" % (len(head_id), head_id, len(head_event), head_event)


@functools.lru_cache(maxsize=4)
def sealer_for(secret: str) -> DeliverySealer:
    """The sealer whose key is derived from `secret` (HMAC-SHA256 under the secret of a fixed label);
    cached: the web process asks for it once per request."""
    return DeliverySealer(hmac.digest(secret.encode("utf-8"), SEAL_VERSION, hashlib.sha256))
