"""What a maintainer asked for by ticking boxes in the dashboard issue (pure; tested without I/O).

Every box the App renders carries a hidden marker after it, `- [ ] <!-- evolve:KIND:VALUE --> text`.
Action boxes (run next, retry) are always rendered unticked, so a ticked one is a request; state boxes
(skip, pause) mirror the stored state, so their ticks in the edited body are the new state.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

MARKER = "<!-- evolve:dashboard -->"
BOX = re.compile(
    r"^[ \t]*[-*+] \[(?P<tick>[ xX])\] <!-- evolve:(?P<kind>run-next|skip|retry|pause):(?P<value>[A-Za-z0-9_.\-]{0,128}) -->",
    re.M,
)
SAFE_VALUE = re.compile(r"[^A-Za-z0-9_.\-]")


@dataclass(frozen=True)
class DashboardRequests:
    """The ticks found in one version of the body."""

    run_next: tuple[str, ...] = ()  # themes, in the order they appear
    skipped: frozenset[str] = frozenset()
    shown_skip_boxes: frozenset[str] = frozenset()  # themes that had a skip box, ticked or not
    retry: tuple[int, ...] = ()  # run ids
    paused: bool | None = None  # None: no pause box in the body


def marker_value(text: str) -> str:
    """A theme or id as it may appear inside a box marker (anything else removed)."""
    return SAFE_VALUE.sub("", text)[:128]


def box(kind: str, value: str, ticked: bool, label: str) -> str:
    """One checkbox line with its hidden marker; `label` must already be safe Markdown."""
    return f"- [{'x' if ticked else ' '}] <!-- evolve:{kind}:{marker_value(value)} --> {label}"


def read_requests(body: str) -> DashboardRequests:
    """The requests in a dashboard body; a body without the dashboard marker asks for nothing."""
    if MARKER not in body:
        return DashboardRequests()
    run_next: list[str] = []
    retry: list[int] = []
    skipped: set[str] = set()
    shown: set[str] = set()
    paused: bool | None = None
    for match in BOX.finditer(body):
        ticked, kind, value = match["tick"] != " ", match["kind"], match["value"]
        if kind == "skip":
            shown.add(value)
            if ticked:
                skipped.add(value)
        elif kind == "pause":
            paused = ticked
        elif ticked and kind == "run-next" and value and value not in run_next:
            run_next.append(value)
        elif ticked and kind == "retry" and value.isdigit() and int(value) not in retry:
            retry.append(int(value))
    return DashboardRequests(tuple(run_next), frozenset(skipped), frozenset(shown), tuple(retry), paused)
