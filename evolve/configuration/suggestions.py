"""What to write instead: a did-you-mean suggestion for a misspelt name, and lists of valid names that are cut
between names, never inside one (pure)."""

from __future__ import annotations

from collections.abc import Iterable
from difflib import get_close_matches

LIST_WIDTH = 600  # characters of names in one message; the rest are counted


def close_matches(name: str, valid: Iterable[str]) -> list[str]:
    """The valid names closest to `name` (at most two), best first."""
    return get_close_matches(name, list(dict.fromkeys(valid)), n=2, cutoff=0.6)


def did_you_mean(name: str, valid: Iterable[str]) -> str:
    """`did you mean 'x'? ` (or `'x' or 'y'`) for the valid names closest to `name`; empty when none is close."""
    matches = close_matches(name, valid)
    if not matches:
        return ""
    return "did you mean " + " or ".join(repr(match) for match in matches) + "? "


def unknown_key(name: str, keys: Iterable[str]) -> str:
    """The message for a key a settings model does not have: a did-you-mean and its keys (or that it takes none)."""
    keys = list(keys)
    if not keys:
        return f"unknown key {name!r}: this takes no settings"
    return f"unknown key {name!r}; {did_you_mean(name, keys)}valid keys: {', '.join(keys)}"


def name_list(names: Iterable[str], width: int = LIST_WIDTH, more: str = "") -> str:
    """`names` joined by commas, whole names only, within `width` characters; then `and N more` (and `more`, e.g.
    where to see them all). `(none installed)` for no names."""
    listed = list(dict.fromkeys(names))
    if not listed:
        return "(none installed)"
    shown: list[str] = []
    used = 0
    for name in listed:
        if shown and used + len(name) + 2 > width:
            break
        shown.append(name)
        used += len(name) + 2
    text = ", ".join(shown)
    left = len(listed) - len(shown)
    if left:
        text += f", and {left} more" + (f" ({more})" if more else "")
    return text


def clip(text: str, width: int) -> str:
    """`text` within `width` characters, cut at a space (never inside a word) and marked with `…`."""
    if len(text) <= width:
        return text
    cut = text.rfind(" ", 0, width - 1)
    return text[: cut if cut > 0 else width - 1].rstrip(" ,;") + " …"
