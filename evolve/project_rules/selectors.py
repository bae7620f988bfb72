"""Rule selection as ruff and flake8 resolve it: the most specific matching selector wins, ignore wins ties.

Pure functions over selector strings (`E`, `E7`, `E711`, `RET`, `ALL`) and path globs; no I/O.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Iterable, Sequence
from pathlib import PurePosixPath

CodeVerdict = tuple[bool, str | None]  # (selected, the winning selector or None when nothing matched)


def selector_matches(selector: str, code: str) -> bool:
    """Whether a selector (`ALL`, a prefix such as `E7` or `RET`, or a full code) covers `code`."""
    selector = selector.strip().upper()
    return selector == "ALL" or (bool(selector) and code.upper().startswith(selector))


def specificity(selector: str) -> int:
    """How specific a selector is: `ALL` least, then longer prefixes more."""
    selector = selector.strip().upper()
    return 0 if selector == "ALL" else len(selector)


def resolve_code(code: str, select: Iterable[str], ignore: Iterable[str]) -> CodeVerdict:
    """Whether `code` is selected: the most specific matching selector decides; at equal specificity ignore wins."""
    best: tuple[int, int, str] | None = None  # (specificity, ignore?, selector): max wins, ignore=1 beats select=0
    for is_ignore, selectors in ((0, select), (1, ignore)):
        for selector in selectors:
            if selector_matches(selector, code):
                candidate = (specificity(selector), is_ignore, selector)
                if best is None or candidate[:2] > best[:2]:
                    best = candidate
    if best is None:
        return False, None
    return best[1] == 0, best[2]


def _ancestors(path: str) -> list[str]:
    """`a/b/c.py` -> [`a`, `a/b`, `a/b/c.py`]: a tool excluding a directory excludes what is inside it."""
    parts = PurePosixPath(path).parts
    return ["/".join(parts[: index + 1]) for index in range(len(parts))]


def glob_covers(path: str, pattern: str) -> bool:
    """Whether a ruff/flake8-style glob covers a path: by the whole relative path or by a file or directory name.

    As in both tools, `*` crosses `/`, a pattern without `/` matches any path component's name, and
    a pattern naming a directory covers everything below it.
    """
    pattern = pattern.strip()
    if pattern.startswith("./"):
        pattern = pattern[2:]
    pattern = pattern.rstrip("/")
    if not pattern:
        return False
    candidates = [pattern]
    if pattern.startswith("**/"):
        candidates.append(pattern[3:])
    for ancestor in _ancestors(path):
        name = ancestor.rsplit("/", 1)[-1]
        for candidate in candidates:
            if fnmatch.fnmatchcase(ancestor, candidate):
                return True
            if "/" not in candidate and fnmatch.fnmatchcase(name, candidate):
                return True
    return False


def per_file_codes(path: str, per_file: Sequence[tuple[str, tuple[str, ...]]]) -> tuple[str, ...]:
    """The selectors ignored for `path` by per-file-ignores entries (`!pattern` entries apply to other paths)."""
    codes: list[str] = []
    for pattern, selectors in per_file:
        negated = pattern.startswith("!")
        covered = glob_covers(path, pattern[1:] if negated else pattern)
        if covered != negated:
            codes.extend(selectors)
    return tuple(codes)


def regex_excludes(path: str, pattern: str) -> bool:
    """Whether a black/mypy-style exclude regex matches the path (black matches `/path`, mypy the plain path)."""
    try:
        compiled = re.compile(pattern, re.VERBOSE if "\n" in pattern else 0)
    except re.error:
        return False
    return any(bool(compiled.search(candidate)) for candidate in (path, "/" + path, "/" + path + "/"))


def split_codes(text: str) -> tuple[str, ...]:
    """Codes from an ini value or a CLI argument: separated by commas, whitespace or newlines; comments dropped."""
    codes: list[str] = []
    for line in text.splitlines():
        line = line.split("#", 1)[0]
        codes.extend(word for word in re.split(r"[\s,]+", line) if word)
    return tuple(codes)
