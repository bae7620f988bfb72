"""Syntax gate: every changed Python file in head still compiles."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from evolve.gate_api import Gate, GateContext
from evolve.plugins import NoSettings
from evolve.results import Failed, GateResult, Metric, Passed, Skipped
from evolve.wording import plural
from gates.changed_code import listing, python_paths


def syntax_errors(sources: Mapping[str, bytes]) -> dict[str, str]:
    """Compile each source (path -> bytes); return path -> error message for the ones that do not compile."""
    errors: dict[str, str] = {}
    for path, source in sorted(sources.items()):
        try:
            compile(source, path, "exec", dont_inherit=True)
        except SyntaxError as error:
            errors[path] = f"{path}:{error.lineno or 0}: {error.msg}"
        except (ValueError, RecursionError, MemoryError) as error:  # null bytes, absurd nesting
            errors[path] = f"{path}: {type(error).__name__}: {error}"
    return errors


def judge_syntax(base_errors: Mapping[str, str], head_errors: Mapping[str, str], checked: int) -> GateResult:
    """Pass when no checked head file has a syntax error; blame the ones that do."""
    metric = Metric("files that do not compile", float(len(base_errors)), float(len(head_errors)), "lower")
    if checked == 0:
        return Skipped(gate="syntax", summary="No changed Python file to compile.", metrics=(metric,))
    if not head_errors:
        return Passed(
            gate="syntax", summary=f"All {plural(checked, 'changed Python file')} compile.", metrics=(metric,)
        )
    broken = sorted(head_errors)
    return Failed(
        gate="syntax",
        summary=f"{plural(len(broken), 'changed file')} {'does' if len(broken) == 1 else 'do'} not compile: {listing(broken)}.",
        metrics=(metric,),
        blame=tuple(broken),
        details="\n".join(head_errors[path] for path in broken),
    )


def read_sources(root: Path, paths: tuple[str, ...]) -> dict[str, bytes]:
    """The bytes of those `paths` that exist under `root` (deleted files are not there to compile)."""
    sources: dict[str, bytes] = {}
    for path in paths:
        try:
            sources[path] = (root / path).read_bytes()
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
            continue
    return sources


class SyntaxGate(Gate[NoSettings]):
    """Every changed .py file in head compiles with `compile()`."""

    name = "syntax"
    description = "Every changed Python file still compiles."

    def evaluate(self, context: GateContext) -> GateResult:
        """Compile the changed Python files of head (and of base, for the metric)."""
        paths = python_paths(context.changed_files)
        head = read_sources(context.head, paths)
        base = read_sources(context.base, tuple(head))
        return judge_syntax(syntax_errors(base), syntax_errors(head), len(head))
