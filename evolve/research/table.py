"""`evolve scan` as plain text: totals, the top findings, the files that were skipped, and notes."""

from __future__ import annotations

from collections.abc import Set as AbstractSet

from evolve.findings import ScanResult
from evolve.wording import plural


def _cut(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def _grid(header: list[str], rows: list[list[str]], right: AbstractSet[int] = frozenset()) -> list[str]:
    widths = [max(len(str(cell)) for cell in column) for column in zip(header, *rows)]

    def line(cells: list[str]) -> str:
        padded = [str(c).rjust(w) if i in right else str(c).ljust(w) for i, (c, w) in enumerate(zip(cells, widths))]
        return "  ".join(padded).rstrip()

    return [line(header), line(["-" * w for w in widths]), *(line(row) for row in rows)]


def render_scan_table(result: ScanResult, limit: int = 30) -> str:
    """A readable plain-text report of a scan; at most `limit` findings, highest priority first."""
    totals = result.totals
    coverage = "not measured" if totals.line_coverage is None else f"{totals.line_coverage:.1f}%"
    lines = [
        f"Scan of {result.root}",
        "",
        f"  files                  {totals.files}",
        f"  lines (loc / sloc)     {totals.loc} / {totals.sloc}",
        f"  functions              {totals.functions}",
        f"  complexity avg / max   {totals.average_complexity:.2f} / {totals.max_complexity}",
        f"  maintainability avg    {totals.average_maintainability:.1f}",
        f"  docstring coverage     {totals.docstring_coverage:.1f}%",
        f"  line coverage          {coverage}",
        f"  findings (security)    {totals.findings} ({totals.security_findings})",
        f"  cache hits / misses    {result.cache_hits} / {result.cache_misses}",
        "",
    ]
    shown = result.findings[: max(limit, 0)]
    if shown:
        title = (
            f"Top {len(shown)} of {len(result.findings)} findings" if len(result.findings) > len(shown) else "Findings"
        )
        rows = [
            [
                f.id,
                f.kind,
                f.severity,
                f"{f.priority:.3f}",
                _cut(f"{f.path}:{f.line}" + (f" {f.symbol}" if f.symbol else ""), 60),
                _cut(f.message, 90),
            ]
            for f in shown
        ]
        lines += [title, *_grid(["id", "kind", "severity", "priority", "location", "message"], rows, {3}), ""]
    else:
        lines += ["No findings.", ""]
    if result.skipped:
        rows = [[s.path, s.reason] for s in result.skipped]
        lines += [f"Skipped {plural(len(result.skipped), 'file')}", *_grid(["path", "reason"], rows), ""]
    if result.notes:
        lines += ["Notes", *(f"  - {note}" for note in result.notes), ""]
    return "\n".join(lines).rstrip() + "\n"
