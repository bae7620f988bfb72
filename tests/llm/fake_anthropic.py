"""A local stand-in for the Anthropic Messages API: scripted answers, every request recorded.

Script entries are consumed in order (a per-model queue first, then the shared queue). Each entry is a
`Reply`, or a callable taking the `Recorded` request and returning a `Reply`. When the script runs
dry the server answers with a `finish` tool call, so conversations always end.
"""

from __future__ import annotations

import itertools
import json
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

_ids = itertools.count(1)


@dataclass(frozen=True)
class Reply:
    """One scripted HTTP answer."""

    status: int
    body: dict[str, Any]
    headers: tuple[tuple[str, str], ...] = ()
    delay: float = 0.0  # seconds to wait before answering (longer than the client timeout = a timeout)


@dataclass(frozen=True)
class Recorded:
    """One request as the server saw it."""

    path: str
    headers: dict[str, str]
    raw: str
    body: dict[str, Any]

    @property
    def model(self) -> str:
        """The model the request asked for."""
        return self.body.get("model", "")

    def last_tool_results(self) -> list[dict[str, Any]]:
        """The tool_result blocks of the last user message."""
        content = self.body["messages"][-1]["content"]
        return (
            [b for b in content if isinstance(b, dict) and b.get("type") == "tool_result"]
            if isinstance(content, list)
            else []
        )


Entry = Reply | Callable[[Recorded], Reply]


def tool_call(name: str, **arguments: Any) -> dict[str, Any]:
    """A tool_use content block with a fresh id."""
    return {"type": "tool_use", "id": f"toolu_{next(_ids):06d}", "name": name, "input": arguments}


def message(
    *blocks: dict[str, Any],
    model: str = "claude-sonnet-5-5",
    input_tokens: int = 1200,
    output_tokens: int = 300,
    stop_reason: str = "tool_use",
) -> Reply:
    """A 200 answer holding the given content blocks."""
    return Reply(
        200,
        {
            "id": f"msg_{next(_ids):06d}",
            "type": "message",
            "role": "assistant",
            "model": model,
            "content": list(blocks),
            "stop_reason": stop_reason,
            "stop_sequence": None,
            "usage": {"input_tokens": input_tokens, "output_tokens": output_tokens},
        },
    )


def tools(*calls: dict[str, Any], **kwargs: Any) -> Reply:
    """A 200 answer of tool calls (shorthand for `message`)."""
    return message(*calls, **kwargs)


def finish(summary: str = "Done.") -> Reply:
    """A 200 answer calling finish."""
    return message(tool_call("finish", summary=summary))


ERROR_TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    404: "not_found_error",
    429: "rate_limit_error",
    500: "api_error",
    529: "overloaded_error",
}


def error(status: int, retry_after_ms: int | None = 5, message_text: str = "scripted failure") -> Reply:
    """An API error answer in Anthropic's error shape."""
    headers = (("retry-after-ms", str(retry_after_ms)),) if retry_after_ms is not None else ()
    body = {"type": "error", "error": {"type": ERROR_TYPES.get(status, "api_error"), "message": message_text}}
    return Reply(status, body, headers)


def slow(reply: Reply, seconds: float) -> Reply:
    """The same answer, sent only after `seconds` (a client timeout when longer than its limit)."""
    return Reply(reply.status, reply.body, reply.headers, seconds)


@dataclass
class FakeMessagesAPI:
    """The server: start(), point ANTHROPIC_BASE_URL at `base_url`, script, then inspect `requests`."""

    script: deque = field(default_factory=deque)
    per_model: dict[str, deque] = field(default_factory=dict)
    requests: list[Recorded] = field(default_factory=list)
    _server: ThreadingHTTPServer | None = None

    def add(self, *entries: Entry) -> FakeMessagesAPI:
        """Append entries to the shared script."""
        self.script.extend(entries)
        return self

    def for_model(self, model: str, entries: Iterable[Entry]) -> FakeMessagesAPI:
        """Append entries answered only to requests for `model`."""
        self.per_model.setdefault(model, deque()).extend(entries)
        return self

    @property
    def base_url(self) -> str:
        """The URL to give the SDK."""
        assert self._server is not None, "start() the server first"
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def bodies(self) -> list[str]:
        """Every raw request body received."""
        return [r.raw for r in self.requests]

    def _next(self, request: Recorded) -> Reply:
        queue = self.per_model.get(request.model)
        entry = queue.popleft() if queue else (self.script.popleft() if self.script else finish("script exhausted"))
        return entry(request) if callable(entry) else entry

    def start(self) -> FakeMessagesAPI:
        """Serve on a free localhost port in a daemon thread."""
        api = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:  # keep test output quiet
                pass

            def do_POST(self) -> None:
                raw = self.rfile.read(int(self.headers.get("content-length", 0))).decode("utf-8")
                try:
                    body = json.loads(raw)
                except json.JSONDecodeError:
                    body = {}
                request = Recorded(self.path, {k.lower(): v for k, v in self.headers.items()}, raw, body)
                api.requests.append(request)
                if self.path.split("?")[0] != "/v1/messages":
                    reply = error(404, None, f"no route {self.path}")
                else:
                    try:
                        reply = api._next(request)
                    except Exception as exc:
                        reply = error(500, None, f"fake script error: {exc!r}")
                if reply.delay:
                    time.sleep(reply.delay)
                payload = json.dumps(reply.body).encode("utf-8")
                try:
                    self.send_response(reply.status)
                    self.send_header("content-type", "application/json")
                    self.send_header("content-length", str(len(payload)))
                    self.send_header("request-id", f"req_{next(_ids):06d}")
                    for name, value in reply.headers:
                        self.send_header(name, value)
                    self.end_headers()
                    self.wfile.write(payload)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client timed out and left

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
        return self

    def stop(self) -> None:
        """Stop serving."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
