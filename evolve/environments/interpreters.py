"""The Python interpreters on this machine, and the one a project's `requires-python` chooses."""

from __future__ import annotations

import glob
import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.version import Version

OLDEST_SUPPORTED = (3, 8)  # uv creates environments for 3.8 and newer
_PROBE = "import json, sys; print(json.dumps([list(sys.version_info[:3]), sys.base_prefix, sys.implementation.name, sys.executable]))"


@dataclass(frozen=True)
class Interpreter:
    """One Python installation: its executable, version and installation prefix (to mount read-only)."""

    path: str
    version: tuple[int, int, int]
    prefix: str
    implementation: str = "cpython"

    @property
    def version_text(self) -> str:
        """`3.12.1`."""
        return ".".join(map(str, self.version))

    def describe(self) -> str:
        """`Python 3.12.1 (/root/.pyenv/versions/3.12.1/bin/python3.12)`."""
        return f"Python {self.version_text} ({self.path})"


class NoInterpreter(Exception):
    """No interpreter on the machine satisfies the project's `requires-python` (or the configured one)."""


def candidate_paths(environ: dict[str, str] | None = None, with_uv: bool = True) -> list[str]:
    """Executables that may be Pythons: `python3*` on PATH, pyenv versions, and what `uv python find` sees."""
    environ = dict(os.environ if environ is None else environ)
    found: list[str] = []
    for directory in environ.get("PATH", os.defpath).split(os.pathsep):
        if os.path.basename(directory.rstrip(os.sep)) == "shims":
            continue  # pyenv shims are scripts that pick a version by directory; the versions are listed below
        for name in sorted(glob.glob(os.path.join(directory, "python3*"))):
            if re.fullmatch(r"python3(\.\d+)?", os.path.basename(name)):
                found.append(name)
    pyenv = Path(environ.get("PYENV_ROOT") or Path.home() / ".pyenv") / "versions"
    for version_dir in sorted(pyenv.glob("*")) if pyenv.is_dir() else []:
        if (version_dir / "bin" / "python3").exists():
            found.append(str(version_dir / "bin" / "python3"))
    if with_uv:
        found += _uv_pythons()
    found.append(sys.executable)
    return list(dict.fromkeys(found))


def outside_of(paths: Iterable[str], trees: Iterable[Path]) -> list[str]:
    """`paths` without any inside one of `trees` (by path or by what it links to): a repository's own interpreter
    (a committed `.venv` the user activated, so on PATH) is never probed on the host."""
    roots = [os.path.realpath(tree) for tree in trees]

    def inside(path: str) -> bool:
        return any(
            candidate == root or candidate.startswith(root + os.sep)
            for root in roots
            for candidate in (os.path.abspath(path), os.path.realpath(path))
        )

    return [path for path in paths if not inside(path)]


def _uv_pythons() -> list[str]:
    """The interpreter `uv python find` would use (it also knows uv-managed and registry installations)."""
    from evolve.environments.uv_tool import uv_binary

    uv = uv_binary()
    if uv is None:
        return []
    try:
        done = subprocess.run(
            [uv, "python", "find", "--no-python-downloads", "--system"], capture_output=True, text=True, timeout=30
        )
    except (OSError, subprocess.SubprocessError):
        return []
    path = done.stdout.strip()
    return [path] if done.returncode == 0 and path else []


@lru_cache(maxsize=256)
def probe(path: str) -> Interpreter | None:
    """Ask an executable which Python it is; None when it is not a usable Python 3."""
    try:
        done = subprocess.run([path, "-I", "-c", _PROBE], capture_output=True, text=True, timeout=20)
        version, prefix, implementation, executable = json.loads(done.stdout)
    except (OSError, subprocess.SubprocessError, ValueError, TypeError):
        return None
    return Interpreter(os.path.realpath(executable or path), tuple(version), os.path.realpath(prefix), implementation)


