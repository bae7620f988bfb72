"""Metrics of the code a change touches — the changed files and functions, before → after. Pure.

Repository-wide averages hide a change in a large project ("+0.00"); a reviewer wants the numbers of the
functions in the diff.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

from evolve.findings import FileMetrics, ScanResult
from evolve.proof.behaviour import EditProof


@dataclass(frozen=True)
class ChangedCodeMetric:
    """One measurement of changed code: a file's maintainability index or a function's complexity."""

    path: str
    symbol: str | None  # None for the whole file
    metric: str  # "maintainability index" or "cyclomatic complexity"
    before: float | None  # None when the file or function is new
    after: float | None  # None when it is gone
    better: str  # "higher" or "lower"

    def to_dict(self) -> dict[str, Any]:
        """Serialise to a JSON-ready dict."""
        return asdict(self)


def _overlaps(start: int, end: int, ranges: Sequence[tuple[int, int]]) -> bool:
    return any(first <= end and start <= last for first, last in ranges)


def changed_code_metrics(
    base: ScanResult,
    head: ScanResult,
    base_ranges: Mapping[str, Sequence[tuple[int, int]]],
    head_ranges: Mapping[str, Sequence[tuple[int, int]]],
) -> tuple[ChangedCodeMetric, ...]:
    """For each changed file: its maintainability index, and the complexity of each function a hunk touches.

    `base_ranges`/`head_ranges` are the changed line ranges per path on each side.
    """
    before_files = {f.path: f for f in base.files}
    after_files = {f.path: f for f in head.files}
    rows: list[ChangedCodeMetric] = []
    for path in sorted(set(base_ranges) | set(head_ranges)):
        old, new = before_files.get(path), after_files.get(path)
        if old is None and new is None:
            continue
        rows.append(
            ChangedCodeMetric(
                path,
                None,
                "maintainability index",
                old.maintainability if old else None,
                new.maintainability if new else None,
                "higher",
            )
        )
        rows.extend(_function_rows(path, old, new, base_ranges.get(path, ()), head_ranges.get(path, ())))
    return tuple(rows)


def _function_rows(
    path: str,
    old: FileMetrics | None,
    new: FileMetrics | None,
    base_ranges: Sequence[tuple[int, int]],
    head_ranges: Sequence[tuple[int, int]],
) -> Iterable[ChangedCodeMetric]:
    old_functions = {f.qualname: f for f in (old.functions if old else ())}
    new_functions = {f.qualname: f for f in (new.functions if new else ())}
    touched = {name for name, f in old_functions.items() if _overlaps(f.line, f.end_line, base_ranges)}
    touched |= {name for name, f in new_functions.items() if _overlaps(f.line, f.end_line, head_ranges)}
    # The innermost function only: a method's change is not also its class's or outer function's.
    innermost = {name for name in touched if not any(other.startswith(name + ".") for other in touched)}
    for name in sorted(innermost):
        before, after = old_functions.get(name), new_functions.get(name)
        yield ChangedCodeMetric(
            path,
            name,
            "cyclomatic complexity",
            before.complexity if before else None,
            after.complexity if after else None,
            "lower",
        )


def metrics_of_changed_code(
    base: ScanResult, head: ScanResult, proof: EditProof | None
) -> tuple[ChangedCodeMetric, ...]:
    """`changed_code_metrics` over the hunks a change kept (per its proof)."""
    if proof is None:
        return ()
    base_ranges: dict[str, list[tuple[int, int]]] = {}
    head_ranges: dict[str, list[tuple[int, int]]] = {}
    for hunk in proof.hunks:
        if hunk.verdict == "dropped":
            continue
        base_ranges.setdefault(hunk.path, []).append((hunk.base_start, max(hunk.base_end, hunk.base_start)))
        head_ranges.setdefault(hunk.path, []).append((hunk.head_start, max(hunk.head_end, hunk.head_start)))
    return changed_code_metrics(base, head, base_ranges, head_ranges)
