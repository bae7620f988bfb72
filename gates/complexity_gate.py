"""Complexity gate: no function above the threshold gets worse or crosses it; the average does not rise (unless the
change only adds whole functions under the threshold and leaves the existing ones as they were)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

from evolve.configuration.model import ComplexityGateConfig
from evolve.findings import ScanResult
from evolve.results import Failed, GateResult, Metric, Passed
from evolve.wording import plural
from gates.changed_code import EPSILON, adds_only_simple_functions, files_in, listing, mean, number
from gates.scan_gate import ScanGate


@dataclass(frozen=True)
class ComplexityRegression:
    """A function that became too complex: where, before (None when new), after, and why it counts."""

    path: str
    qualname: str
    base: int | None
    head: int
    reason: str

    def describe(self) -> str:
        """One line for the details of a failure."""
        return f"{self.path}::{self.qualname}: {self.base if self.base is not None else 'new'} -> {self.head} ({self.reason})"


def function_complexities(scan: ScanResult, paths: Sequence[str] | None) -> dict[tuple[str, str, int], int]:
    """Complexity per function, keyed by (path, qualname, n-th definition of that name in the file)."""
    result: dict[tuple[str, str, int], int] = {}
    for path, metrics in files_in(scan, paths).items():
        seen: dict[str, int] = defaultdict(int)
        for function in sorted(metrics.functions, key=lambda f: f.line):
            result[(path, function.qualname, seen[function.qualname])] = function.complexity
            seen[function.qualname] += 1
    return result


def complexity_regressions(
    base: ScanResult, head: ScanResult, paths: Sequence[str] | None, threshold: int
) -> list[ComplexityRegression]:
    """Functions above `threshold` in head that were at or below it (or new), or above it and got worse."""
    before = function_complexities(base, paths)
    found = []
    for key, after in sorted(function_complexities(head, paths).items()):
        if after <= threshold:
            continue
        old = before.get(key)
        if old is None or old <= threshold:
            reason = "new function above the threshold" if old is None else "crosses the threshold"
            found.append(ComplexityRegression(key[0], key[1], old, after, reason))
        elif after > old:
            found.append(ComplexityRegression(key[0], key[1], old, after, "above the threshold and got worse"))
    return found


# A bug fix often is one guard (`if x is None: x = []`, an early return): one branch more in a function that
# stays at or below the threshold. Such rises alone do not fail the average rule.
GUARD_TOLERANCE = 1


def only_guard_rises(base: ScanResult, head: ScanResult, paths: Sequence[str] | None, threshold: int) -> bool:
    """Whether the same functions exist before and after and each rose by at most one branch, staying <= threshold."""
    before, after = function_complexities(base, paths), function_complexities(head, paths)
    if before.keys() != after.keys():
        return False
    return all(
        new - before[key] <= GUARD_TOLERANCE and new <= threshold for key, new in after.items() if new > before[key]
    )


def average_complexity(scan: ScanResult, paths: Sequence[str] | None) -> float | None:
    """Mean cyclomatic complexity of the functions in `paths`."""
    return mean(list(function_complexities(scan, paths).values()))


def judge_complexity(base: ScanResult, head: ScanResult, paths: Sequence[str], threshold: int) -> GateResult:
    """Fail on any complexity regression or a higher average; blame the files responsible."""
    base_avg, head_avg = average_complexity(base, paths), average_complexity(head, paths)
    base_all, head_all = function_complexities(base, paths), function_complexities(head, paths)
    metrics = (
        Metric("average complexity", base_avg, head_avg, "lower"),
        Metric(
            "max complexity",
            float(max(base_all.values(), default=0)),
            float(max(head_all.values(), default=0)),
            "lower",
        ),
        Metric(
            f"functions above {threshold}",
            float(sum(v > threshold for v in base_all.values())),
            float(sum(v > threshold for v in head_all.values())),
            "lower",
        ),
    )
    regressions = complexity_regressions(base, head, paths, threshold)
    problems = []
    blame = {r.path for r in regressions}
    lines = [r.describe() for r in regressions]
    if regressions:
        names = [f"{r.qualname} ({r.head})" for r in regressions]
        problems.append(f"{plural(len(regressions), 'function')} too complex: {listing(names)}")
    rose_on_average = base_avg is not None and head_avg is not None and head_avg > base_avg + EPSILON
    rose = [path for path in paths if _average_rose(base, head, path)] if rose_on_average else []
    before, after = files_in(base, paths), files_in(head, paths)
    added = [
        p for p in rose if p in before and p in after and adds_only_simple_functions(before[p], after[p], threshold)
    ]
    if rose_on_average and not only_guard_rises(base, head, paths, threshold) and set(rose) - set(added):
        problems.append(f"average complexity rises from {number(base_avg, 2)} to {number(head_avg, 2)}")
        rose = [path for path in rose if path not in added]
        blame.update(rose)
        lines += [
            f"{path}: average complexity {number(average_complexity(base, [path]), 2)} -> "
            f"{number(average_complexity(head, [path]), 2)}"
            for path in rose
        ]
    if problems:
        text = "; ".join(problems)
        return Failed(
            gate="complexity",
            summary=text[0].upper() + text[1:] + ".",
            metrics=metrics,
            blame=tuple(sorted(blame)),
            details="\n".join(lines),
        )
    return Passed(
        gate="complexity",
        metrics=metrics,
        summary=f"Average complexity of the changed files {number(base_avg, 2)} -> {number(head_avg, 2)}"
        + (
            f" (higher but allowed: the change only adds whole functions, each at most {threshold} complex, and "
            "leaves the existing ones as they were)"
            if rose_on_average and added and set(rose) <= set(added)
            else f" (higher but allowed: each function that rose gained at most {GUARD_TOLERANCE} branch and stays at "
            f"or below {threshold}, as a guard does)"
            if rose_on_average
            else ""
        )
        + f"; no function above {threshold} got worse.",
    )


def _average_rose(base: ScanResult, head: ScanResult, path: str) -> bool:
    before, after = average_complexity(base, [path]), average_complexity(head, [path])
    return after is not None and (before is None or after > before + EPSILON)


class ComplexityGate(ScanGate[ComplexityGateConfig]):
    """Cyclomatic complexity of the changed files does not get worse."""

    name = "complexity"
    description = (
        "No function above the complexity threshold gets worse or crosses it; the average does not rise, "
        "except by guards: one more branch in functions that stay at or below the threshold."
    )

    # The core's model: research flags the functions above this same threshold.
    Settings = ComplexityGateConfig

    def judge(self, base: ScanResult, head: ScanResult, paths: Sequence[str]) -> GateResult:
        """Compare function complexities of the changed files."""
        return judge_complexity(base, head, paths, self.settings.threshold)
