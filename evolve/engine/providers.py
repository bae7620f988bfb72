"""Edit providers: the deterministic codemod catalog, and (when configured) the LLM."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Protocol

from evolve.edits import FileEdit, ProviderOutcome
from evolve.plan.tasks import Plan
from evolve.runs import AttemptFeedback


class EditProvider(Protocol):
    """Anything that proposes edits for a plan, optionally learning from the last attempt's gates."""

    def propose(self, workspace: Path, plan: Plan, feedback: AttemptFeedback | None) -> ProviderOutcome:
        """Return the edits for this attempt."""


class CodemodProvider:
    """Applies the plan's codemods to the plan's files, one LibCST parse per file, files in parallel."""

    name = "codemods"

    def __init__(self, min_python: tuple[int, int], settings: Mapping[str, Any] | None = None) -> None:
        self.min_python = min_python
        self.settings = dict(settings or {})  # codemod id -> its settings as written (`codemods.<id>: {...}`)

    def propose(self, workspace: Path, plan: Plan, feedback: AttemptFeedback | None) -> ProviderOutcome:
        """Compute the edits once; later attempts are narrowed by the loop, not recomputed."""
        from evolve.codemods.registry import get_codemod
        from evolve.codemods.runner import apply_codemods

        codemods_per_file: dict[str, set[str]] = defaultdict(set)
        for task in plan.tasks:
            if task.kind == "codemod" and task.codemod:
                codemods_per_file[task.path].add(task.codemod)
        groups: dict[tuple[str, ...], list[str]] = defaultdict(list)
        for path, ids in codemods_per_file.items():
            groups[tuple(sorted(ids))].append(path)
        edits: list[FileEdit] = []
        notes: list[str] = []
        for group_ids, paths in sorted(groups.items()):
            result = apply_codemods(
                workspace, sorted(paths), [get_codemod(i, self.settings) for i in group_ids], self.min_python
            )
            edits.extend(result.edits)
            notes.extend(f"skipped {s.path}: {s.reason}" for s in result.skipped)
        return ProviderOutcome(provider=self.name, edits=tuple(sorted(edits, key=lambda e: e.path)), notes=tuple(notes))
