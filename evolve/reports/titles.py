"""A change's title and its one-line account, from the edits actually made (never the plan's theme). Pure.

A theme names what a run looked for ("Remove dead code and redundant branches"); a reviewer reads the title as
what the PR does, so it comes from the codemods whose edits the change kept: one codemod, its own title; several,
the one with the most edits and how many other kinds follow. Edits of the LLM stage keep the plan's title.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any

from evolve.untrusted_text import code_span
from evolve.wording import plural


def change_counts(edits: Sequence[Mapping[str, Any]]) -> Counter[str]:
    """Changes per codemod id over the edits of a report's attempt (`FileEdit.to_dict()` values)."""
    return Counter(str(change.get("codemod", "")) for edit in edits for change in edit.get("changes") or ())


def change_title(codemods: Sequence[Mapping[str, Any]], edits: Sequence[Mapping[str, Any]], fallback: str) -> str:
    """The title of a change: the applied codemods' titles, most edits first; `fallback` (the plan's title)
    when no catalog codemod made the edits."""
    titles = {str(meta["id"]): str(meta.get("title") or meta["id"]) for meta in codemods if meta.get("id")}
    counts = change_counts(edits)
    used = sorted((cid for cid in titles if counts.get(cid) or not counts), key=lambda cid: (-counts.get(cid, 0), cid))
    if not used:
        return fallback
    first = titles[used[0]]
    if len(used) == 1:
        return first
    if len(used) == 2:
        second = titles[used[1]]
        return f"{first}; {second[:1].lower()}{second[1:]}"
    return f"{first}, and {plural(len(used) - 1, 'other kind')} of change"


def findings_text(changes: Sequence[Mapping[str, Any]], kind: str | None = None) -> str:
    """`resolved open-without-encoding ×2; new bare-except` over the findings a change resolved or introduced
    (`{"rule", "kind", "path", "change"}` rows), restricted to one kind when given; "" when none."""
    parts = []
    for change in ("resolved", "new"):
        rules = Counter(
            str(row["rule"]) for row in changes if row.get("change") == change and kind in (None, row.get("kind"))
        )
        if rules:
            names = ", ".join(
                code_span(rule) + (f" ×{count}" if count > 1 else "") for rule, count in sorted(rules.items())
            )
            parts.append(f"{change} {names}")
    return "; ".join(parts)
