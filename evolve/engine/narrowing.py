"""Narrowing a failed change for the next attempt: drop what a gate blames, bisect when none can tell. Pure."""

from __future__ import annotations

from dataclasses import dataclass

from evolve.edits import FileEdit
from evolve.results import GateResult
from evolve.wording import plural


@dataclass(frozen=True)
class Narrowing:
    """The edits to try next and the files left out."""

    kept: tuple[FileEdit, ...]
    dropped: tuple[str, ...]
    note: str


def failing_results(results: tuple[GateResult, ...]) -> tuple[GateResult, ...]:
    """The results that stop a change (failed or errored)."""
    return tuple(result for result in results if not result.ok)


def narrow_edits(edits: tuple[FileEdit, ...], results: tuple[GateResult, ...]) -> Narrowing:
    """Drop the edits failing gates point at; when no gate points at an edited file, keep the first half.

    Gates are never weakened: narrowing only ever removes edits.
    """
    failing = failing_results(results)
    edited = {edit.path for edit in edits}
    blamed = sorted({path for result in failing for path in result.blame} & edited)
    if blamed:
        gates = ", ".join(sorted({r.gate for r in failing if set(r.blame) & set(blamed)}))
        kept = tuple(edit for edit in edits if edit.path not in blamed)
        return Narrowing(
            kept, tuple(blamed), f"dropped {plural(len(blamed), 'file')} blamed by {gates}: {', '.join(blamed)}"
        )
    if len(edits) > 1:
        ordered = sorted(edits, key=lambda edit: edit.path)
        half = len(ordered) // 2
        kept, dropped = tuple(ordered[:half]), tuple(edit.path for edit in ordered[half:])
        gates = ", ".join(sorted(r.gate for r in failing)) or "a gate"
        return Narrowing(
            kept, dropped, f"{gates} failed without naming a file; bisecting: kept {len(kept)} of {len(edits)} files"
        )
    return Narrowing((), tuple(sorted(edited)), "the only remaining edit failed; nothing left to try")
