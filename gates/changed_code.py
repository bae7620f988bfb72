"""Helpers shared by the gates: which changed files are Python, their metrics in a scan, two checks at once."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

from evolve.findings import FileMetrics, ScanResult

T = TypeVar("T")
U = TypeVar("U")

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


def both(first: Callable[[], T], second: Callable[[], U]) -> tuple[T, U]:
    """Run two independent checks (base's and head's: subprocesses) at once; each one's exception is raised."""
    with ThreadPoolExecutor(max_workers=2, thread_name_prefix="evolve-check") as pool:
        one, two = pool.submit(first), pool.submit(second)
        return one.result(), two.result()


# A function a change adds whole is held to this complexity on its own (the complexity gate's default threshold).
SIMPLE_FUNCTION = 10


def adds_only_simple_functions(before: FileMetrics, after: FileMetrics, limit: int = SIMPLE_FUNCTION) -> bool:
    """Whether a change kept every function of the file as complex as it was and only added whole functions, each
    at most `limit` complex (a private copy of a function Python removed, a small helper): the existing code is no
    harder to follow, so the file's averages do not judge it; the new functions are judged on their own."""

    def keyed(metrics: FileMetrics) -> dict[tuple[str, int], int]:
        seen: dict[str, int] = {}
        found = {}
        for function in sorted(metrics.functions, key=lambda f: f.line):
            number = seen.get(function.qualname, 0)
            seen[function.qualname] = number + 1
            found[(function.qualname, number)] = function.complexity
        return found

    old, new = keyed(before), keyed(after)
    added = set(new) - set(old)
    return (
        bool(added)
        and set(old) <= set(new)
        and all(new[key] == complexity for key, complexity in old.items())
        and all(new[key] <= limit for key in added)
    )
