"""From a failing test's traceback to its cause: a standard-library name the running Python no longer has,
where the repository uses it, and the recipe (codemod) that rewrites it. Pure: text in, a value out."""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from evolve.research.python2_names import removed_builtin, removed_dict_method
from evolve.research.removed_names import RemovedName, removed_attribute, removed_module
from evolve.suites.reports import relative_source_path

_MODULE_ATTRIBUTE = re.compile(r"AttributeError: module '(?P<owner>[\w.]+)' has no attribute '(?P<name>\w+)'")
_OBJECT_ATTRIBUTE = re.compile(
    r"AttributeError: (?:type object )?'(?P<owner>[\w.]+)'(?: object)? has no attribute '(?P<name>\w+)'"
)
_CANNOT_IMPORT = re.compile(r"ImportError: cannot import name '(?P<name>\w+)' from '(?P<owner>[\w.]+)'")
_NAME_ERROR = re.compile(r"NameError: (?:global )?name '(?P<name>\w+)' is not defined")
_NO_MODULE = re.compile(r"(?:ModuleNotFoundError|ImportError): No module named '(?P<module>[\w.]+)'")
_FRAME = re.compile(
    r'^(?P<path>[^\s:<>"][^:\n<>"]*?\.py):(?P<line>\d+):|File "(?P<path2>[^"\n]+\.py)", line (?P<line2>\d+)', re.M
)


@dataclass(frozen=True)
class Diagnosis:
    """Why a test fails: `removed` (what Python took away, when, what replaces it), the repository line that
    uses it (the last traceback frame in the repository), and the error line as the test printed it."""

    removed: RemovedName
    error: str
    path: str | None = None
    line: int | None = None
    dependency: str | None = None  # the installed package whose own code uses the removed name (not the project's)

    @property
    def recipe(self) -> str | None:
        """The codemod that rewrites the use, if there is a safe one."""
        return self.removed.recipe

    def describe(self) -> str:
        """`collections.Mapping was removed in Python 3.10 (use collections.abc.Mapping), at pkg/a.py:12`."""
        version = ".".join(map(str, self.removed.removed_in))
        where = f", at {self.path}:{self.line}" if self.path else ""
        if self.dependency:
            where = f", inside the installed package {self.dependency} (it does not support this Python)"
        return f"{self.removed.label} was removed in Python {version} (use {self.removed.replacement}){where}"

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready."""
        return {**asdict(self), "recipe": self.recipe, "description": self.describe()}


def _removed(text: str) -> tuple[RemovedName, str] | None:
    """The removal the error lines of `text` name (the last one that matches the table), with that line."""
    found: tuple[RemovedName, str] | None = None
    for line in text.splitlines():
        entry: RemovedName | None = None
        if match := _CANNOT_IMPORT.search(line):
            entry = removed_attribute(match["owner"], match["name"])
        elif match := _MODULE_ATTRIBUTE.search(line):
            entry = removed_attribute(match["owner"], match["name"]) or removed_module(
                f"{match['owner']}.{match['name']}"
            )
        elif match := _OBJECT_ATTRIBUTE.search(line):
            entry = removed_attribute(match["owner"], match["name"]) or removed_dict_method(
                match["owner"], match["name"]
            )
        elif match := _NAME_ERROR.search(line):
            entry = removed_builtin(match["name"])
        elif match := _NO_MODULE.search(line):
            entry = removed_module(match["module"])
        if entry is not None:
            found = (entry, line.strip().removeprefix("E").strip())
    return found


_SITE = re.compile(r"(?:site|dist)-packages/(?P<package>[A-Za-z0-9_]+)")


def _last_repository_frame(text: str, root: Path) -> tuple[str, int] | None:
    """The last traceback frame that is a file of the repository (where the removed name is used)."""
    last = None
    for match in _FRAME.finditer(text):
        raw, line = (match["path"], match["line"]) if match["path"] else (match["path2"], match["line2"])
        relative = relative_source_path(raw, root)
        if relative is not None:
            last = (relative, int(line))
    return last


def _raising_dependency(text: str) -> str | None:
    """The installed package the last frame of the traceback is in, when it is one (site-packages)."""
    frames = list(_FRAME.finditer(text))
    if not frames:
        return None
    raw = frames[-1]["path"] or frames[-1]["path2"]
    found = _SITE.search(raw)
    return found["package"] if found else None


def diagnose(traceback: str, root: Path) -> Diagnosis | None:
    """The removed standard-library name a failing test's traceback shows, or None when it shows none."""
    found = _removed(traceback)
    if found is None:
        return None
    entry, error = found
    dependency = _raising_dependency(traceback)
    if dependency is not None:  # the removed name is used by an installed package, not by the project
        return Diagnosis(entry, error, dependency=dependency)
    frame = _last_repository_frame(traceback, root)
    return Diagnosis(entry, error, *(frame or (None, None)))
