"""Why a codemod leaves code alone, said with the lines, never silently: the project declares a Python older than
its rewrite needs (the lines it would have changed, its detector run as if the project supported that Python), or
the codemod declined places itself (`Codemod.declines`: a file object also used as text, a name whose Python 3
spelling means something else on a declared Python 2)."""

from __future__ import annotations

import ast
from collections.abc import Iterable, Iterator
from pathlib import Path

from evolve.codemods.base import CodemodContext
from evolve.research.codemod_findings import min_python

MAX_FILES = 500
MAX_LINES = 5


def _version(version: tuple[int, int]) -> str:
    return ".".join(map(str, version))


def _parsed(root: Path, paths: list[str]) -> Iterator[tuple[str, str, ast.Module]]:
    for path in paths:
        try:
            source = (Path(root) / path).read_text(encoding="utf-8")
            yield path, source, ast.parse(source)
        except (OSError, SyntaxError, UnicodeDecodeError, ValueError):
            continue


def focus_declines(root: Path, focus: str, paths: Iterable[str]) -> tuple[str, ...]:
    """For each codemod `focus` names (its id or its theme) that declines: one line naming the reason and the first
    places (the declared Python is too old for its rewrite, or the places it declined itself, each with its reason)."""
    from evolve.codemods.base import Codemod
    from evolve.codemods.registry import available_codemods

    declared = min_python(root)
    notes: list[str] = []
    listed = list(paths)[:MAX_FILES]
    for codemod_id, cls in sorted(available_codemods().items()):
        metadata = cls.metadata
        if focus not in (codemod_id, metadata.theme):
            continue
        codemod = cls()
        if declared >= metadata.min_target_python:
            if type(codemod).declines is Codemod.declines:
                continue
            refusals: list[str] = []
            for path, source, tree in _parsed(root, listed):
                context = CodemodContext(path=path, min_python=declared)
                refusals += [f"{path}:{o.line}: {o.description}" for o in codemod.declines(tree, source, context)]
                if len(refusals) >= MAX_LINES:
                    break
            if refusals:
                notes.append(f"{codemod_id} declines {'; '.join(refusals[:MAX_LINES])}")
            continue
        places: list[str] = []
        for path, source, tree in _parsed(root, listed):
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
