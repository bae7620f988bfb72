"""User-facing text as data: one Markdown file per reply, filled with `string.Template` ($name)."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from string import Template
from typing import Any

_HERE = Path(__file__).parent


@cache
def _load(name: str) -> Template:
    return Template((_HERE / f"{name}.md").read_text(encoding="utf-8"))


def render(name: str, **values: Any) -> str:
    """The template `<name>.md` with `$placeholders` filled; unknown placeholders are left as they are."""
    return (
        _load(name).safe_substitute({key: "" if value is None else str(value) for key, value in values.items()}).strip()
        + "\n"
    )
