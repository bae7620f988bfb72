"""Maintainability gate: the maintainability index of each changed file does not drop, nor fall below the floor."""

from __future__ import annotations

import ast
from collections.abc import Callable, Sequence
from pathlib import Path

from evolve.configuration.model import MaintainabilityGateConfig
from evolve.findings import FileMetrics, ScanResult
from evolve.gate_api import GateContext
from evolve.results import Failed, GateResult, Metric, Passed
from evolve.wording import plural
from gates.changed_code import SIMPLE_FUNCTION, adds_only_simple_functions, files_in, listing, mean, number
from gates.scan_gate import ScanGate

# MI moves a little with any edit (one more operand, one line less); smaller moves are noise, not a regression.
MI_EPSILON = 0.5
# The tolerance neutral rewrites stay inside: a change that adds at most this many source lines and no
# cyclomatic complexity is never a maintainability regression. Radon's MI also weighs Halstead volume,
# which sees spelling: `Optional[int]` -> `int | None` adds a `|` operator, and a file whose volume was
# 0 (MI pinned at 100) drops to ~65 on its first operator. Neither makes the code harder to maintain.
NEUTRAL_SLOC_SLACK = 1  # e.g. the `from __future__ import annotations` a modernisation adds


def is_neutral_change(before: FileMetrics, after: FileMetrics) -> bool:
    """Whether a file changed without growing: no more source lines (beyond the slack), no more complexity."""
    complexity_before = sum(f.complexity for f in before.functions)
    complexity_after = sum(f.complexity for f in after.functions)
    return after.sloc <= before.sloc + NEUTRAL_SLOC_SLACK and complexity_after <= complexity_before


def _without_docstrings(source: str) -> str | None:
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError):
        return None
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
            body = node.body
            if (
                body
                and isinstance(body[0], ast.Expr)
                and isinstance(body[0].value, ast.Constant)
                and isinstance(body[0].value.value, str)
            ):
                node.body = body[1:] or [ast.Pass()]
    return ast.dump(tree)


def differs_only_in_docstrings(before: str, after: str) -> bool:
    """Whether two sources have the same code once docstrings are set aside.

    Radon counts a one-line docstring as a line of code, so documenting a function lowers its file's
    maintainability index; such a change is not a maintainability regression.
    """
    stripped_before, stripped_after = _without_docstrings(before), _without_docstrings(after)
    return stripped_before is not None and stripped_before == stripped_after


def _import_statement(node: ast.stmt) -> bool:
    """An import, or a `try` made only of imports with fallbacks (`try: from collections.abc import X` /
    `except ImportError: from collections import X`, or `... = collections`)."""
    if isinstance(node, (ast.Import, ast.ImportFrom)):
        return True
    if not isinstance(node, ast.Try) or node.orelse or node.finalbody:
        return False
    fallback = (ast.Import, ast.ImportFrom, ast.Pass, ast.Assign)
    return all(isinstance(s, (ast.Import, ast.ImportFrom)) for s in node.body) and all(
        isinstance(s, fallback) for handler in node.handlers for s in handler.body
    )


def _without_imports(source: str) -> str | None:
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError):
        return None
    tree.body = [node for node in tree.body if not _import_statement(node)]
    return ast.dump(tree)


def differs_only_in_imports(before: str, after: str) -> bool:
    """Whether two sources have the same code once their module-level imports are set aside (an import moved
    to a compatible `try`/`except ImportError` form adds source lines, not logic)."""
    stripped_before, stripped_after = _without_imports(before), _without_imports(after)
    return stripped_before is not None and stripped_before == stripped_after


def maintainability_regressions(
    base: ScanResult,
    head: ScanResult,
    paths: Sequence[str],
    floor: float,
    documentation_only: frozenset[str] = frozenset(),
    imports_only: frozenset[str] = frozenset(),
) -> dict[str, str]:
    """path -> reason, for changed files whose MI dropped, fell below `floor`, or are new and below it.

    Files in `documentation_only` changed nothing but docstrings, files in `imports_only` nothing but their
    imports: they are never blamed; nor are neutral changes (`is_neutral_change`), whatever radon's Halstead
    term makes of them.
    """
    before, after = files_in(base, paths), files_in(head, paths)
    problems: dict[str, str] = {}
    for path, metrics in sorted(after.items()):
        if path in documentation_only or path in imports_only:
            continue
        new = metrics.maintainability
        old = before[path].maintainability if path in before else None
        if old is not None and new < old and is_neutral_change(before[path], metrics):
            continue
        added = old is not None and adds_only_simple_functions(before[path], metrics)
        if old is None:
            if new < floor:
                problems[path] = f"new file with MI {number(new)} below the floor {number(floor)}"
        elif old >= floor > new:
            problems[path] = f"MI {number(old)} -> {number(new)} falls below the floor {number(floor)}"
        elif new < old - MI_EPSILON and not added:
            problems[path] = f"MI {number(old)} -> {number(new)}"
    return problems


