"""An interpreter the user chose (`--python`, their own untracked `.venv`): probed inside the sandbox, never on the
host, and recorded by Evolve (what it is, what to mount) at that moment. A `.venv` that git tracks is the
repository's, not the user's: it is never used."""

from __future__ import annotations

import json
import os
from pathlib import Path

from evolve.environments.interpreters import Interpreter, available_interpreters, candidate_paths, outside_of
from evolve.environments.model import Environment, EnvironmentFailure
from evolve.git.command import run_git
from evolve.sandbox import Mount, SandboxRefused, SandboxSpec, record_interpreter, run_sandboxed

VENV_NAMES = (".venv", "venv")
PROBE_TIMEOUT = 60.0
_PROBE = (
    "import json, sys; print(json.dumps([list(sys.version_info[:3]), sys.prefix, sys.base_prefix, "
    "sys.implementation.name]))"
)


def local_venv(checkout: Path) -> str | None:
    """The python of a checkout's own `.venv` (or `venv`), when it has one."""
    for name in VENV_NAMES:
        python = Path(checkout) / name / "bin" / "python"
        if python.exists() or python.is_symlink():
            return str(python)
    return None


def tracked_venv(checkout: Path, python: str) -> str | None:
    """The venv directory of `python` when git tracks a file in it (the repository ships it), else None."""
    venv = Path(python).parent.parent
    try:
        relative = venv.resolve().relative_to(Path(checkout).resolve())
    except (OSError, ValueError):
        return None
    try:
        listed = run_git(["ls-files", "-z", "--", f"{relative.as_posix()}/"], cwd=Path(checkout), check=False)
    except (OSError, ValueError):
        return None
    return relative.as_posix() if listed.strip("\0") else None


def _venv_home(venv: Path) -> Path | None:
    """The `home` a venv's pyvenv.cfg names (text only), to pick among the interpreters Evolve knows."""
    try:
        lines = (venv / "pyvenv.cfg").read_text(encoding="utf-8", errors="replace").splitlines()[:50]
    except OSError:
        return None
    for line in lines:
        key, _, value = line.partition("=")
        if key.strip() == "home" and value.strip():
            return Path(value.strip())
    return None


def _base_prefixes(venv: Path, known: tuple[Interpreter, ...]) -> list[str]:
    """The installation a venv is made from, only ever one of the interpreters Evolve itself found on the
    machine (PATH, pyenv) whose `bin` the venv's pyvenv.cfg names: a file can choose among them, not add one."""
    home = _venv_home(venv)
    if home is None:
        return []
    for interpreter in known:
        if os.path.normpath(home) in (os.path.dirname(interpreter.path), os.path.join(interpreter.prefix, "bin")):
            return [interpreter.prefix]
    return []


def chosen_interpreter(python: str, origin: str, probes: Path | None = None) -> Environment | EnvironmentFailure:
    """An interpreter the user chose, probed in the sandbox with only its own prefix and a known base mounted."""
    executable = Path(os.path.abspath(python))
    unusable = EnvironmentFailure(f"{python} ({origin}) is not a usable Python interpreter")
    if not (executable.exists() or executable.is_symlink()):
        return unusable
    prefix = executable.parent.parent
    # The machine's interpreters (never one inside the venv being probed: that one runs only in the sandbox).
    known = available_interpreters(outside_of(candidate_paths(with_uv=False), [prefix]), probes)
    try:
        prefixes = record_interpreter(str(executable), [str(prefix), *_base_prefixes(prefix, known)])
        result = run_sandboxed(
            SandboxSpec(
                argv=(str(executable), "-I", "-c", _PROBE),
                timeout=PROBE_TIMEOUT,
                mounts=tuple(Mount(path, str(path)) for path in prefixes),
            )
        )
    except (ValueError, SandboxRefused) as error:
        return EnvironmentFailure(f"{python} ({origin}): {error}")
    try:
        version, _prefix, _base, implementation = json.loads(result.stdout.strip().splitlines()[-1])
        text = ".".join(str(int(part)) for part in version)
    except (ValueError, TypeError, IndexError):
        return unusable
    return Environment(
        python=str(executable),
        kind="local",
        description=f"Python {text} ({implementation}) from {origin}",
        mounts=tuple(str(path) for path in prefixes),
    )
