"""Why a focused codemod found nothing: the project declares a Python older than its rewrite needs. Said with the
lines it would have changed (its detector run as if the project supported that Python), never silently. And the
uses a codemod leaves alone on purpose (`Codemod.declines`: no recipe keeps the behaviour), each with its line and
reason."""

from __future__ import annotations

import ast
from collections.abc import Iterable, Iterator
from pathlib import Path

from evolve.codemods.base import Codemod, CodemodContext
from evolve.research.codemod_findings import min_python
from evolve.wording import plural

MAX_FILES = 500
MAX_LINES = 5
MAX_DECLINES = 12


def _version(version: tuple[int, int]) -> str:
    return ".".join(map(str, version))


def _parsed(root: Path, paths: Iterable[str]) -> Iterator[tuple[str, str, ast.Module]]:
    """(path, source, tree) of each of `paths` that reads as UTF-8 Python; the others are passed over."""
    for path in paths:
        try:
            source = (Path(root) / path).read_text(encoding="utf-8")
            yield path, source, ast.parse(source)
        except (OSError, SyntaxError, UnicodeDecodeError, ValueError):
            continue


def focus_declines(root: Path, focus: str, paths: Iterable[str]) -> tuple[str, ...]:
    """For each codemod `focus` names (its id or its theme) that declines because of the declared Python: one
    line naming the reason and the first places it would otherwise change."""
    from evolve.codemods.registry import available_codemods

    declared = min_python(root)
    notes: list[str] = []
    listed = list(paths)[:MAX_FILES]
    for codemod_id, cls in sorted(available_codemods().items()):
        metadata = cls.metadata
        if not _matches(focus, codemod_id, metadata.theme) or declared >= metadata.min_target_python:
            continue
        codemod = cls()
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


def _matches(focus: str, codemod_id: str, theme: str) -> bool:
    return focus in (codemod_id, theme)


def recipe_declines(root: Path, names: Iterable[str], paths: Iterable[str]) -> tuple[str, ...]:
    """For each codemod `names` names (id or theme) that explains what it leaves alone (`declines`): one line per
    use it declines, `path:line`, the name and the reason; at most MAX_DECLINES, then how many more."""
    from evolve.codemods.registry import available_codemods

    wanted = list(names)
    declared = min_python(root)
    notes: list[str] = []
    more: dict[str, int] = {}  # codemod id -> uses past MAX_DECLINES notes
    listed = list(paths)[:MAX_FILES]
    for codemod_id, cls in sorted(available_codemods().items()):
        if not any(_matches(name, codemod_id, cls.metadata.theme) for name in wanted):
            continue
        if cls.declines is Codemod.declines:
            continue  # it declines nothing on purpose: no file need be read for it
        codemod = cls()
        for path, source, tree in _parsed(root, listed):
            grouped: dict[str, list[str]] = {}  # one line per reason in a file, naming each use and its line
            for declined in codemod.declines(tree, source, CodemodContext(path=path, min_python=declared)):
                grouped.setdefault(declined.reason, []).append(f"`{declined.name}` (line {declined.line})")
            for reason, uses in grouped.items():
                if len(notes) < MAX_DECLINES:
                    named = ", ".join(uses[:MAX_LINES]) + (
                        f" and {len(uses) - MAX_LINES} more" if len(uses) > MAX_LINES else ""
                    )
                    notes.append(f"{codemod_id} leaves {path} alone: {named}: {reason}")
                else:
                    more[codemod_id] = more.get(codemod_id, 0) + len(uses)
    notes += [f"{codemod_id} leaves {plural(count, 'more use')} alone" for codemod_id, count in sorted(more.items())]
    return tuple(notes)
