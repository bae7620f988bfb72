"""Pure helpers shared by the gates: which changed files are Python, and their metrics in a scan."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from evolve.findings import FileMetrics, ScanResult

EPSILON = 1e-9  # below this, two floats are the same measurement


def python_paths(changed_files: Iterable[str]) -> tuple[str, ...]:
    """The changed files that are Python sources, sorted and without duplicates."""
    return tuple(sorted({path for path in changed_files if path.endswith(".py")}))


def files_in(scan: ScanResult, paths: Sequence[str] | None) -> dict[str, FileMetrics]:
    """The scan's file metrics, restricted to `paths` when given, by path."""
    wanted = None if paths is None else set(paths)
    return {f.path: f for f in scan.files if wanted is None or f.path in wanted}


def mean(values: Sequence[float]) -> float | None:
    """The arithmetic mean, or None for no values."""
    return sum(values) / len(values) if values else None


def percent(part: int, whole: int) -> float | None:
    """`part` as a percentage of `whole`, or None when `whole` is zero."""
    return 100.0 * part / whole if whole else None


def number(value: float | None, digits: int = 1) -> str:
    """Format a measurement for a sentence; `n/a` when unknown."""
    return "n/a" if value is None else f"{value:.{digits}f}"


def listing(items: Sequence[str], limit: int = 3) -> str:
    """`a, b, c and 2 more` — a short list for one-sentence summaries."""
    shown = ", ".join(items[:limit])
    return shown if len(items) <= limit else f"{shown} and {len(items) - limit} more"
