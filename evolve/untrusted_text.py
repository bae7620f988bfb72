"""Text that came from repository code or from strangers: cap it, redact secrets, escape it for Markdown.

Everything the repository's code prints (test ids, assertion messages, logs), every file name and every
comment body is untrusted. Before such text reaches report.md, a PR body, a comment, a check run or the
dashboard it goes through :func:`untrusted_markdown` (or the pieces below). This is the one place that
knows how; nothing else in Evolve escapes Markdown by hand.
"""

from __future__ import annotations

import os
import re
import threading
from collections.abc import Iterable, Mapping

# Any variable whose name contains one of these words is treated as a secret.
SECRET_NAME = re.compile(r"TOKEN|KEY|SECRET|PASSWORD|PASSWD|CREDENTIAL|PRIVATE|AUTH|COOKIE|SESSION", re.I)
REDACTED = "[REDACTED-SECRET]"
TRUNCATED = "…(truncated)…"
# Shorter values are too likely to occur by chance ("1", "true", a port number).
MIN_SECRET_LENGTH = 8

TOKEN_PATTERNS: tuple[re.Pattern[str], ...] = (
    re.compile(
        r"-----BEGIN [A-Z0-9 ]*PRIVATE KEY( BLOCK)?-----.*?(-----END [A-Z0-9 ]*PRIVATE KEY( BLOCK)?-----|\Z)", re.DOTALL
    ),
    re.compile(r"\bgh[pousr]_[A-Za-z0-9]{20,}"),  # GitHub tokens (personal, oauth, user, server, refresh)
    re.compile(r"\bgithub_pat_[A-Za-z0-9_]{20,}"),
    re.compile(r"\bv1\.[0-9a-f]{40}\b"),  # GitHub installation tokens in their older form
    re.compile(r"\bsk-ant-[A-Za-z0-9_\-]{10,}"),  # Anthropic keys
    re.compile(r"\bsk-(?:proj-)?[A-Za-z0-9]{32,}"),  # OpenAI-style keys
    re.compile(r"\b(?:AKIA|ASIA|AGPA|AIDA|AROA|ANPA|ANVA|AIPA)[A-Z0-9]{16}\b"),  # AWS access key ids
    re.compile(r"\bxox[abposr]-[A-Za-z0-9-]{10,}"),  # Slack
    re.compile(r"\bglpat-[A-Za-z0-9_\-]{20,}"),  # GitLab
    re.compile(r"\bAIza[0-9A-Za-z_\-]{35}"),  # Google API keys
    re.compile(r"\beyJ[A-Za-z0-9_\-]{10,}\.[A-Za-z0-9_\-]{10,}\.[A-Za-z0-9_\-]{10,}"),  # JWTs
)

_registered: set[str] = set()
_registered_lock = threading.Lock()


def register_secret(value: str | None) -> None:
    """Remember a secret value of this process (a key read from a file, a minted token) for redaction."""
    if value and len(value) >= MIN_SECRET_LENGTH:
        with _registered_lock:
            _registered.add(value)
            # A PEM key also leaks line by line: each long body line is a secret of its own.
            for line in value.splitlines():
                if len(line.strip()) >= 32:
                    _registered.add(line.strip())


def forget_secret(value: str | None) -> None:
    """Stop redacting a value (a revoked token)."""
    if value:
        with _registered_lock:
            _registered.discard(value)


def secret_values(env: Mapping[str, str] | None = None) -> list[str]:
    """Registered secrets plus values of secret-named variables, longest first (overlaps redact fully)."""
    env = os.environ if env is None else env
    values = {value for name, value in env.items() if SECRET_NAME.search(name) and len(value) >= MIN_SECRET_LENGTH}
    with _registered_lock:
        values |= _registered
    return sorted(values, key=len, reverse=True)


def redact_text(text: str, secrets: Iterable[str] | None = None) -> tuple[str, int]:
    """Replace secret values and token-looking strings in `text`; return the text and the count replaced."""
    count = 0
    for value in secret_values() if secrets is None else secrets:
        if value and value in text:
            count += text.count(value)
            text = text.replace(value, REDACTED)
    for pattern in TOKEN_PATTERNS:
        text, replaced = pattern.subn(REDACTED, text)
        count += replaced
    return text, count


def redacted(text: str, secrets: Iterable[str] | None = None) -> str:
    """`text` with every known secret and token-looking string replaced."""
    return redact_text(text, secrets)[0]


def cap_text(text: str, limit: int, *, keep: str = "head") -> str:
    """At most `limit` characters, saying so when cut; `keep="tail"` keeps the end (logs end with the error)."""
    if len(text) <= limit:
        return text
    room = max(0, limit - len(TRUNCATED) - 1)
    if keep == "tail":
        return TRUNCATED + "\n" + text[len(text) - room :]
    return text[:room] + "\n" + TRUNCATED


# Characters with a meaning in GitHub-flavoured Markdown (inline); each is backslash-escaped.
_MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]()<>#+\-.!|~])")
_MENTION = re.compile(r"@(?=[A-Za-z0-9])")
_REFERENCE = re.compile(r"#(?=\d)")
_ZERO_WIDTH = "\u200b"
_HTML_ENTITIES = {"&": "&amp;", "<": "&lt;", ">": "&gt;"}


def escape_markdown(text: str) -> str:
    """Inline Markdown that shows `text` literally: no formatting, links, HTML, @mentions or #references.

    Mentions and references get a zero-width space after the sigil, so GitHub neither notifies anyone
    nor links an issue. Newlines become spaces: untrusted text never starts a block of its own.
    """
    text = " ".join(text.split("\n"))
    text = text.replace("\r", " ")
    text = "".join(_HTML_ENTITIES.get(char, char) for char in text)
    text = _MARKDOWN_SPECIAL.sub(lambda m: m.group(1) if m.group(1) in "<>" else "\\" + m.group(1), text)
    text = _MENTION.sub("@" + _ZERO_WIDTH, text)
    return _REFERENCE.sub("#" + _ZERO_WIDTH, text)


def code_span(text: str) -> str:
    """`text` as inline code that no backtick inside can close early, with mentions defused anyway."""
    text = " ".join(text.replace("\r", " ").split("\n"))
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    fence = "`" * (longest + 1)
    pad = " " if text.startswith("`") or text.endswith("`") or not text.strip() else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def code_block(text: str, language: str = "") -> str:
    """`text` as a fenced block whose fence no line inside can close (Markdown and HTML stay inert)."""
    longest = max((len(run) for run in re.findall(r"`{3,}", text)), default=2)
    fence = "`" * (longest + 1)
    return f"{fence}{language}\n{text.rstrip()}\n{fence}"


def untrusted_markdown(text: str, limit: int = 2000, secrets: Iterable[str] | None = None) -> str:
    """The one path for untrusted inline text into Markdown: redact, cap, escape."""
    return escape_markdown(cap_text(redacted(text, secrets), limit))


def untrusted_block(text: str, limit: int = 20_000, secrets: Iterable[str] | None = None) -> str:
    """The one path for untrusted multi-line text (test output) into Markdown: redact, cap the tail, fence."""
    return code_block(cap_text(redacted(text, secrets), limit, keep="tail"))
