"""Run the project's type checker (mypy under its own settings) on some files of one tree.

mypy's config is the repository's, and it can make mypy import code (`plugins`), run a program
(`python_executable`) or write files anywhere (`junit_xml`, the `*_report` directories): so mypy (Evolve's
install) always runs as untrusted code, in the sandbox, on a copy of the tree. pyright needs Node.js,
which Evolve does not ship: a pyright-only project gets a clear "not checked".
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from evolve.project_rules.model import MypyRules
from evolve.project_rules.selectors import glob_covers, regex_excludes
from evolve.project_rules.tools import run_tool_sandboxed, tool_available
from evolve.project_rules.violations import Violation, parse_mypy

# mypy's cache is switched off: nothing may be written into the trees being compared.
MYPY_ARGS = (
    "--no-error-summary",
    "--show-error-codes",
    "--no-pretty",
    "--no-color-output",
    "--hide-error-context",
    "--cache-dir=/dev/null",
)


@dataclass(frozen=True)
class TypeCheck:
    """mypy's errors on some files, or why it could not check them."""

    violations: tuple[Violation, ...]
    error: str | None = None
    sandboxed: bool = False
    unavailable: bool = False  # mypy is not installed, or the sandbox it needs is refused


def files_mypy_checks(paths: Sequence[str], mypy: MypyRules) -> tuple[str, ...]:
    """The paths the project's mypy would check: inside its `files` (when set) and not `exclude`d."""
    chosen = []
    for path in paths:
        if any(regex_excludes(path, pattern) for pattern in mypy.exclude):
            continue
        if mypy.files and not any(glob_covers(path, pattern) for pattern in mypy.files):
            continue
        chosen.append(path)
    return tuple(chosen)


def run_mypy(root: Path, paths: Sequence[str], mypy: MypyRules, timeout: float = 600.0) -> TypeCheck:
    """mypy with the tree's own config on `paths`; errors elsewhere (imported modules) are left out."""
    if not tool_available("mypy"):
        return TypeCheck((), "mypy is not installed in Evolve's environment", unavailable=True)
    args = [*MYPY_ARGS, "--", *paths]
    run = run_tool_sandboxed("mypy", args, Path(root), timeout=timeout)
    returncode, stdout, stderr, timed_out = run.returncode, run.stdout, run.stderr, run.timed_out
    sandboxed = True
    if run.missing:
        return TypeCheck((), f"mypy runs only in the sandbox: {stderr}", sandboxed, unavailable=True)
    if timed_out:
        return TypeCheck((), f"mypy timed out after {timeout:.0f}s", sandboxed)
    if returncode not in (0, 1):
        detail = " ".join((stderr or stdout).strip().splitlines()[-3:]) or f"exit {returncode}"
        return TypeCheck((), f"mypy could not check the files: {detail}", sandboxed)
    wanted = set(paths)
    found = tuple(v for v in parse_mypy(stdout, Path(root)) if v.path in wanted)
    return TypeCheck(found, None, sandboxed)
