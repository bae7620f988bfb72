"""`POST /webhook`: verify, record durably, enqueue, acknowledge. All real work happens in jobs.

Recording is a group commit (`bot.db.delivery_writer`): the request waits, without blocking the
event loop, for the one transaction that writes it together with every other delivery that arrived
meanwhile; only then is it answered 202.

Order matters: nothing is read from the payload or written anywhere before the signature is
verified, so a forged, unsigned or tampered delivery leaves no trace but a 401. A request without a
well-formed signature header is answered 401 before a byte of its body is read; a declared length
above the cap is answered 413 before reading; a body must arrive within `body_timeout_seconds`
(else 408), and all bodies being read at once share `max_body_bytes_in_flight` (:class:`BodyBudget`),
so strangers sending large unsigned bodies cannot grow the process. Every refusal closes the
connection. Each outcome is one log line with the delivery id.

The endpoint is a plain ASGI application (`WebhookIntake`): it is the one hot path of the web
process, and Starlette's request and response objects, middleware and routing cost more per
delivery than verifying it. `bot.service.app.EvolveApp` hands `POST /webhook` to it directly; it is also
mounted as an ordinary route, so it answers the same way through the full stack.
"""

from __future__ import annotations

import asyncio
import hmac
import logging
import time
from collections.abc import Awaitable, Callable, MutableMapping
from typing import TYPE_CHECKING, Any, TypeGuard

import orjson
from fastapi import APIRouter
from starlette.routing import Route

from bot import metrics
from bot.db.deliveries import NewDelivery
from bot.db.delivery_seal import sealer_for
from bot.intake.payloads import NotAnObject, parse_payload, summarize_payload, summary_of
from bot.intake.request_deadlines import Deadlines
from bot.log_output import log_info

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


def _well_formed(signature: str | None) -> TypeGuard[str]:
    return signature is not None and signature.isascii() and signature.startswith("sha256=") and len(signature) == 71


def signature_ok(secret: str | None, body: bytes, signature: str | None) -> bool:
    """Whether `X-Hub-Signature-256` is ``sha256=`` and the lower-case hex HMAC-SHA256 of the body
    under `secret` (compared in constant time; the one-shot `hmac.digest` builds no HMAC object)."""
    if not secret or not _well_formed(signature):
        return False
    return hmac.compare_digest(hmac.digest(secret.encode(), body, "sha256").hex(), signature[7:])


class BodyBudget:
    """Body bytes that all requests being read may hold at once; a request waits for room.

    A request reserves its declared `Content-Length` before reading; the wait is bounded by the
    body timeout of the caller, so the process's memory for bodies stays under `limit`.
    """

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.used = 0
        self._room = asyncio.Event()

    async def reserve(self, size: int) -> None:
        """Wait until `size` bytes fit, then hold them."""
        while self.used + size > self.limit:
            self._room.clear()
            await self._room.wait()
        self.used += size

    def release(self, size: int) -> None:
        """Give back what :meth:`reserve` held."""
        self.used -= size
        self._room.set()


def _message(message: str, **extra: Any) -> bytes:
    return orjson.dumps({"message": message, **extra})


# Fixed answers, rendered once.
_TOO_LARGE = (413, _message("payload too large"))
_TOO_SLOW = (408, _message("body not received in time"))
_UNSIGNED = (401, _message("invalid or missing signature"))
_NO_EVENT = (400, _message("missing X-GitHub-Event header"))
_NOT_JSON = (400, _message("payload is not valid JSON"))
_NOT_OBJECT = (400, _message("payload is not a JSON object"))
_NO_DELIVERY = (400, _message("missing X-GitHub-Delivery header"))
_NOT_RECORDED = (503, _message("could not record the delivery; please redeliver"))
_ACCEPTED_PREFIX = b'{"message":"accepted","delivery":'
_DUPLICATE_PREFIX = b'{"message":"duplicate delivery; already accepted","delivery":'


async def _read_body(receive: Receive, limit: int) -> bytes:
    """The request body, refused while streaming when over `limit`."""
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


_CLOSE = (b"connection", b"close")


async def _respond(send: Send, status: int, body: bytes) -> None:
    headers = [*_JSON_HEADERS, (b"content-length", str(len(body)).encode())]
    if status >= 400:  # a refused request may have left body bytes unread: do not parse them as a request
        headers.append(_CLOSE)
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


_OUTCOMES = {200: "duplicate", 202: "accepted", 400: "malformed", 401: "unsigned", 408: "slow body"}
_OUTCOMES |= {413: "too large", 503: "not recorded"}


