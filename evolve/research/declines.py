"""Why a focused codemod found nothing: the project declares a Python older than its rewrite needs. Said with the
lines it would have changed (its detector run as if the project supported that Python), never silently."""

from __future__ import annotations

import ast
from collections.abc import Iterable
from pathlib import Path

from evolve.codemods.base import CodemodContext
from evolve.research.codemod_findings import min_python

MAX_FILES = 500
MAX_LINES = 5


def _version(version: tuple[int, int]) -> str:
    return ".".join(map(str, version))


def focus_declines(root: Path, focus: str, paths: Iterable[str]) -> tuple[str, ...]:
    """For each codemod `focus` names (its id or its theme) that declines because of the declared Python: one
    line naming the reason and the first places it would otherwise change."""
    from evolve.codemods.registry import available_codemods

    declared = min_python(root)
    notes: list[str] = []
    listed = list(paths)[:MAX_FILES]
    for codemod_id, cls in sorted(available_codemods().items()):
        metadata = cls.metadata
        if focus not in (codemod_id, metadata.theme) or declared >= metadata.min_target_python:
            continue
        codemod = cls()
        places: list[str] = []
        for path in listed:
            try:
                source = (Path(root) / path).read_text(encoding="utf-8")
                tree = ast.parse(source)
            except (OSError, SyntaxError, UnicodeDecodeError, ValueError):
                continue
            context = CodemodContext(path=path, min_python=metadata.min_target_python)
            places += [f"{path}:{o.line}" for o in codemod.detect(tree, source, context)]
            if len(places) >= MAX_LINES:
                break
        if places:
            notes.append(
                f"{codemod_id} declines: the project declares Python {_version(declared)}, and its rewrite needs "
                f"{_version(metadata.min_target_python)} (it would change {', '.join(places[:MAX_LINES])})"
            )
    return tuple(notes)
