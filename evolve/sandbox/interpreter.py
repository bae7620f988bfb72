"""Which host directories a Python interpreter needs inside the sandbox: its venv and its base installation."""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

from evolve.sandbox.spec import Mount

# Bound anyway (or never to be bound): an interpreter living here needs no mount of its own.
_SYSTEM_PREFIXES = ("/usr", "/bin", "/lib", "/lib64")


def _venv_base(venv: Path) -> Path | None:
    """The base prefix a venv's pyvenv.cfg names (`home = <base>/bin`), read as text: running the
    interpreter outside the sandbox would execute whatever `.pth` files its site-packages hold."""
    try:
        lines = (venv / "pyvenv.cfg").read_text(encoding="utf-8").splitlines()
    except OSError:
        return None
    for line in lines:
        key, _, value = line.partition("=")
        if key.strip() == "home" and value.strip():
            home = Path(value.strip())
            return home.parent if home.name == "bin" else home
    return None


def _under_system_prefix(path: Path) -> bool:
    return any(str(path) == prefix or str(path).startswith(prefix + "/") for prefix in _SYSTEM_PREFIXES)


def _refused_prefix(path: Path) -> str | None:
    homes = {os.path.expanduser("~"), "/root", "/home"}
    if len(path.parts) < 3 or str(path) in homes or str(path.parent) == "/home":
        return f"{path} is a top-level or home directory"
    return None


def interpreter_prefixes(python: str) -> tuple[Path, ...]:
    """The prefixes `python` runs from (venv and base), outside the system directories already bound."""
    found = shutil.which(python) if not os.path.isabs(python) else python
    if found is None:
        raise ValueError(f"interpreter {python!r} not found")
    executable = Path(found)
    # Evolve's own interpreter only when it is this very venv's: another venv (a repository's own, built by uv
    # from the same base Python) links to the same binary but has its own prefix and site-packages.
    if os.path.realpath(executable.parent.parent) == os.path.realpath(sys.prefix):
        candidates = [Path(sys.prefix), Path(sys.base_prefix)]
    else:
        venv = executable.parent.parent
        base = _venv_base(venv)
        candidates = [venv, base] if base else [venv]
        candidates.append(Path(os.path.realpath(executable)).parent.parent)
    prefixes: list[Path] = []
    for candidate in candidates:
        if _under_system_prefix(candidate) or candidate in prefixes:
            continue
        refusal = _refused_prefix(candidate)
        if refusal:
            raise ValueError(f"will not bind the interpreter's prefix into the sandbox: {refusal}")
        prefixes.append(candidate)
    return tuple(prefixes)


def interpreter_mounts(python: str) -> tuple[Mount, ...]:
    """Read-only mounts, at the same paths, that let `python` (and its venv's scripts) run in the sandbox."""
    return tuple(Mount(prefix, str(prefix)) for prefix in interpreter_prefixes(python))
