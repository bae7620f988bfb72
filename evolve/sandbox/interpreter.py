"""Which host directories a Python interpreter needs inside the sandbox: Evolve's own, or what Evolve recorded
when it created or probed the interpreter. Never decided from files an environment or a tree holds (`pyvenv.cfg`,
a `bin/python` link): a repository's build or install command can rewrite those."""

from __future__ import annotations

import os
import shutil
import sys
import threading
from collections.abc import Iterable
from pathlib import Path

from evolve.sandbox.spec import Mount

# Bound anyway (or never to be bound): an interpreter living here needs no mount of its own.
_SYSTEM_PREFIXES = ("/usr", "/bin", "/lib", "/lib64")
_recorded: dict[str, tuple[Path, ...]] = {}
_lock = threading.Lock()


def _under_system_prefix(path: Path) -> bool:
    return any(str(path) == prefix or str(path).startswith(prefix + "/") for prefix in _SYSTEM_PREFIXES)


def _refused_prefix(path: Path) -> str | None:
    homes = {os.path.expanduser("~"), "/root", "/home"}
    if not path.is_absolute() or len(path.parts) < 3 or str(path) in homes or str(path.parent) == "/home":
        return f"{path} is a top-level or home directory"
    return None


def _kept(candidates: Iterable[Path]) -> tuple[Path, ...]:
    prefixes: list[Path] = []
    for candidate in candidates:
        candidate = Path(os.path.normpath(candidate))
        if _under_system_prefix(candidate) or candidate in prefixes:
            continue
        refusal = _refused_prefix(candidate)
        if refusal:
            raise ValueError(f"will not bind the interpreter's prefix into the sandbox: {refusal}")
        prefixes.append(candidate)
    return tuple(prefixes)


def record_interpreter(python: str, prefixes: Iterable[str]) -> tuple[Path, ...]:
    """Evolve's record of the directories `python` needs (decided when Evolve built or probed it); later
    sandboxes bind exactly these. Raises ValueError for a top-level or home directory."""
    kept = _kept(Path(prefix) for prefix in prefixes)
    with _lock:
        _recorded[os.path.abspath(python)] = kept
    return kept


def _is_evolves_own(executable: Path) -> bool:
    return os.path.realpath(executable.parent.parent) == os.path.realpath(sys.prefix)


def interpreter_prefixes(python: str) -> tuple[Path, ...]:
    """The prefixes `python` runs from, outside the system directories already bound: Evolve's own interpreter's,
    or those recorded by `record_interpreter`. Raises ValueError for any other interpreter."""
    found = shutil.which(python) if not os.path.isabs(python) else python
    if found is None:
        raise ValueError(f"interpreter {python!r} not found")
    executable = Path(os.path.abspath(found))
    if _is_evolves_own(executable):
        return _kept([Path(sys.prefix), Path(sys.base_prefix)])
    with _lock:
        recorded = _recorded.get(str(executable))
    if recorded is not None:
        return recorded
    if _under_system_prefix(executable):
        return ()
    raise ValueError(
        f"{python} is not an interpreter Evolve built or probed: nothing is mounted for it "
        "(mounts come from Evolve's own records, never from the environment's files)"
    )


def interpreter_mounts(python: str) -> tuple[Mount, ...]:
    """Read-only mounts, at the same paths, that let `python` (and its venv's scripts) run in the sandbox."""
    return tuple(Mount(prefix, str(prefix)) for prefix in interpreter_prefixes(python))
