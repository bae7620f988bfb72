"""Telling "GitHub could not be reached" from a bug: the host and the cause in one line, for the log and the
status pages, instead of a traceback per retry (pure)."""

from __future__ import annotations

import os

import httpx

_MAX_DEPTH = 8


def unreachable_cause(error: BaseException) -> str | None:
    """`api.github.com unreachable: ConnectError: [Errno 111] Connection refused` when `error` is (or wraps) a
    failure to reach a server — connection refused, a name that does not resolve, a time-out, a dropped
    connection — else None (a bug or an HTTP error answer, which is not this)."""
    seen: BaseException | None = error
    for _ in range(_MAX_DEPTH):
        if seen is None:
            return None
        if isinstance(seen, httpx.TransportError):
            return f"{_host(seen)} unreachable: {type(seen).__name__}: {_words(seen)}"
        wrapped = getattr(seen, "exc", None)  # githubkit's RequestError keeps httpx's error as `.exc`
        seen = wrapped if isinstance(wrapped, BaseException) else (seen.__cause__ or seen.__context__)
    return None


def _host(error: httpx.TransportError) -> str:
    try:
        url = error.request.url
    except RuntimeError:  # an error raised before its request was attached
        return "the server"
    return f"{url.host}:{url.port}" if url.port else url.host


def _words(error: BaseException) -> str:
    """The error's words, and the operating system's where they say more (`Connection refused`)."""
    text = " ".join(str(error).split()) or "no details"
    seen = error.__cause__ or error.__context__
    for _ in range(_MAX_DEPTH):
        if seen is None:
            break
        if isinstance(seen, OSError) and (seen.errno or seen.strerror):
            said = os.strerror(seen.errno) if isinstance(seen.errno, int) and seen.errno > 0 else seen.strerror
            if said and said not in text:
                text = f"{text} ({said})"
            break
        seen = seen.__cause__ or seen.__context__
    return text[:200]
