"""What an edit changes, as a unified diff and as changed line numbers, computed from the edit's texts.

The same rendering serves the report, the gates (which lines a change touched) and the check that a commit
holds exactly the reported change, so nothing depends on a work tree that repository code could have touched.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable
from dataclasses import dataclass

NO_NEWLINE = "\\ No newline at end of file\n"
_HUNK = re.compile(r"^@@ -\d+(?:,\d+)? \+(\d+)(?:,(\d+))? @@")


@dataclass(frozen=True)
class DiffSummary:
    """What differs between base and head."""

    text: str
    changed_lines: dict[str, tuple[int, ...]]  # path -> added/modified line numbers in the new version


def unified_diff(path: str, before: str, after: str) -> str:
    """The unified diff of one file's two texts, headed `a/<path>` and `b/<path>` (git's marker for a last line
    without a newline, so diffs of several files concatenate cleanly)."""
    lines = difflib.unified_diff(
        before.splitlines(keepends=True), after.splitlines(keepends=True), fromfile=f"a/{path}", tofile=f"b/{path}"
    )
    return "".join(line if line.endswith("\n") else line + "\n" + NO_NEWLINE for line in lines)


def changed_lines(diff_text: str) -> dict[str, tuple[int, ...]]:
    """Per file of a unified diff, the line numbers (in the new version) that were added or modified."""
    changed: dict[str, list[int]] = {}
    current: str | None = None
    new_line = 0
    for line in diff_text.splitlines():
        if line.startswith("+++ "):
            current = line[6:] if line.startswith("+++ b/") else None
            if current is not None:
                changed.setdefault(current, [])
        elif line.startswith("@@"):
            match = _HUNK.match(line)
            new_line = int(match.group(1)) if match else 0
        elif current is not None and not line.startswith("---"):
            if line.startswith("+"):
                changed[current].append(new_line)
                new_line += 1
            elif not line.startswith("-") and not line.startswith("\\"):
                new_line += 1
    return {path: tuple(lines) for path, lines in changed.items()}


def summarize(changes: Iterable[tuple[str, str, str]]) -> DiffSummary:
    """The diff and changed lines of `(path, before, after)` triples, in path order; unchanged files left out."""
    text = "".join(unified_diff(path, before, after) for path, before, after in sorted(changes) if before != after)
    return DiffSummary(text=text, changed_lines=changed_lines(text))
