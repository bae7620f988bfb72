"""Lint and type-checker messages as values, read from each tool's output, and what a change newly introduced. Pure.

A violation is identified across base and head by (tool, code, path, message, the content of its line),
never by its line number: a violation that only moved because lines were added above it is not new.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

ViolationKey = tuple[str, str, str, str, str]
_FLAKE8_LINE = re.compile(r"^(?P<path>[^:\n]+):(?P<line>\d+):(?P<col>\d+): (?P<code>[A-Z]+[0-9]+) (?P<message>.*)$")
_MYPY_LINE = re.compile(
    r"^(?P<path>[^:\n]+):(?P<line>\d+):(?:(?P<col>\d+):)? (?P<severity>error|warning): (?P<message>.*?)"
    r"(?:  \[(?P<code>[a-z0-9-]+)\])?$"
)
_LINE_REFERENCE = re.compile(r"\bline \d+\b")


@dataclass(frozen=True)
class Violation:
    """One message of a linter or type checker about one line."""

    tool: str
    code: str
    path: str  # relative posix path
    line: int
    message: str

    def to_dict(self) -> dict[str, Any]:
        """Serialise to a JSON-ready dict."""
        return asdict(self)

    def describe(self) -> str:
        """`path:line: CODE message`, for gate details."""
        return f"{self.path}:{self.line}: {self.code} {self.message}"


def relative(path: str, root: Path) -> str:
    """A tool's path (absolute or relative to `root`) as a relative posix path."""
    candidate = Path(path)
    if candidate.is_absolute():
        try:
            candidate = candidate.relative_to(root)
        except ValueError:
            try:
                candidate = candidate.resolve().relative_to(root.resolve())
            except ValueError:
                return candidate.as_posix()
    return candidate.as_posix().removeprefix("./")


def parse_ruff_json(text: str, root: Path) -> list[Violation]:
    """`ruff check --output-format json` output; raises ValueError when it is not that."""
    data = json.loads(text or "[]")
    if not isinstance(data, list):
        raise ValueError("ruff's JSON output is not a list")
    found = []
    for item in data:
        location = item.get("location") or {}
        found.append(
            Violation(
                "ruff",
                str(item.get("code") or "syntax-error"),
                relative(str(item.get("filename", "")), root),
                int(location.get("row") or 0),
                str(item.get("message", "")),
            )
        )
    return found


def parse_flake8(text: str, root: Path) -> list[Violation]:
    """flake8's default `path:line:col: CODE message` output."""
    found = []
    for line in text.splitlines():
        match = _FLAKE8_LINE.match(line.strip())
        if match:
            found.append(
                Violation(
                    "flake8",
                    match["code"],
                    relative(match["path"], root),
                    int(match["line"]),
                    match["message"],
                )
            )
    return found


def parse_mypy(text: str, root: Path) -> list[Violation]:
    """mypy's `path:line[:col]: error: message  [code]` lines (notes are context, not errors)."""
    found = []
    for line in text.splitlines():
        match = _MYPY_LINE.match(line.rstrip())
        if match and match["severity"] == "error":
            found.append(
                Violation(
                    "mypy",
                    match["code"] or "error",
                    relative(match["path"], root),
                    int(match["line"]),
                    _LINE_REFERENCE.sub("line N", match["message"]),
                )
            )
    return found


def parse_pyright_json(text: str, root: Path) -> list[Violation]:
    """`pyright --outputjson` output (errors only, as pyright's exit status counts them); raises ValueError when
    it is not that. `root` is where pyright saw the tree (paths in its output are absolute)."""
    data = json.loads(text or "{}")
    diagnostics = data.get("generalDiagnostics") if isinstance(data, dict) else None
    if not isinstance(diagnostics, list):
        raise ValueError("pyright's JSON output has no generalDiagnostics list")
    found = []
    for item in diagnostics:
        if not isinstance(item, dict) or item.get("severity") != "error":
            continue
        start = (item.get("range") or {}).get("start") or {}
        line = start.get("line")
        found.append(
            Violation(
                "pyright",
                str(item.get("rule") or "error"),
                relative(str(item.get("file", "")), root),
                int(line) + 1 if isinstance(line, int) else 0,
                _LINE_REFERENCE.sub("line N", " ".join(str(item.get("message", "")).split())),
            )
        )
    return found


def violation_key(violation: Violation, lines: Mapping[str, Sequence[str]]) -> ViolationKey:
    """What identifies a violation across a change: tool, code, file, message and its line's content. A line
    number inside the message (ruff's F811 `redefinition of unused f from line 1939`) counts as `line N`: lines
    added above it shift it without making the violation new."""
    file_lines = lines.get(violation.path, ())
    content = file_lines[violation.line - 1].strip() if 0 < violation.line <= len(file_lines) else ""
    message = _LINE_REFERENCE.sub("line N", violation.message)
    return (violation.tool, violation.code, violation.path, message, content)


def new_violations(
    base: Iterable[Violation],
    head: Iterable[Violation],
    base_lines: Mapping[str, Sequence[str]],
    head_lines: Mapping[str, Sequence[str]],
) -> list[Violation]:
    """Head's violations beyond base's, comparing multisets of keys (two identical ones need two in base).

    A violation on a line the change edited (its text is not in base's file, and base's violation with the same
    tool, code, file and message sits on a line whose text is not in head's file) is base's, not new: `open(p, 'r')`
    -> `open(p, 'rb')` on a line that already held two statements."""
    remaining = Counter(violation_key(v, base_lines) for v in base)
    unmatched = []
    for violation in sorted(head, key=lambda v: (v.path, v.line, v.code)):
        key = violation_key(violation, head_lines)
        if remaining[key] > 0:
            remaining[key] -= 1
        else:
            unmatched.append(violation)
    head_texts = {path: {line.strip() for line in lines} for path, lines in head_lines.items()}
    base_texts = {path: {line.strip() for line in lines} for path, lines in base_lines.items()}
    edited: Counter[tuple[str, str, str, str]] = Counter()  # base's leftovers on lines head no longer has
    for key, count in remaining.items():
        if key[4] not in head_texts.get(key[2], set()):
            edited[key[:4]] += count
    new = []
    for violation in unmatched:
        key = violation_key(violation, head_lines)
        loose, content = key[:4], key[4]
        if edited[loose] > 0 and content not in base_texts.get(violation.path, set()):
            edited[loose] -= 1
        else:
            new.append(violation)
    return new
