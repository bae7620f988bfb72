"""User-facing text as data: one Markdown file per reply, filled with `string.Template` ($name).

Every value is untrusted unless it says otherwise: :func:`render` escapes it with
`evolve.untrusted_text.untrusted_markdown` (redacted, capped, no formatting, links, HTML, live
@mentions or #references). A value that is already safe Markdown — another rendered template, a
fenced block from `untrusted_block`, a code span from `code_span`, table rows whose cells were
escaped — is passed as :class:`Markdown` and inserted as it is.
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path
from string import Template
from typing import Any

from evolve.untrusted_text import cap_text, code_block, code_span, redacted, untrusted_block, untrusted_markdown

_HERE = Path(__file__).parent
VALUE_LIMIT = 2000  # characters of one untrusted value in a reply


class Markdown(str):
    """Text that is already safe Markdown; :func:`render` inserts it without escaping."""


@cache
def _load(name: str) -> Template:
    return Template((_HERE / f"{name}.md").read_text(encoding="utf-8"))


# Text that no Markdown rule can act on inside a line (a number, an identifier, a plain sentence):
# shown as it is, so the bot's own messages carry no needless backslashes. No `*_`[]<>#@!|~&\`,
# no newline, and nothing GitHub would turn into a link.
_PLAIN = re.compile(r"[A-Za-z0-9 .,:;/()'\"?%=+\-]*")


def _is_plain(value: str) -> bool:
    return bool(_PLAIN.fullmatch(value)) and "://" not in value and "www." not in value.lower()


def _fill(value: Any, limit: int = VALUE_LIMIT) -> str:
    if value is None:
        return ""
    if isinstance(value, Markdown):
        return value
    text = str(value)
    if len(text) <= limit and _is_plain(text) and text == redacted(text):
        return text
    return untrusted_markdown(text, limit)  # escapes `|` too


def render(name: str, **values: Any) -> Markdown:
    """The template `<name>.md` with `$placeholders` filled (escaped unless `Markdown`); unknown ones stay."""
    text = _load(name).safe_substitute({key: _fill(value) for key, value in values.items()})
    return Markdown(text.strip() + "\n")


_SAFE_URL = re.compile(r"https?://[^\s()<>\[\]\"'`\\]+")
_LOGIN = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})")


def link_target(url: str) -> Markdown:
    """A URL from GitHub's API for a Markdown link `[text](url)`; anything odd becomes an inert `#`."""
    return Markdown(url if _SAFE_URL.fullmatch(url) else "#")


def mention(login: str) -> Markdown:
    """`@login` that notifies that GitHub user, for a login of GitHub's shape; escaped text otherwise."""
    if _LOGIN.fullmatch(login):
        return Markdown("@" + login)
    return Markdown(untrusted_markdown("@" + login, 100))


def code(text: str) -> Markdown:
    """`text` as an inline code span (backticks inside cannot close it; mentions inside are inert)."""
    return Markdown(code_span(text[:VALUE_LIMIT]))


def block(text: str, language: str = "") -> Markdown:
    """Untrusted multi-line text as a fenced block: redacted, capped, with a fence nothing inside closes."""
    if language:
        return Markdown(code_block(cap_text(redacted(text), 20_000), language))
    return Markdown(untrusted_block(text))


def cell(text: object, limit: int = 300) -> str:
    """One escaped table cell (no `|`, no newline, no formatting); plain identifiers stay readable."""
    return _fill(str(text), limit)