def average_maintainability(scan: ScanResult, paths: Sequence[str]) -> float | None:
    """Mean maintainability index of the changed files present in `scan`."""
    return mean([f.maintainability for f in files_in(scan, paths).values()])


def judge_maintainability(
    base: ScanResult,
    head: ScanResult,
    paths: Sequence[str],
    floor: float,
    documentation_only: frozenset[str] = frozenset(),
    imports_only: frozenset[str] = frozenset(),
) -> GateResult:
    """Fail when any changed file's MI regresses; blame those files."""
    base_avg, head_avg = average_maintainability(base, paths), average_maintainability(head, paths)
    metrics = (Metric("average maintainability index", base_avg, head_avg, "higher"),)
    problems = maintainability_regressions(base, head, paths, floor, documentation_only, imports_only)
    if problems:
        return Failed(
            gate="maintainability",
            summary=f"Maintainability drops in {plural(len(problems), 'file')}: {listing(sorted(problems))}.",
            metrics=metrics,
            blame=tuple(sorted(problems)),
            details="\n".join(f"{path}: {reason}" for path, reason in problems.items()),
        )
    summary = f"Average maintainability index of the changed files {number(base_avg)} -> {number(head_avg)}."
    allowed = allowed_drops(base, head, paths, documentation_only, imports_only)
    if allowed:
        summary += " Lower but allowed: " + "; ".join(f"{path} {why}" for path, why in allowed.items()) + "."
    return Passed(gate="maintainability", metrics=metrics, summary=summary)


def allowed_drops(
    base: ScanResult,
    head: ScanResult,
    paths: Sequence[str],
    documentation_only: frozenset[str] = frozenset(),
    imports_only: frozenset[str] = frozenset(),
) -> dict[str, str]:
    """path -> why, for the changed files whose MI went down yet passed: how much, and the rule that allows it."""
    before, after = files_in(base, paths), files_in(head, paths)
    allowed: dict[str, str] = {}
    for path, metrics in sorted(after.items()):
        if path not in before or metrics.maintainability >= before[path].maintainability:
            continue
        old, new = before[path].maintainability, metrics.maintainability
        # The drop of the figures as shown (each rounded to two decimals), so the sentence's arithmetic adds up.
        drop = f"MI {number(old, 2)} -> {number(new, 2)} (-{number(round(old, 2) - round(new, 2), 2)})"
        if path in documentation_only:
            allowed[path] = f"{drop}: only docstrings changed (radon counts them as code)"
        elif path in imports_only:
            allowed[path] = f"{drop}: only imports changed (an import fallback adds lines, not logic)"
        elif adds_only_simple_functions(before[path], metrics):
            allowed[path] = (
                f"{drop}: the change only adds whole functions, each at most {SIMPLE_FUNCTION} complex, and leaves the "
                "existing ones as they were"
            )
        elif is_neutral_change(before[path], metrics):
            allowed[path] = (
                f"{drop}: a neutral change (at most {NEUTRAL_SLOC_SLACK} more source line, no more complexity)"
            )
        else:
            allowed[path] = f"{drop}: within the tolerance of {number(MI_EPSILON)} points"
    return allowed


class MaintainabilityGate(ScanGate[MaintainabilityGateConfig]):
    """The maintainability index (radon) of changed files does not get worse."""

    name = "maintainability"
    description = (
        "Each changed file's maintainability index does not drop (by more than 0.5), and stays above the floor; "
        "a neutral change (no more source lines than one, no more cyclomatic complexity) always passes."
    )

    # The core's model: research flags the files below this same floor.
    Settings = MaintainabilityGateConfig

    def evaluate(self, context: GateContext) -> GateResult:
        """Note which changed files only gained or changed docstrings, then judge as a scan gate."""
        self._documentation_only = frozenset(
            path
            for path in context.changed_files
            if path.endswith(".py") and _documentation_only(context.base, context.head, path)
        )
        self._imports_only = frozenset(
            path
            for path in context.changed_files
            if path.endswith(".py") and _compare(context.base, context.head, path, differs_only_in_imports)
        )
        return super().evaluate(context)

    def judge(self, base: ScanResult, head: ScanResult, paths: Sequence[str]) -> GateResult:
        """Compare the MI of each changed file."""
        return judge_maintainability(
            base,
            head,
            paths,
            self.settings.floor,
            getattr(self, "_documentation_only", frozenset()),
            getattr(self, "_imports_only", frozenset()),
        )


def _documentation_only(base: Path, head: Path, path: str) -> bool:
    return _compare(base, head, path, differs_only_in_docstrings)


def _compare(base: Path, head: Path, path: str, same: Callable[[str, str], bool]) -> bool:
    try:
        before = (base / path).read_text(encoding="utf-8")
        after = (head / path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return False
    return same(before, after)
