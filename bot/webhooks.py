"""`POST /webhook`: verify, record durably, enqueue, acknowledge. All real work happens in jobs.

Recording is a group commit (`bot.db.delivery_writer`): the request waits, without blocking the
event loop, for the one transaction that writes it together with every other delivery that arrived
meanwhile; only then is it answered 202.

Order matters: nothing is read from the payload or written anywhere before the signature is
verified, so a forged, unsigned or tampered delivery leaves no trace but a 401.

The endpoint is a plain ASGI application (`WebhookIntake`): it is the one hot path of the web
process, and Starlette's request and response objects, middleware and routing cost more per
delivery than verifying it. `bot.app.EvolveApp` hands `POST /webhook` to it directly; it is also
mounted as an ordinary route, so it answers the same way through the full stack.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable, MutableMapping
from typing import TYPE_CHECKING, Any

import orjson
from fastapi import APIRouter
from githubkit.webhooks import verify as verify_signature
from starlette.routing import Route

from bot.db.deliveries import NewDelivery

if TYPE_CHECKING:  # pragma: no cover
    from bot.context import BotContext

log = logging.getLogger(__name__)
router = APIRouter()
MAX_HEADER = 64  # GitHub event names and delivery GUIDs are short (and stored in 64 characters)

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]

_JSON_HEADERS = [(b"content-type", b"application/json")]


class BodyTooLarge(Exception):
    """The request body exceeds `max_body_bytes`."""


class ClientGone(Exception):
    """The client disconnected before its body arrived: nothing to answer, nothing recorded."""


def signature_ok(secret: str | None, body: bytes, signature: str | None) -> bool:
    """Whether `X-Hub-Signature-256` is a valid HMAC-SHA256 of the body, checked by githubkit's verifier.

    Only well-formed `sha256=` signatures are handed to it: githubkit would also accept a SHA-1
    signature, which this header never carries.
    """
    well_formed = bool(signature) and signature.isascii() and signature.startswith("sha256=") and len(signature) == 71
    if not secret or not well_formed:
        return False
    return verify_signature(secret, body, signature)


def parse_payload(body: bytes) -> Any:
    """The JSON body (orjson; the standard library only for what orjson refuses, such as integers
    beyond 64 bits). Raises ValueError when it is not JSON or not UTF-8."""
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError:
        return json.loads(body.decode("utf-8"))


def _int_or_none(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _message(message: str, **extra: Any) -> bytes:
    return orjson.dumps({"message": message, **extra})


# Fixed answers, rendered once.
_TOO_LARGE = (413, _message("payload too large"))
_UNSIGNED = (401, _message("invalid or missing signature"))
_NO_EVENT = (400, _message("missing X-GitHub-Event header"))
_NOT_JSON = (400, _message("payload is not valid JSON"))
_NOT_OBJECT = (400, _message("payload is not a JSON object"))
_NO_DELIVERY = (400, _message("missing X-GitHub-Delivery header"))
_NOT_RECORDED = (503, _message("could not record the delivery; please redeliver"))
_ACCEPTED_PREFIX = b'{"message":"accepted","delivery":'
_DUPLICATE_PREFIX = b'{"message":"duplicate delivery; already accepted","delivery":'


async def _read_body(receive: Receive, declared: bytes | None, limit: int) -> bytes:
    """The request body, refused early (by Content-Length) or while streaming when over `limit`."""
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise BodyTooLarge
    message = await receive()
    if message["type"] != "http.request":
        raise ClientGone
    body: bytes = message.get("body", b"")
    if not message.get("more_body", False):  # the common case: one message
        if len(body) > limit:
            raise BodyTooLarge
        return body
    chunks = [body]
    size = len(body)
    while True:
        if size > limit:
            raise BodyTooLarge
        message = await receive()
        if message["type"] != "http.request":
            raise ClientGone
        chunk = message.get("body", b"")
        size += len(chunk)
        chunks.append(chunk)
        if not message.get("more_body", False):
            break
    if size > limit:
        raise BodyTooLarge
    return b"".join(chunks)


async def _respond(send: Send, status: int, body: bytes) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [*_JSON_HEADERS, (b"content-length", str(len(body)).encode())],
        }
    )
    await send({"type": "http.response.body", "body": body})


class WebhookIntake:
    """The ASGI endpoint of `POST /webhook`: 401 unsigned, 413 too large, 400 malformed, 200
    ping/duplicate, 202 recorded durably and queued, 503 when it could not be recorded (GitHub may
    redeliver). The bot's context comes from the application (`scope["app"].state.ctx`)."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        status, body = await self.handle(scope["app"].state.ctx, scope, receive)
        if status:
            await _respond(send, status, body)

    async def handle(self, ctx: BotContext, scope: Scope, receive: Receive) -> tuple[int, bytes]:
        """The answer to one delivery: (status, JSON body); status 0 when the client went away."""
        declared = signature = event = delivery_id = None
        for name, value in scope["headers"]:  # ASGI header names are lower-case; the first one counts
            if name == b"x-hub-signature-256":
                signature = value if signature is None else signature
            elif name == b"x-github-event":
                event = value if event is None else event
            elif name == b"x-github-delivery":
                delivery_id = value if delivery_id is None else delivery_id
            elif name == b"content-length":
                declared = value if declared is None else declared
        try:
            body = await _read_body(receive, declared, ctx.settings.max_body_bytes)
        except BodyTooLarge:
            return _TOO_LARGE
        except ClientGone:
            return 0, b""
        if not signature_ok(
            ctx.settings.webhook_secret_value(), body, signature.decode("latin-1") if signature is not None else None
        ):
            return _UNSIGNED

        if not event or len(event) > MAX_HEADER:
            return _NO_EVENT
        try:
            payload = parse_payload(body)
            text = body.decode("utf-8")
        except (ValueError, UnicodeDecodeError):
            return _NOT_JSON
        if not isinstance(payload, dict):
            return _NOT_OBJECT
        event_name = event.decode("latin-1")
        if event_name == "ping":
            return 200, _message("pong", zen=payload.get("zen"))
        if not delivery_id or len(delivery_id) > MAX_HEADER:
            return _NO_DELIVERY
        delivery_name = delivery_id.decode("latin-1")

        action = payload.get("action")
        installation = payload.get("installation")
        delivery = NewDelivery(
            delivery_name,
            event_name,
            text,
            action=action[:64] if isinstance(action, str) else None,
            installation_id=_int_or_none(installation.get("id")) if isinstance(installation, dict) else None,
        )
        try:
            recorded = await ctx.jobs.accept_delivery(delivery, payload)
        except Exception as error:  # nothing is acknowledged that is not durably recorded
            log.error("could not record delivery %s: %s: %s", delivery_name, type(error).__name__, error)
            return _NOT_RECORDED
        quoted = orjson.dumps(delivery_name)
        if not recorded:
            return 200, _DUPLICATE_PREFIX + quoted + b"}"
        return 202, _ACCEPTED_PREFIX + quoted + b"}"


intake = WebhookIntake()
# The same endpoint as an ordinary route (reached when `EvolveApp`'s shortcut does not apply).
router.routes.append(Route("/webhook", intake, methods=["POST"], include_in_schema=False))
