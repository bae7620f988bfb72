"""Run Evolve's own trusted tools (ruff, black, flake8, mypy) on a checkout, with a hardened environment.

These tools read only sources and a config file Evolve wrote itself (`--config`, from the settings it read and
vetted, see `vetted_options.py`): never the repository's own config files, which could point them at host
files (ruff's `extend = "/etc/…"`). None imports repository code, so they run as plain subprocesses of Evolve's
interpreter (`python -m <tool>`): no shell, an allow-listed environment without secrets, a private HOME and
cache, a timeout. Whatever can import repository code (mypy plugins)
or runs programs its config names (mypy `python_executable`, flake8 local plugins) goes through the sandbox
instead (`run_tool_sandboxed`).
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from evolve.sandbox import (
    SANDBOX_PATH,
    Mount,
    SandboxRefused,
    SandboxSpec,
    interpreter_mounts,
    run_sandboxed,
    scrubbed_environment,
)

DEFAULT_TIMEOUT = 300.0
OUTPUT_CAP = 2_000_000


@dataclass(frozen=True)
class ToolRun:
    """One tool invocation's outcome. `missing` means the tool is not installed in Evolve's environment."""

    argv: tuple[str, ...]
    returncode: int
    stdout: str
    stderr: str
    duration: float
    timed_out: bool = False
    missing: bool = False


def tool_available(module: str) -> bool:
    """Whether `python -m <module>` can run in Evolve's interpreter."""
    import importlib.util

    return importlib.util.find_spec(module) is not None


def run_tool(
    module: str, args: Sequence[str], cwd: Path, stdin: str | None = None, timeout: float = DEFAULT_TIMEOUT
) -> ToolRun:
    """Run `python -m <module> args` in `cwd` with a scrubbed environment. Never raises for the tool's failure."""
    argv = (sys.executable, "-m", module, *args)
    if not tool_available(module):
        return ToolRun(argv, 127, "", f"{module} is not installed in Evolve's environment", 0.0, missing=True)
    home = Path(tempfile.mkdtemp(prefix="evolve-tool-"))
    env = scrubbed_environment(
        {"HOME": str(home), "XDG_CACHE_HOME": str(home / "cache"), "RUFF_NO_CACHE": "true", "NO_COLOR": "1"}
    )
    start = time.monotonic()
    try:
        done = subprocess.run(
            argv,
            cwd=cwd,
            env=env,
            input=stdin,
            stdin=None if stdin is not None else subprocess.DEVNULL,
            capture_output=True,
            text=True,
            encoding="utf-8",
            errors="replace",
            timeout=timeout,
        )
    except subprocess.TimeoutExpired:
        return ToolRun(argv, -9, "", f"{module} timed out after {timeout:.0f}s", time.monotonic() - start, True)
    except OSError as error:
        return ToolRun(argv, 127, "", f"cannot start {module}: {error}", 0.0, missing=True)
    finally:
        shutil.rmtree(home, ignore_errors=True)
    return ToolRun(argv, done.returncode, done.stdout[:OUTPUT_CAP], done.stderr[:OUTPUT_CAP], time.monotonic() - start)


@contextmanager
def private_config(name: str, text: str) -> Iterator[Path]:
    """A config file Evolve wrote (`text`, the settings it read and vetted), in a private directory outside any
    tree, for a tool's `--config`; removed afterwards."""
    with tempfile.TemporaryDirectory(prefix="evolve-config-") as directory:
        path = Path(directory) / name
        path.write_text(text, encoding="utf-8")
        yield path


def run_tool_sandboxed(
    module: str,
    args: Sequence[str],
    tree: Path,
    timeout: float = DEFAULT_TIMEOUT,
    *,
    python: str | None = None,
    mounts: Sequence[str] = (),
    env: Mapping[str, str] | None = None,
) -> ToolRun:
    """Run `python -m <module> args` as untrusted code: in the sandbox, on a copy of `tree`. `python` is Evolve's
    interpreter unless given (a project's environment, whose directories `mounts` names); `env` adds variables."""
    python = python or sys.executable
    return run_program_sandboxed((python, "-m", module, *args), tree, timeout, python=python, mounts=mounts, env=env)


def run_program_sandboxed(
    argv: Sequence[str],
    tree: Path,
    timeout: float = DEFAULT_TIMEOUT,
    *,
    python: str | None = None,
    mounts: Sequence[str] = (),
    env: Mapping[str, str] | None = None,
) -> ToolRun:
    """Run `argv` as untrusted code in the sandbox, on a copy of `tree`, with `python`'s directories (Evolve's
    interpreter unless given) and `mounts` bound read-only at the same paths, and no network."""
    python = python or sys.executable
    argv = tuple(argv)
    try:
        bound = interpreter_mounts(python)
    except ValueError as error:
        return ToolRun(argv, 126, "", str(error), 0.0, missing=True)
    bound += tuple(Mount(Path(path), path) for path in mounts if all(m.target != path for m in bound))
    spec = SandboxSpec(
        argv=argv,
        timeout=timeout,
        tree=Path(tree),
        env={**(env or {}), "PATH": f"{Path(python).parent}:{SANDBOX_PATH}"},
        mounts=_unique(bound),
    )
    try:
        result = run_sandboxed(spec)
    except SandboxRefused as refused:
        return ToolRun(argv, 126, "", f"the sandbox this needs is refused: {refused}", 0.0, missing=True)
    return ToolRun(argv, result.returncode, result.stdout, result.stderr, result.duration, result.timed_out)


def _unique(mounts: Sequence[Mount]) -> tuple[Mount, ...]:
    seen: dict[str, Mount] = {}
    for mount in mounts:
        seen.setdefault(mount.target, mount)
    return tuple(seen.values())