def _log_outcome(status: int, outcome: str, delivery: bytes | None, event: bytes | None) -> None:
    """One line per delivery: its outcome, status and id (header values capped: they are a stranger's).

    The line is formatted here, once: the record carries no arguments to merge."""
    if log.isEnabledFor(logging.INFO):
        delivery_text = delivery[:MAX_HEADER].decode("latin-1") if delivery else "-"
        event_text = event[:MAX_HEADER].decode("latin-1") if event else "-"
        log_info(log, f"delivery {delivery_text}: {outcome} ({status}) event={event_text}")


class WebhookIntake:
    """The ASGI endpoint of `POST /webhook`: 401 unsigned, 413/408 too large or too slow, 400 malformed, 200 ping/duplicate, 202 recorded durably and queued, 503 when it could not be
    recorded (GitHub may redeliver). The bot's context comes from the application
    (`scope["app"].state.ctx`), the shared body budget from `scope["app"].state.body_budget`."""

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
        started = time.perf_counter()
        status, answer = await self._answer(ctx, scope, receive, declared, signature, event, delivery_id)
        outcome = "ping" if status == 200 and event == b"ping" else _OUTCOMES.get(status, "answered")
        _log_outcome(status, outcome, delivery_id, event)
        metrics.INTAKE_SECONDS.observe(time.perf_counter() - started)
        metrics.count_webhook_response(event, status in (200, 202), outcome)
        return status, answer

    async def _answer(
        self,
        ctx: BotContext,
        scope: Scope,
        receive: Receive,
        declared: bytes | None,
        signature: bytes | None,
        event: bytes | None,
        delivery_id: bytes | None,
    ) -> tuple[int, bytes]:
        settings = ctx.settings
        secret = settings.webhook_secret_value()
        signature_text = signature.decode("latin-1") if signature is not None else None
        if not secret or not _well_formed(signature_text):
            return _UNSIGNED  # before reading the body: an unsigned request costs us nothing
        # GitHub always sends Content-Length; a chunked body of unknown size reserves the whole cap.
        size = int(declared) if declared is not None and declared.isdigit() else settings.max_body_bytes
        if size > settings.max_body_bytes:
            return _TOO_LARGE
        state = scope["app"].state
        budget: BodyBudget | None = getattr(state, "body_budget", None)
        deadlines: Deadlines = getattr(state, "body_deadlines", None) or _DEADLINES
        task = deadlines.watch(settings.body_timeout_seconds)  # waiting for room counts as reading
        try:
            if budget is not None:
                await budget.reserve(size)
            try:
                body = await _read_body(receive, settings.max_body_bytes)
            finally:
                if budget is not None:
                    budget.release(size)
        except BodyTooLarge:
            return _TOO_LARGE
        except ClientGone:
            return 0, b""
        except asyncio.CancelledError:
            if deadlines.expired(task):
                return _TOO_SLOW
            raise
        finally:
            deadlines.done(task)
        if not signature_ok(secret, body, signature_text):
            return _UNSIGNED

        if not event or len(event) > MAX_HEADER:
            return _NO_EVENT
        # A process that handles deliveries itself keeps the parsed payload (no second parse); the web
        # process only validates the body and reads the three fields it records.
        parsed = None
        try:
            text = body.decode("utf-8")
            if ctx.jobs.works:
                parsed = parse_payload(body)
                if not isinstance(parsed, dict):
                    return _NOT_OBJECT
                summary = summary_of(parsed)
            else:
                summary = summarize_payload(body)
        except NotAnObject:
            return _NOT_OBJECT
        except (ValueError, UnicodeDecodeError):
            return _NOT_JSON
        event_name = event.decode("latin-1")
        if event_name == "ping":
            return 200, _message("pong", zen=summary.zen)
        if not delivery_id or len(delivery_id) > MAX_HEADER:
            return _NO_DELIVERY
        delivery_name = delivery_id.decode("latin-1")
        # Sealed here, where the body is known to be GitHub's: workers dispatch no row without this seal.
        seal = sealer_for(settings.delivery_seal_secret() or secret).seal(delivery_name, event_name, body)
        delivery = NewDelivery(
            delivery_name, event_name, text, action=summary.action, installation_id=summary.installation_id, seal=seal
        )
        try:
            recorded = await ctx.jobs.accept_delivery(delivery, parsed)
        except Exception as error:  # nothing is acknowledged that is not durably recorded
            log.error("could not record delivery %s: %s: %s", delivery_name, type(error).__name__, error)
            return _NOT_RECORDED
        quoted = orjson.dumps(delivery_name)
        if not recorded:
            return 200, _DUPLICATE_PREFIX + quoted + b"}"
        return 202, _ACCEPTED_PREFIX + quoted + b"}"


_DEADLINES = Deadlines()  # for an application built without `body_deadlines` in its state
intake = WebhookIntake()
# The same endpoint as an ordinary route (reached when `EvolveApp`'s shortcut does not apply).
router.routes.append(Route("/webhook", intake, methods=["POST"], include_in_schema=False))
