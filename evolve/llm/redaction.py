"""Keep secrets out of prompts: every request body is scrubbed of secret env values and token patterns."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from evolve.sandbox import SECRET_NAME

REDACTED = "[REDACTED-SECRET]"
# Shorter values are too likely to occur by chance ("1", "true", a port number).
MIN_SECRET_LENGTH = 8

TOKEN_PATTERNS: tuple[re.Pattern[str], ...] = (
    re.compile(r"-----BEGIN [A-Z0-9 ]*PRIVATE KEY( BLOCK)?-----.*?(-----END [A-Z0-9 ]*PRIVATE KEY( BLOCK)?-----|\Z)", re.DOTALL),
    re.compile(r"\bgh[pousr]_[A-Za-z0-9]{20,}"),  # GitHub tokens (personal, oauth, user, server, refresh)
    re.compile(r"\bgithub_pat_[A-Za-z0-9_]{20,}"),
    re.compile(r"\bsk-ant-[A-Za-z0-9_\-]{10,}"),  # Anthropic keys
    re.compile(r"\bsk-(?:proj-)?[A-Za-z0-9]{32,}"),  # OpenAI-style keys
    re.compile(r"\b(?:AKIA|ASIA|AGPA|AIDA|AROA|ANPA|ANVA|AIPA)[A-Z0-9]{16}\b"),  # AWS access key ids
    re.compile(r"\bxox[abposr]-[A-Za-z0-9-]{10,}"),  # Slack
    re.compile(r"\bglpat-[A-Za-z0-9_\-]{20,}"),  # GitLab
    re.compile(r"\bAIza[0-9A-Za-z_\-]{35}"),  # Google API keys
    re.compile(r"\beyJ[A-Za-z0-9_\-]{10,}\.[A-Za-z0-9_\-]{10,}\.[A-Za-z0-9_\-]{10,}"),  # JWTs
)


def secret_values(env: Mapping[str, str]) -> list[str]:
    """Values of variables whose names look secret, longest first (so overlapping values redact fully)."""
    values = {value for name, value in env.items() if SECRET_NAME.search(name) and len(value) >= MIN_SECRET_LENGTH}
    return sorted(values, key=len, reverse=True)


def redact_text(text: str, secrets: list[str]) -> tuple[str, int]:
    """Replace secret values and token-looking strings in `text`; return the text and the count replaced."""
    count = 0
    for value in secrets:
        if value in text:
            count += text.count(value)
            text = text.replace(value, REDACTED)
    for pattern in TOKEN_PATTERNS:
        text, replaced = pattern.subn(REDACTED, text)
        count += replaced
    return text, count


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
