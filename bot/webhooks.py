"""`POST /webhook`: verify, record durably, enqueue, acknowledge. All real work happens in jobs.

Recording is a group commit (`bot.db.delivery_writer`): the request waits, without blocking the
event loop, for the one transaction that writes it together with every other delivery that arrived
meanwhile; only then is it answered 202.

Order matters: nothing is read from the payload or written anywhere before the signature is
verified, so a forged, unsigned or tampered delivery leaves no trace but a 401.
"""

from __future__ import annotations

import json
import logging
from typing import TYPE_CHECKING, Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from githubkit.webhooks import verify

from bot.db.deliveries import NewDelivery

if TYPE_CHECKING:  # pragma: no cover
    from bot.context import BotContext

log = logging.getLogger(__name__)
router = APIRouter()
MAX_HEADER = 64  # GitHub event names and delivery GUIDs are short (and stored in 64 characters)


class BodyTooLarge(Exception):
    """The request body exceeds `max_body_bytes`."""


def _answer(status: int, message: str, **extra: Any) -> JSONResponse:
    return JSONResponse({"message": message, **extra}, status_code=status)


async def read_body(request: Request, limit: int) -> bytes:
    """The request body, refusing early (by Content-Length) or while streaming when over `limit`."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise BodyTooLarge
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise BodyTooLarge
        chunks.append(chunk)
    return b"".join(chunks)


def signature_ok(secret: str | None, body: bytes, signature: str | None) -> bool:
    """Whether `X-Hub-Signature-256` is a valid HMAC-SHA256 of the body (githubkit's verifier).

    Only `sha256=` signatures count: githubkit would also accept SHA-1 ones.
    """
    if not secret or not signature or not signature.startswith("sha256="):
        return False
    try:
        return verify(secret, body, signature)
    except (TypeError, ValueError):
        return False


def _int_or_none(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


async def receive_webhook(request: Request) -> Response:
    """Accept one GitHub delivery: 401 unsigned, 413 too large, 400 malformed, 200 ping/duplicate,
    202 recorded durably and queued, 503 when it could not be recorded (GitHub may redeliver)."""
    ctx: BotContext = request.app.state.ctx
    try:
        body = await read_body(request, ctx.settings.max_body_bytes)
    except BodyTooLarge:
        return _answer(413, "payload too large")
    headers = request.headers
    if not signature_ok(ctx.settings.webhook_secret_value(), body, headers.get("x-hub-signature-256")):
        return _answer(401, "invalid or missing signature")

    event = headers.get("x-github-event", "")
    delivery_id = headers.get("x-github-delivery", "")
    if not event or len(event) > MAX_HEADER:
        return _answer(400, "missing X-GitHub-Event header")
    try:
        text = body.decode("utf-8")
        payload = json.loads(text)
    except (ValueError, UnicodeDecodeError):
        return _answer(400, "payload is not valid JSON")
    if not isinstance(payload, dict):
        return _answer(400, "payload is not a JSON object")
    if event == "ping":
        return _answer(200, "pong", zen=payload.get("zen"))
    if not delivery_id or len(delivery_id) > MAX_HEADER:
        return _answer(400, "missing X-GitHub-Delivery header")

    action = payload.get("action")
    installation = payload.get("installation")
    delivery = NewDelivery(
        delivery_id, event, text,
        action=action[:64] if isinstance(action, str) else None,
        installation_id=_int_or_none(installation.get("id")) if isinstance(installation, dict) else None,
    )
    try:
        recorded = await ctx.jobs.accept_delivery(delivery, payload)
    except Exception as error:  # nothing is acknowledged that is not durably recorded
        log.error("could not record delivery %s: %s: %s", delivery_id, type(error).__name__, error)
        return _answer(503, "could not record the delivery; please redeliver")
    if not recorded:
        return _answer(200, "duplicate delivery; already accepted", delivery=delivery_id)
    return _answer(202, "accepted", delivery=delivery_id)


# A plain Starlette route: the intake path needs no dependency injection or validation layer.
router.add_route("/webhook", receive_webhook, methods=["POST"], include_in_schema=False)
