"""Which install of a checking tool (mypy, flake8, pyright) checks a project: its own environment's, else Evolve's.

A project's CI runs the mypy and flake8 its own dev/test dependencies pin, with its plugins, against its installed
packages. When the environment Evolve built for the project (from those declarations) holds the tool, that one
runs; otherwise Evolve's own install runs, and says so. Either way mypy and pyright resolve imports against the
project's environment (its site-packages), so their errors are the ones the project's CI sees.

Everything here is read from the file system (dist-info names, package directories), never by running an
interpreter: the environment's `.pth` files and `sitecustomize` are repository-controlled code.
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import os
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from evolve.environments.model import Environment

Tool = Literal["mypy", "flake8", "pyright"]
# The file that proves the package is there (a dist-info directory can outlive its package).
_MARKERS: dict[str, str] = {
    "mypy": "mypy/__init__.py",
    "flake8": "flake8/__init__.py",
    "pyright": "pyright/dist/index.js",
}
_SYSTEM_PREFIXES = ("/usr/", "/bin/", "/lib/", "/lib64/")


@dataclass(frozen=True)
class ToolInstall:
    """One tool install to run: which interpreter runs it, what the sandbox must bind, and where it came from."""

    tool: Tool
    python: str  # runs `python -m <tool>`; for pyright, the interpreter whose packages it resolves
    version: str | None
    from_project: bool  # the project's own environment holds this install
    project_python: str | None = None  # the project's interpreter (its site-packages), when there is one
    mounts: tuple[str, ...] = ()  # host paths the sandbox binds read-only (the project's environment)
    script: str | None = None  # pyright: the index.js `node` runs
    fallback_reason: str = ""  # why Evolve's install runs instead of the project's

    def owner(self) -> str:
        """`the project's mypy 1.11.2` or `Evolve's mypy 1.13.0`, for a one-line summary."""
        name = f"{self.tool} {self.version}" if self.version else self.tool
        return f"the project's {name}" if self.from_project else f"Evolve's {name}"

    def describe(self) -> str:
        """`mypy 1.11.2 from the project's environment`, or Evolve's install and why."""
        name = f"{self.tool} {self.version}" if self.version else self.tool
        if self.from_project:
            return f"{name} from the project's environment"
        return f"{name} from Evolve's install ({self.fallback_reason})" if self.fallback_reason else name


def site_packages(python: str) -> tuple[Path, ...]:
    """The site-packages directories of the venv `python` belongs to (`<venv>/lib/python3.X/site-packages`)."""
    prefix = Path(python).parent.parent
    return tuple(sorted(prefix.glob("lib/python3*/site-packages")))


def installed_version(directories: tuple[Path, ...], tool: str) -> str | None:
    """The version of `tool` installed in one of `directories` (its dist-info directory name), or None."""
    marker = _MARKERS.get(tool)
    for directory in directories:
        if marker is not None and not (directory / marker).is_file():
            continue
        for info in sorted(directory.glob("*.dist-info")):
            name, _, version = info.name.removesuffix(".dist-info").rpartition("-")
            if _normalised(name) == tool:
                return version
    return None


def _normalised(name: str) -> str:
    return name.replace("_", "-").replace(".", "-").lower()


def installed_distributions(python: str) -> frozenset[str]:
    """The normalised names of the distributions installed in `python`'s venv (read from dist-info names)."""
    names: set[str] = set()
    for directory in site_packages(python):
        for info in directory.glob("*.dist-info"):
            names.add(_normalised(info.name.rsplit("-", 1)[0]))
    return frozenset(names)


def project_python(environment: Environment | None) -> str | None:
    """The project's own interpreter, or None when the suite runs with Evolve's (no environment was built)."""
    if environment is None or environment.kind == "evolve":
        return None
    if os.path.realpath(Path(environment.python).parent.parent) == os.path.realpath(sys.prefix):
        return None
    return environment.python


def _evolve_version(tool: str) -> str | None:
    try:
        return importlib.metadata.version(tool)
    except importlib.metadata.PackageNotFoundError:
        return None


def _no_environment_reason(environment: Environment | None) -> str:
    if environment is None:
        return "no project environment was prepared for this run"
    return "the suite runs with Evolve's own interpreter, so there is no project environment"


def choose_python_tool(tool: Literal["mypy", "flake8"], environment: Environment | None) -> ToolInstall | None:
    """The project environment's `tool` when it installs it, else Evolve's (None when neither has it)."""
    python = project_python(environment)
    mounts = environment.mounts if environment is not None and python is not None else ()
    if python is not None:
        version = installed_version(site_packages(python), tool)
        if version is not None:
            return ToolInstall(tool, python, version, True, python, mounts)
        reason = f"the project's environment does not install {tool}"
    else:
        reason = _no_environment_reason(environment)
    if importlib.util.find_spec(tool) is None:
        return None
    return ToolInstall(tool, sys.executable, _evolve_version(tool), False, python, mounts, fallback_reason=reason)


@dataclass(frozen=True)
class PyrightUnavailable:
    """Why pyright cannot run here, said in the gate's result."""

    reason: str


def node_executable() -> str | None:
    """Node.js on the host, when it lives where the sandbox binds it (the system directories)."""
    found = shutil.which("node")
    if found is None:
        return None
    real = os.path.realpath(found)
    return real if real.startswith(_SYSTEM_PREFIXES) else None


def _evolve_pyright() -> tuple[str, str | None] | None:
    spec = importlib.util.find_spec("pyright")
    if spec is None or not spec.submodule_search_locations:
        return None
    script = Path(next(iter(spec.submodule_search_locations))) / "dist" / "index.js"
    return (str(script), _evolve_version("pyright")) if script.is_file() else None


def _npm_pyright() -> tuple[str, str | None] | None:
    """A `pyright` on PATH that is npm's (its link resolves to the package's index.js)."""
    found = shutil.which("pyright")
    if found is None:
        return None
    real = Path(os.path.realpath(found))
    if real.suffix != ".js" or not str(real).startswith(_SYSTEM_PREFIXES):
        return None
    return str(real), None


def choose_pyright(environment: Environment | None) -> ToolInstall | PyrightUnavailable:
    """pyright's bundled JavaScript (the project environment's `pyright` package, else Evolve's, else npm's on
    PATH), run with the host's Node.js; or why it cannot run. Nothing is downloaded: pyright's own wrapper would
    fetch the npm package at first use, which the sandbox (no network) cannot do."""
    node = node_executable()
    if node is None:
        return PyrightUnavailable("Node.js is not installed where the sandbox can run it (apt-get install nodejs)")
    python = project_python(environment)
    mounts = environment.mounts if environment is not None and python is not None else ()
    if python is not None:
        directories = site_packages(python)
        version = installed_version(directories, "pyright")
        if version is not None:
            script = next(str(d / _MARKERS["pyright"]) for d in directories if (d / _MARKERS["pyright"]).is_file())
            return ToolInstall("pyright", python, version, True, python, mounts, script)
        reason = "the project's environment does not install pyright"
    else:
        reason = _no_environment_reason(environment)
    found = _evolve_pyright() or _npm_pyright()
    if found is None:
        return PyrightUnavailable(
            f"{reason}, and Evolve's install has no pyright (pip install pyright, which bundles it, or "
            "npm install -g pyright); it cannot be downloaded during a run"
        )
    script, version = found
    # Evolve's interpreter is the one bound for Evolve's pyright (its venv holds the script); the project's
    # environment is bound beside it for `--pythonpath`.
    return ToolInstall("pyright", sys.executable, version, False, python, mounts, script, fallback_reason=reason)
