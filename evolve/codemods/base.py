"""The codemod interface: one small class holding its metadata, its examples and its transform.

Detection is cheap (stdlib `ast` over an already-parsed tree); only files where some codemod detects
an occurrence are parsed with LibCST, once, and every selected transform runs over that one parse.
"""

from __future__ import annotations

import ast
import functools
from abc import ABC, abstractmethod
from dataclasses import asdict, dataclass
from typing import Any, ClassVar, Generic, Literal, TypeVar, cast

import libcst as cst
from pydantic import BaseModel

from evolve.codemods.signals import protected_lines, span_is_protected
from evolve.edits import Change  # one edit a codemod made; re-exported here, where codemods import it
from evolve.plugins import NoSettings

Risk = Literal["low", "medium", "high"]
Benefit = Literal["security", "defect", "deprecation", "cleanup", "cosmetic"]
SettingsT = TypeVar("SettingsT", bound=BaseModel)


@dataclass(frozen=True)
class CodemodMetadata:
    """What a codemod is, as data: it feeds the plan, the PR text and the docs."""

    id: str
    title: str
    theme: str  # PRs are single-theme; codemods sharing a theme may ship together
    rationale: str
    risk: Risk
    review_guidance: str
    references: tuple[str, ...] = ()
    # The linter rules this codemod is the fix for (ruff/flake8 codes; pylint messages as `pylint:<name>`):
    # the planner does not propose it where the project ignores them, nor where the project's linter checks them.
    lint_codes: tuple[str, ...] = ()
    # What a reviewer gains, which ranks plans (evolve/research/codemod_findings.py): a security finding or a
    # bug pattern fixed beats a deprecated API migrated, which beats cleanup, which beats a cosmetic rewrite.
    benefit: Benefit = "cosmetic"
    # The lowest Python the rewritten code runs on: a repository that supports older ones gets nothing from
    # this codemod (`open(..., encoding=)`, `super()`, annotations need Python 3; plugins default to that).
    min_target_python: tuple[int, int] = (3, 0)
    # Path kinds (evolve/configuration/path_kinds.py) this codemod edits even where `scope.include_kinds` leaves them out: a fix
    # that only means something there, such as TestCase aliases that Python 3.12 removed (they live in tests).
    also_in_kinds: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """Serialise to a JSON-ready dict."""
        return asdict(self)


@dataclass(frozen=True)
class Example:
    """A before/after pair; the test suite is generated from these."""

    before: str
    after: str
    # Context overrides for this example, e.g. {"min_python": (3, 10)} or {"path": "pkg/__init__.py"}.
    context: tuple[tuple[str, Any], ...] = ()
    # Settings of the codemod for this example (validated by its `Settings` model), e.g. (("timeout_seconds", 10),).
    settings: tuple[tuple[str, Any], ...] = ()


@dataclass(frozen=True)
class CodemodContext:
    """Where the code lives and what the repository allows. Frozen and picklable."""

    path: str = "module.py"  # relative to the repository root
    min_python: tuple[int, int] = (3, 8)  # lowest version `requires-python` admits
    is_package_init: bool = False
    has_stub: bool = False  # a sibling `.pyi` exists: type checkers read it, not this file's annotations

    def replace(self, **changes: Any) -> CodemodContext:
        """Return a copy with some fields changed."""
        values = {**asdict(self), **changes}
        return CodemodContext(**values)


@dataclass(frozen=True)
class Occurrence:
    """One place a codemod would change, found by cheap detection."""

    line: int
    end_line: int
    symbol: str | None
    description: str


class Codemod(ABC, Generic[SettingsT]):
    """Base class of codemods. Subclasses set `metadata`, `examples`, `valid` and implement two methods.

    A codemod with knobs declares `Settings`, its typed settings model (pydantic, like a gate's): the user writes
    them as `codemods.<id>: {...}` and they are validated against this model when the configuration loads.
    Examples run with the defaults.
    """

    metadata: ClassVar[CodemodMetadata]
    examples: ClassVar[tuple[Example, ...]] = ()
    # Sources the codemod must leave byte-for-byte unchanged.
    valid: ClassVar[tuple[str, ...]] = ()
    Settings: ClassVar[type[BaseModel]] = NoSettings

    def __init__(self, settings: SettingsT | None = None) -> None:
        self.settings: SettingsT = settings if settings is not None else cast("SettingsT", self.Settings())

    def __init_subclass__(cls, **kwargs: Any) -> None:
        """Every codemod's `detect` drops occurrences on lines the code itself marks as deliberate (signals.py),
        and finds nothing in a repository that supports a Python older than its `min_target_python`."""
        super().__init_subclass__(**kwargs)
        own = cls.__dict__.get("detect")
        if own is None or getattr(own, "__isabstractmethod__", False) or getattr(own, "_respects_signals", False):
            return

        @functools.wraps(own)
        def detect(self: Codemod, tree: ast.Module, source: str, context: CodemodContext) -> list[Occurrence]:
            if context.min_python < self.metadata.min_target_python:
                return []
            found = own(self, tree, source, context)
            if not found:
                return found
            protected = protected_lines(source, self.metadata.lint_codes)
            return [o for o in found if not span_is_protected(o.line, o.end_line, protected)]

        detect._respects_signals = True  # type: ignore[attr-defined]
        cls.detect = detect  # type: ignore[method-assign]

    @abstractmethod
    def detect(self, tree: ast.Module, source: str, context: CodemodContext) -> list[Occurrence]:
        """Find candidate occurrences cheaply with `ast`. Empty means the file need not be parsed with LibCST."""

    @abstractmethod
    def transform(self, module: cst.Module, context: CodemodContext) -> tuple[cst.Module, list[Change]]:
        """Return the rewritten module and the changes made. Must preserve behaviour and formatting."""

    def declines(self, tree: ast.Module, source: str, context: CodemodContext) -> list[Occurrence]:
        """Places this codemod leaves alone on purpose, each naming its reason in `description` (said in the plan
        when the codemod is asked for by `--focus` or by a red test, so no refusal is silent). None by default."""
        return []
