"""The process's own secrets, taken out of its environment at start-up so no child and no `/proc` reader sees them.

`evolve serve` (and every CLI command, for the Anthropic key) call :func:`seal_environment` once, before anything is
started: each named variable is removed from `os.environ`, its value registered for redaction
(:func:`evolve.untrusted_text.register_secret`) and kept in this module, and the bytes of the original
environment block (what `/proc/<pid>/environ` shows) are overwritten. Code that needs a value asks
:func:`environment_secret`, which prefers a value still in the environment (tests set one directly).
"""

from __future__ import annotations

import ctypes
import logging
import os
import threading
from collections.abc import Iterable, Iterator, MutableMapping
from contextlib import contextmanager
from urllib.parse import urlsplit

from evolve.untrusted_text import register_secret

log = logging.getLogger(__name__)

# What every CLI command seals before it runs anything: the operator's LLM key.
CLI_SEALED_VARIABLES = ("ANTHROPIC_API_KEY", "EVOLVE_ANTHROPIC_API_KEY")
# What `evolve serve` seals: the App's secrets, the token service's shared secret, the status pages' secrets, the
# database URL (it can carry a password) and the LLM key.
SEALED_VARIABLES = (
    "EVOLVE_PRIVATE_KEY",
    "EVOLVE_WEBHOOK_SECRET",
    "EVOLVE_CLIENT_SECRET",
    "EVOLVE_OPERATOR_TOKEN",
    "EVOLVE_SESSION_SECRET",
    "EVOLVE_INTERNAL_SECRET",
    "EVOLVE_DATABASE_URL",
    *CLI_SEALED_VARIABLES,
)
# Variables whose value is a URL: only its password is a secret to redact (the rest names a host or a file).
URL_VARIABLES = frozenset({"EVOLVE_DATABASE_URL"})
_sealed: dict[str, str] = {}
_lock = threading.Lock()


def environment_secret(name: str) -> str | None:
    """The value of a secret variable: from the environment if still there, else as sealed at start-up."""
    value = os.environ.get(name)
    if value:
        return value
    with _lock:
        return _sealed.get(name)


def seal_environment(
    names: Iterable[str] = SEALED_VARIABLES, environ: MutableMapping[str, str] | None = None
) -> list[str]:
    """Move the named variables out of the environment into this process's memory; return the names moved."""
    environ = os.environ if environ is None else environ
    moved = []
    for name in names:
        value = environ.pop(name, None)
        if not value:
            continue
        register_secret(_url_password(value) if name in URL_VARIABLES else value)
        with _lock:
            _sealed[name] = value
        moved.append(name)
    if moved and environ is os.environ:
        _wipe_initial_environment(moved)
    return moved


@contextmanager
def sealed_environment(names: Iterable[str]) -> Iterator[list[str]]:
    """Seal `names` for the duration of a command (the CLI's), then put them back into `os.environ`: a test that
    calls the CLI in-process, or a later command in the same process, finds the environment as it was."""
    names = tuple(names)
    values = {name: os.environ[name] for name in names if os.environ.get(name)}
    moved = seal_environment(names)
    try:
        yield moved
    finally:
        with _lock:
            for name, value in values.items():
                if _sealed.get(name) == value:
                    del _sealed[name]
        for name, value in values.items():
            os.environ.setdefault(name, value)


def _url_password(url: str) -> str | None:
    """The password in `scheme://user:password@host/...`, or None."""
    try:
        return urlsplit(url).password
    except ValueError:
        return None


def _environment_block() -> tuple[int, int] | None:
    """Start and end address of the environment block the kernel gave this process (`/proc/self/stat`)."""
    try:
        with open("/proc/self/stat", encoding="ascii", errors="replace") as handle:
            fields = handle.read().rpartition(")")[2].split()
        # Fields after the command name start at number 3; env_start and env_end are numbers 50 and 51.
        return int(fields[50 - 3]), int(fields[51 - 3])
    except (OSError, ValueError, IndexError):
        return None


def _wipe_initial_environment(names: list[str]) -> None:
    """Overwrite `NAME=value` of the named variables in the original environment block with zero bytes."""
    block = _environment_block()
    if block is None:
        return
    start, end = block
    try:
        with open("/proc/self/environ", "rb") as handle:
            raw = handle.read()
    except OSError:
        return
    prefixes = tuple(f"{name}=".encode() for name in names)
    offset = 0
    for entry in raw.split(b"\0"):
        if entry.startswith(prefixes) and start + offset + len(entry) <= end:
            ctypes.memset(start + offset, 0, len(entry))
        offset += len(entry) + 1
    log.debug("removed %d secret variable(s) from the process environment", len(names))
