"""Ruff's settings from its TOML tables (`[tool.ruff]`, `ruff.toml`, `.ruff.toml`), `extend` chains merged. Pure.

Decision: Evolve reads ruff's TOML itself rather than parsing `ruff check --show-settings`, whose output is a
debug format that changes between ruff releases. The selection semantics (defaults, most specific selector
wins, ignore wins ties, per-file globs) are implemented in `selectors.py` and checked against the real ruff
in the tests; the lint gate itself runs the real ruff, so any residual difference can only make the planner
more cautious, never let a violation through.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from evolve.project_rules.model import LinterRules

DEFAULT_SELECT = ("E4", "E7", "E9", "F")  # ruff's defaults when `select` is not set
# Keys that add to the parent's value under `extend`, instead of replacing it.
_ACCUMULATING = ("extend-select", "extend-ignore", "extend-exclude", "extend-per-file-ignores", "extend-fixable")


def lint_table(table: Mapping[str, Any]) -> dict[str, Any]:
    """The linter settings: top-level (deprecated) keys overlaid by the `[lint]` subtable."""
    flat = {key: value for key, value in table.items() if not isinstance(value, Mapping) or key.endswith("ignores")}
    nested = table.get("lint")
    if isinstance(nested, Mapping):
        flat.update(nested)
    return flat


def merge_extended(parent: Mapping[str, Any], child: Mapping[str, Any]) -> dict[str, Any]:
    """A child config that `extend`s a parent: the child's keys win, `extend-*` lists and tables accumulate."""
    merged = {**lint_table(parent)}
    for key in ("exclude", "line-length", "target-version", "format"):
        if key in parent:
            merged[key] = parent[key]
    for key, value in {**lint_table(child), **{k: child[k] for k in ("exclude", "format") if k in child}}.items():
        if key in _ACCUMULATING and key in merged:
            old = merged[key]
            merged[key] = (
                {**old, **value} if isinstance(old, Mapping) and isinstance(value, Mapping) else [*old, *value]
            )
        else:
            merged[key] = value
    return merged


def _strings(value: Any) -> tuple[str, ...]:
    if isinstance(value, str):
        return (value,)
    if isinstance(value, list | tuple):
        return tuple(str(item) for item in value)
    return ()


def _per_file(value: Any) -> tuple[tuple[str, tuple[str, ...]], ...]:
    if not isinstance(value, Mapping):
        return ()
    return tuple((str(pattern), _strings(codes)) for pattern, codes in value.items())


def ruff_rules(table: Mapping[str, Any], source: str) -> LinterRules:
    """Build ruff's LinterRules from one (already `extend`-merged) ruff table."""
    settings = lint_table(table)
    select = _strings(settings["select"]) if "select" in settings else DEFAULT_SELECT
    line_length = table.get("line-length")
    return LinterRules(
        tool="ruff",
        source=source,
        select=(*select, *_strings(settings.get("extend-select"))),
        ignore=(*_strings(settings.get("ignore")), *_strings(settings.get("extend-ignore"))),
        per_file_ignores=(
            *_per_file(settings.get("per-file-ignores")),
            *_per_file(settings.get("extend-per-file-ignores")),
        ),
        exclude=(*_strings(table.get("exclude")), *_strings(table.get("extend-exclude"))),
        line_length=line_length if isinstance(line_length, int) else None,
    )


def has_format_section(table: Mapping[str, Any]) -> bool:
    """Whether the ruff table configures `ruff format`."""
    return isinstance(table.get("format"), Mapping)