def _probe_cached(path: str, cache: dict[str, list]) -> Interpreter | None:
    """`probe`, remembered across processes by (real path, size, mtime): probing costs a process start."""
    try:
        stat = os.stat(path)
    except OSError:
        return None
    stamp = [stat.st_size, stat.st_mtime_ns]
    entry = cache.get(path)
    if entry and entry[0] == stamp:
        return Interpreter(entry[1], tuple(entry[2]), entry[3], entry[4]) if entry[1] else None
    found = probe(path)
    cache[path] = [
        stamp,
        *((found.path, list(found.version), found.prefix, found.implementation) if found else (None, [], "", "")),
    ]
    return found


def available_interpreters(
    paths: Iterable[str] | None = None, cache_file: Path | None = None
) -> tuple[Interpreter, ...]:
    """Every distinct usable interpreter (3.8+), newest first; `cache_file` remembers earlier probes."""
    cache: dict[str, list] = {}
    if cache_file is not None:
        try:
            cache = json.loads(cache_file.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            cache = {}
    seen: dict[str, Interpreter] = {}
    real = dict.fromkeys(os.path.realpath(p) for p in (candidate_paths() if paths is None else paths))
    for path in real:
        found = _probe_cached(path, cache)
        if found is not None and found.version[:2] >= OLDEST_SUPPORTED and found.path not in seen:
            seen[found.path] = found
    if cache_file is not None:
        try:
            cache_file.parent.mkdir(parents=True, exist_ok=True)
            temporary = cache_file.with_suffix(f".{os.getpid()}.tmp")
            temporary.write_text(json.dumps(cache), encoding="utf-8")
            os.replace(temporary, cache_file)
        except OSError:
            pass
    return tuple(sorted(seen.values(), key=lambda i: (i.version, i.implementation == "cpython"), reverse=True))


def choose_interpreter(
    interpreters: Sequence[Interpreter],
    requires_python: str | None,
    wanted: str | None = None,
    preferred: tuple[int, int] = sys.version_info[:2],
) -> Interpreter:
    """The interpreter for a project: `wanted` (a path or a version like `3.12`) if configured; else the
    running Python's version when `requires-python` allows it (what tox does by default); else the newest
    that fits. Raises NoInterpreter naming what was asked and what the machine has."""
    have = ", ".join(sorted({i.version_text for i in interpreters}, key=Version, reverse=True)) or "none"
    if wanted:
        return _configured(interpreters, wanted, have)
    try:
        spec = SpecifierSet(requires_python or "")
    except InvalidSpecifier:
        spec = SpecifierSet("")
    fitting = [i for i in interpreters if spec.contains(i.version_text, prereleases=True)]
    if not fitting:
        raise NoInterpreter(f"no Python on this machine satisfies requires-python {requires_python!r} (found: {have})")
    same = [i for i in fitting if i.version[:2] == preferred and i.implementation == "cpython"]
    return (same or fitting)[0]


def _configured(interpreters: Sequence[Interpreter], wanted: str, have: str) -> Interpreter:
    if os.sep in wanted or wanted.startswith("python"):
        # Only one of the interpreters Evolve found on the machine: a path in the repository's config is never
        # started on the host to find out what it is (it could be a script the repository ships).
        path = wanted if os.sep in wanted else shutil.which(wanted)
        real = os.path.realpath(path) if path and os.path.isabs(path) else None
        for interpreter in interpreters:
            if real is not None and real == interpreter.path:
                return interpreter
        raise NoInterpreter(
            f"gates.tests.python {wanted!r} is not one of this machine's Python interpreters (found: {have})"
        )
    match = re.fullmatch(r"(\d+)\.(\d+)(?:\.(\d+))?", wanted.strip())
    if not match:
        raise NoInterpreter(f"gates.tests.python {wanted!r} is neither a path nor a version such as 3.12")
    version = tuple(int(part) for part in match.groups() if part is not None)
    for interpreter in interpreters:
        if interpreter.version[: len(version)] == version:
            return interpreter
    raise NoInterpreter(
        f"gates.tests.python asks for Python {wanted}, which this machine does not have (found: {have})"
    )
