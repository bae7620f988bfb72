"""Research's test gaps for people: plain text for `evolve plan`, markdown for the plan, the dashboard issue. Pure.

Locations, function names and code come from the repository: in markdown they only ever appear inside code spans
(where mentions, links and HTML are inert), redacted.
"""

from __future__ import annotations

from evolve.plan.tasks import GapSurvivor, TestGaps
from evolve.untrusted_text import code_span, escape_markdown, redacted
from evolve.wording import number_text, plural

LISTED = 20  # survivors listed in text; the report keeps them all


def gaps_summary(gaps: TestGaps) -> str:
    """`40 mutants over 12 functions: 30 killed, 8 survived, 1 timed out, 1 not run; score 78.9%` (or the note)."""
    if not gaps.generated:
        return gaps.note or "no test gaps measured"
    counts = f"{gaps.killed:,} killed, {gaps.survived:,} survived, {gaps.timeout:,} timed out"
    if gaps.not_run:
        counts += f", {gaps.not_run:,} not run"
    score = "n/a" if gaps.score is None else f"{number_text(gaps.score)}%"
    head = f"{plural(gaps.generated, 'mutant')} over {plural(gaps.functions, 'function')}: {counts}; score {score}"
    return head + (f" ({gaps.note})" if gaps.note else "")


def survivor_change(survivor: GapSurvivor) -> str:
    """The survivor's one-line diff without its location (`- a < b + a <= b`)."""
    return survivor.diff.removeprefix(f"{survivor.location}: ")


def render_gaps_text(gaps: TestGaps, listed: int = LISTED) -> list[str]:
    """The "Test gaps" lines of `evolve plan`."""
    lines = [f"Test gaps (mutation sample): {gaps_summary(gaps)}"]
    for survivor in gaps.survivors[:listed]:
        where = f"{survivor.location} in {survivor.function}" if survivor.function else survivor.location
        lines.append(f"  survived {where}: {survivor_change(survivor)}")
    if len(gaps.survivors) > listed:
        lines.append(f"  … and {plural(len(gaps.survivors) - listed, 'more survivor')}")
    return lines


def render_gaps_markdown(gaps: TestGaps, listed: int = LISTED, heading: str = "**Test gaps**") -> str:
    """A markdown block: the summary, then each survivor as the line no test checks."""
    lines = [
        f"{heading} (a mutation sample of the most important tested functions): {escape_markdown(gaps_summary(gaps))}"
    ]
    if gaps.survivors:
        lines += ["", "No test notices these changes:", ""]
        for survivor in gaps.survivors[:listed]:
            where = code_span(redacted(survivor.location))
            if survivor.function:
                where += f" in {code_span(redacted(survivor.function))}"
            lines.append(f"- {where}: {code_span(redacted(survivor_change(survivor)))}")
        if len(gaps.survivors) > listed:
            lines.append(f"- … and {plural(len(gaps.survivors) - listed, 'more survivor')}")
    return "\n".join(lines) + "\n"
