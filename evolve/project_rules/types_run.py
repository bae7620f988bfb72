"""Run the project's type checkers (mypy and pyright under its own settings) on some files of one tree.

mypy's config is the repository's, and it can make mypy import code (`plugins`), run a program
(`python_executable`) or write files anywhere (`junit_xml`, the `*_report` directories): so mypy always runs as
untrusted code, in the sandbox, on a copy of the tree. It is the project's own mypy when its environment
installs one (see `project_tools`), else Evolve's told to resolve imports in the project's environment
(`--python-executable`); pyright (its bundled JavaScript, with the host's Node.js) runs the same way, or the
gate says plainly why it could not.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from evolve.project_rules.model import MypyRules, PyrightRules
from evolve.project_rules.project_tools import ToolInstall, node_executable
from evolve.project_rules.selectors import glob_covers, regex_excludes
from evolve.project_rules.tools import run_program_sandboxed, run_tool_sandboxed
from evolve.project_rules.violations import Violation, parse_mypy, parse_pyright_json
from evolve.sandbox import SANDBOX_REPO

# mypy's cache is switched off: nothing may be written into the trees being compared.
MYPY_ARGS = (
    "--no-error-summary",
    "--show-error-codes",
    "--no-pretty",
    "--no-color-output",
    "--hide-error-context",
    "--cache-dir=/dev/null",
)
# mypy's parallel mode (`num_workers` in the project's config) needs the cache that --cache-dir=/dev/null turns off;
# the variable overrides the config (older mypy ignores it).
MYPY_ENV = {"MYPY_NUM_WORKERS": "0"}


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


def files_pyright_checks(paths: Sequence[str], pyright: PyrightRules) -> tuple[str, ...]:
    """The paths the project's pyright would report on: inside its `include` (when set), not excluded or ignored."""
    chosen = []
    for path in paths:
        if pyright.exempts_annotations(path):
            continue
        if pyright.include and not any(glob_covers(path, pattern) for pattern in pyright.include):
            continue
        chosen.append(path)
    return tuple(chosen)


def _failed(tool: str, returncode: int, stdout: str, stderr: str) -> str:
    detail = " ".join((stderr or stdout).strip().splitlines()[-3:]) or f"exit {returncode}"
    return f"{tool} could not check the files: {detail}"


def run_mypy(
    root: Path, paths: Sequence[str], mypy: MypyRules, timeout: float = 600.0, install: ToolInstall | None = None
) -> TypeCheck:
    """mypy with the tree's own config on `paths`; errors elsewhere (imported modules) are left out.

    `install` says which mypy runs (the project's or Evolve's) and which environment's packages it sees."""
    if install is None:
        return TypeCheck((), "mypy is installed neither in the project's environment nor in Evolve's", unavailable=True)
    args = list(MYPY_ARGS)
    if not install.from_project and install.project_python is not None:
        args.append(f"--python-executable={install.project_python}")  # the project's site-packages, not Evolve's
    run = run_tool_sandboxed(
        "mypy",
        [*args, "--", *paths],
        Path(root),
        timeout=timeout,
        python=install.python,
        mounts=install.mounts,
        env=MYPY_ENV,
    )
    if run.missing:
        return TypeCheck((), f"mypy runs only in the sandbox: {run.stderr}", True, unavailable=True)
    if run.timed_out:
        return TypeCheck((), f"mypy timed out after {timeout:.0f}s", True)
    if run.returncode not in (0, 1):
        return TypeCheck((), _failed("mypy", run.returncode, run.stdout, run.stderr), True)
    wanted = set(paths)
    found = tuple(v for v in parse_mypy(run.stdout, Path(root)) if v.path in wanted)
    return TypeCheck(found, None, True)


def run_pyright(root: Path, paths: Sequence[str], install: ToolInstall, timeout: float = 600.0) -> TypeCheck:
    """pyright with the tree's own config (pyrightconfig.json or [tool.pyright]) on `paths`, in the sandbox,
    resolving imports in the project's environment when there is one."""
    node = node_executable()
    if node is None or install.script is None:
        return TypeCheck((), "pyright needs Node.js, which is not installed", unavailable=True)
    argv = [node, install.script, "--outputjson"]
    if install.project_python is not None:
        argv += ["--pythonpath", install.project_python]
    # A path starting with "-" would read as an option: pyright takes no "--".
    argv += [path if not path.startswith("-") else f"./{path}" for path in paths]
    # Evolve's pyright lives in Evolve's venv, npm's under /usr: both are bound already, like the project's env.
    run = run_program_sandboxed(argv, Path(root), timeout, python=install.python, mounts=install.mounts)
    if run.missing:
        return TypeCheck((), f"pyright runs only in the sandbox: {run.stderr}", True, unavailable=True)
    if run.timed_out:
        return TypeCheck((), f"pyright timed out after {timeout:.0f}s", True)
    if run.returncode not in (0, 1):
        return TypeCheck((), _failed("pyright", run.returncode, run.stdout, run.stderr), True)
    try:
        found = parse_pyright_json(run.stdout, Path(SANDBOX_REPO))
    except ValueError as error:
        return TypeCheck((), f"pyright's output could not be read: {error}", True)
    wanted = set(paths)
    return TypeCheck(tuple(v for v in found if v.path in wanted), None, True)
