"""Path globs for include/exclude settings: `**/` spans directories, `*` and `?` stay inside one segment."""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable


@functools.lru_cache(maxsize=512)
def glob_regex(pattern: str) -> re.Pattern[str]:
    """Compile a path glob into a regular expression matching whole relative posix paths."""
    out: list[str] = []
    i = 0
    while i < len(pattern):
        if pattern.startswith("**/", i):
            out.append("(?:.*/)?")
            i += 3
        elif pattern.startswith("**", i):
            out.append(".*")
            i += 2
        elif pattern[i] == "*":
            out.append("[^/]*")
            i += 1
        elif pattern[i] == "?":
            out.append("[^/]")
            i += 1
        else:
            out.append(re.escape(pattern[i]))
            i += 1
    return re.compile("".join(out) + r"\Z")


def glob_match(path: str, pattern: str) -> bool:
    """Whether a relative posix path matches one glob."""
    return bool(glob_regex(pattern).match(path))


def matches_any(path: str, patterns: Iterable[str]) -> bool:
    """Whether a relative posix path matches one of the globs."""
    return any(glob_regex(pattern).match(path) for pattern in patterns)
