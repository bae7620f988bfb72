"""The settings Evolve hands ruff and black, read and vetted by Evolve itself. Pure.

ruff and black run on the host, so they never read the repository's configuration themselves: ruff follows
`extend = "/any/host/file"` and links, and would read (and quote in an error) a host file. Evolve reads the
config files (inside the tree only, links judged by their resolved targets, see `reader.py`), merges ruff's
`extend` chain itself, drops every setting that names a place outside the tree (`extend`, `cache-dir`, `src`,
`namespace-packages`, `include`, `extend-include` entries that are absolute or climb out), and writes what is
left to a file of its own that the tool gets with `--config`. Each refusal is one plain sentence for the report.
"""

from __future__ import annotations

import datetime
import math
from collections.abc import Mapping
from pathlib import PurePosixPath
from typing import Any

# Settings whose values are paths (or globs) ruff reads, stats or writes; checked entry by entry.
_RUFF_PATH_LISTS = ("src", "namespace-packages", "include", "extend-include")
# Settings that are dropped whatever their value: Evolve has already followed `extend`, ruff's cache is off.
_RUFF_DROPPED = ("extend", "cache-dir")
# Keys whose table value replaces the parent's instead of merging with it (ruff's own `extend` semantics).
_REPLACED_TABLES = ("per-file-ignores", "per-file-target-version")


def path_leaves_tree(value: str) -> bool:
    """Whether a path written in a config file, relative to the tree's root, names a place outside the tree
    (lexically; links inside the tree already resolve inside it, see `evolve/git/link_targets.py`)."""
    if not value or value.startswith(("/", "~", "\\")) or "\0" in value or ":" in value.split("/")[0]:
        return True
    depth = 0
    for part in PurePosixPath(value.replace("\\", "/")).parts:
        if part == "..":
            depth -= 1
            if depth < 0:
                return True
        elif part not in (".", ""):
            depth += 1
    return False


def merge_ruff_tables(parent: Mapping[str, Any], child: Mapping[str, Any]) -> dict[str, Any]:
    """A child ruff table that `extend`s `parent`: the child's settings win, `extend-*` lists accumulate,
    option groups (`lint`, `format`, `lint.isort`, ...) merge key by key."""
    merged: dict[str, Any] = dict(parent)
    for key, value in child.items():
        old = merged.get(key)
        if key.startswith("extend-") and isinstance(old, list) and isinstance(value, list):
            merged[key] = [*old, *value]
        elif isinstance(old, Mapping) and isinstance(value, Mapping) and not key.endswith(_REPLACED_TABLES):
            merged[key] = merge_ruff_tables(old, value)
        else:
            merged[key] = value
    if "select" in child and "extend-select" not in child:
        merged.pop("extend-select", None)  # a child's `select` starts the selection afresh
    return merged


def vet_ruff_table(table: Mapping[str, Any], source: str) -> tuple[dict[str, Any], tuple[str, ...]]:
    """The ruff table without any setting that reaches outside the tree, and a sentence per refusal."""
    vetted: dict[str, Any] = {}
    refused: list[str] = []
    for key, value in table.items():
        if key in _RUFF_DROPPED:
            continue
        if key in _RUFF_PATH_LISTS:
            entries = [value] if isinstance(value, str) else value if isinstance(value, list) else []
            kept = [entry for entry in entries if isinstance(entry, str) and not path_leaves_tree(entry)]
            outside = [entry for entry in entries if entry not in kept]
            if outside:
                refused.append(
                    f"ruff `{key}` in {source} names {len(outside)} path(s) outside the repository; refused, "
                    "ruff ran without them"
                )
            if kept:
                vetted[key] = kept
            continue
        vetted[key] = value
    return vetted, tuple(refused)


def toml_text(table: Mapping[str, Any], header: str | None = None) -> str:
    """`table` written as TOML (one quoted key per line, nested tables inline), under `[header]` when given.

    Every string is escaped here, so no value can end its line and add a setting of its own."""
    lines = [f"[{header}]"] if header else []
    lines += [f"{_string(str(name))} = {_value(value)}" for name, value in table.items()]
    return "".join(line + "\n" for line in lines)


def _string(text: str) -> str:
    out = ['"']
    for char in text:
        code = ord(char)
        if char == '"':
            out.append('\\"')
        elif char == "\\":
            out.append("\\\\")
        elif code < 0x20 or code == 0x7F:
            out.append(f"\\u{code:04x}")
        else:
            out.append(char)
    out.append('"')
    return "".join(out)


def _value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return "nan"
        return repr(value) if math.isfinite(value) else ("inf" if value > 0 else "-inf")
    if isinstance(value, str):
        return _string(value)
    if isinstance(value, datetime.datetime | datetime.date | datetime.time):
        return value.isoformat()
    if isinstance(value, Mapping):
        return "{" + ", ".join(f"{_string(str(k))} = {_value(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_value(item) for item in value) + "]"
    raise TypeError(f"not a TOML value: {type(value).__name__}")
