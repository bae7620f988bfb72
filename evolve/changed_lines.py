"""Changed lines the tests execute: the figure's value and the one sentence every report states it with. Pure.

It is computed in evolve/proof/executed_lines.py; the PR's intro, its Tests section, the coverage gate and the
status pages all read it from here, so the same figure is never worded or rounded two ways.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from evolve.wording import plural


@dataclass(frozen=True)
class ChangedLines:
    """Changed lines the tests execute, over one or more files. `measured` is False without base coverage."""

    executed: int
    executable: int
    measured: bool  # False when base's run measured no line coverage at all
    unexecuted: tuple[tuple[str, int, int], ...] = ()  # (path, first base line, last base line) of each hunk
    unmeasured: int = 0  # changed lines needing executing in code coverage does not measure

    @property
    def percent(self) -> float | None:
        """Executed changed lines as a percentage; None when unmeasured or when no changed line needs executing."""
        if not self.measured or not self.executable:
            return None
        return 100.0 * self.executed / self.executable

    def __add__(self, other: ChangedLines) -> ChangedLines:
        return ChangedLines(
            self.executed + other.executed,
            self.executable + other.executable,
            self.measured and other.measured,
            self.unexecuted + other.unexecuted,
            self.unmeasured + other.unmeasured,
        )


def total(parts: Iterable[ChangedLines]) -> ChangedLines:
    """The sum over files (measured when every part is)."""
    result = ChangedLines(0, 0, True)
    for part in parts:
        result = result + part
    return result


def share_text(lines: ChangedLines) -> str:
    """`94.7%`: one decimal unless whole, never rounded up to 100% nor down to 0%."""
    value = 100.0 * lines.executed / lines.executable
    text = f"{value:.1f}".removesuffix(".0")
    if text == "100" and lines.executed < lines.executable:
        text = "99.9"
    if text == "0" and lines.executed:
        text = "0.1"
    return text + "%"


def executed_sentence(lines: ChangedLines | None) -> str:
    """The one sentence every report uses for this figure (Markdown)."""
    if lines is None or not lines.measured:
        return "Changed lines the tests execute: not measured (no line coverage from this test command)."
    outside = ""
    if lines.unmeasured:
        outside = (
            f" {plural(lines.unmeasured, 'further changed line')} {'is' if lines.unmeasured == 1 else 'are'} in code "
            "coverage does not measure (a test helper, a new function)."
        )
    if not lines.executable:
        if lines.unmeasured:
            return "Changed lines the tests execute: not measured." + outside
        return (
            "Changed lines the tests execute: none needs executing (the change touches only imports, annotations, "
            "docstrings, comments or layout)."
        )
    return (
        f"Changed lines the tests execute: **{share_text(lines)}** "
        f"({lines.executed} of {plural(lines.executable, 'line')} that {'needs' if lines.executable == 1 else 'need'} "
        f"executing).{outside}"
    )
