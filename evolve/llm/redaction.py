"""Keep secrets out of prompts: every request body is scrubbed of secret env values and token patterns."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from evolve.untrusted_text import (
    MIN_SECRET_LENGTH,
    REDACTED,
    SECRET_NAME,
    TOKEN_PATTERNS,
    redact_text,
)

__all__ = ["MIN_SECRET_LENGTH", "REDACTED", "SECRET_NAME", "TOKEN_PATTERNS", "redact", "redact_text", "secret_values"]


def secret_values(env: Mapping[str, str]) -> list[str]:
    """Values of `env`'s secret-named variables plus the process's registered secrets, longest first."""
    from evolve.untrusted_text import secret_values as known

    return known(env)


def redact(value: Any, secrets: list[str]) -> tuple[Any, int]:
    """Redact every string inside a JSON-like structure (dict keys too); return the copy and the count."""
    if isinstance(value, str):
        return redact_text(value, secrets)
    if isinstance(value, Mapping):
        total = 0
        result: dict[Any, Any] = {}
        for key, item in value.items():
            new_key, key_count = redact(key, secrets) if isinstance(key, str) else (key, 0)
            new_item, item_count = redact(item, secrets)
            result[new_key] = new_item
            total += key_count + item_count
        return result, total
    if isinstance(value, (list, tuple)):
        total = 0
        items = []
        for item in value:
            new_item, item_count = redact(item, secrets)
            items.append(new_item)
            total += item_count
        return items, total
    return value, 0


def new_token_like_strings(before: str, after: str) -> list[str]:
    """Token-looking strings present in `after` but not in `before` (an edit must never add credentials)."""
    old = {match.group(0) for pattern in TOKEN_PATTERNS for match in pattern.finditer(before)}
    return sorted({m.group(0) for p in TOKEN_PATTERNS for m in p.finditer(after)} - old)
