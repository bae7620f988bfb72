"""Style Evolve's edits with the project's own formatter, on the changed lines only.

Black (`--line-ranges`) and `ruff format` (`--range`) from Evolve's install, given the project's settings as
Evolve read and vetted them (`--config`, never the tree's own files), format only the lines an edit changed
(widened by the tool to whole logical lines), so an edit matches the project's style and untouched code is
never reformatted. isort has no range mode and is not run: Evolve's
edits only ever remove imports, which keeps a sorted block sorted. Formatting never breaks an edit: when
the formatter fails or its output does not parse, the edit stays as it was and a note says why.
"""

from __future__ import annotations

import ast
import difflib
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

from evolve.edits import FileEdit
from evolve.project_rules.model import ProjectRules
from evolve.project_rules.tools import private_config, run_tool

Range = tuple[int, int]  # 1-based, inclusive, in the edited text


def changed_ranges(before: str, after: str) -> list[Range]:
    """The line ranges of `after` that differ from `before` (pure deletions leave nothing to format)."""
    matcher = difflib.SequenceMatcher(a=before.splitlines(), b=after.splitlines(), autojunk=False)
    ranges: list[Range] = []
    for tag, _, _, start, end in matcher.get_opcodes():
        if tag in ("replace", "insert") and end > start:
            if ranges and start + 1 <= ranges[-1][1] + 1:
                ranges[-1] = (ranges[-1][0], max(ranges[-1][1], end))
            else:
                ranges.append((start + 1, end))
    return ranges


def _black(root: Path, path: str, text: str, ranges: Sequence[Range], rules: ProjectRules) -> tuple[str | None, str]:
    args = ["--quiet", *[f"--line-ranges={start}-{end}" for start, end in ranges]]
    # Always a config of Evolve's (empty: black's defaults), so black never looks for a pyproject.toml itself.
    with private_config("pyproject.toml", rules.black_config or "") as config:
        run = run_tool(
            "black", [*args, "--config", str(config), "--stdin-filename", path, "-"], root, stdin=text, timeout=60
        )
    if run.returncode != 0:
        return (
            None,
            f"black could not format {path}: {(run.stderr.strip().splitlines() or ['exit ' + str(run.returncode)])[-1]}",
        )
    return run.stdout, ""


def _ruff(root: Path, path: str, text: str, ranges: Sequence[Range], config: str | None) -> tuple[str | None, str]:
    # One range per call; bottom-up so formatting a range never shifts the line numbers of the ones left.
    # The range end is exclusive (`line:column`), so it is the start of the line after the last changed one.
    # ruff gets the settings Evolve vetted (or none: `--isolated`), never the tree's config files.
    for start, end in sorted(ranges, reverse=True):
        with private_config("evolve-ruff.toml", config or "") as settings:
            chosen = ["--config", str(settings)] if config is not None else ["--isolated"]
            run = run_tool(
                "ruff",
                ["format", *chosen, f"--range={start}:1-{end + 1}:1", "--stdin-filename", path, "-"],
                root,
                stdin=text,
                timeout=60,
            )
        if run.returncode != 0:
            return (
                None,
                f"ruff format could not format {path}: {(run.stderr.strip().splitlines() or ['exit ' + str(run.returncode)])[-1]}",
            )
        text = run.stdout
    return text, ""


def _statement_start(tree: ast.Module | None, line: int) -> int:
    """The first line (decorators included) of the innermost statement holding `line`, else `line`."""
    start = line
    if tree is None:
        return start
    for node in ast.walk(tree):
        if isinstance(node, ast.stmt) and node.lineno <= line <= (node.end_lineno or node.lineno):
            first = min([node.lineno, *(d.lineno for d in getattr(node, "decorator_list", ()))])
            start = first if start == line or first > start else start
    return start


def _with_neighbours(text: str, ranges: Sequence[Range]) -> list[Range]:
    """Each range from the line above the statement it starts in to the line below it, merged where they meet.

    black 26 given the signature of a nested def but not the line above it adds a blank line above the def (black
    24.10.0's tests/test_trans.py, after a rewritten annotation); with the line above in range it does not. The file
    is formatter-clean on base, so the neighbours change only where the edit changed what they need."""
    try:
        tree: ast.Module | None = ast.parse(text)
    except (SyntaxError, ValueError):
        tree = None
    total = max(1, len(text.splitlines()))
    widened: list[Range] = []
    for start, end in sorted(ranges):
        start, end = max(1, _statement_start(tree, start) - 1), min(total, end + 1)
        if widened and start <= widened[-1][1] + 1:
            widened[-1] = (widened[-1][0], max(widened[-1][1], end))
        else:
            widened.append((start, end))
    return widened


def format_edit(root: Path, edit: FileEdit, rules: ProjectRules) -> tuple[FileEdit, str]:
    """The edit with its changed lines formatted by the project's formatter, and a note when that failed."""
    formatter = rules.formatter
    ranges = changed_ranges(edit.before, edit.after)
    if formatter is None or not edit.path.endswith((".py", ".pyi")) or not ranges or rules.excluded(edit.path):
        return edit, ""

    def run(text: str, line_ranges: Sequence[Range]) -> tuple[str | None, str]:
        if formatter == "black":
            return _black(root, edit.path, text, line_ranges, rules)
        return _ruff(root, edit.path, text, line_ranges, rules.ruff_config)

    # Only a file the formatter already leaves unchanged is formatted: a config nobody applies to this file
    # (other quotes, other blank lines) would make the edited lines clash with their neighbours.
    whole = [(1, max(1, len(edit.before.splitlines())))]
    base, note = run(edit.before, whole)
    if base != edit.before:
        return edit, note or f"{formatter} not applied to {edit.path}: the file is not {formatter}-formatted on base"
    formatted, note = run(edit.after, _with_neighbours(edit.after, ranges))
    if formatted is None:
        return edit, note
    try:
        ast.parse(formatted)
    except (SyntaxError, ValueError):
        return edit, f"{formatter} output for {edit.path} does not parse; kept the unformatted edit"
    return replace(edit, after=formatted), ""


def format_edits(
    root: Path, edits: Sequence[FileEdit], rules: ProjectRules
) -> tuple[tuple[FileEdit, ...], tuple[str, ...]]:
    """Every edit styled by the project's formatter (when it has one), and the notes of those that could not be."""
    styled: list[FileEdit] = []
    notes: list[str] = []
    for edit in edits:
        new, note = format_edit(Path(root), edit, rules)
        styled.append(new)
        if note:
            notes.append(note)
    return tuple(styled), tuple(notes)
