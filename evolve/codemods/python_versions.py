"""The lowest Python a repository supports, read from its packaging metadata."""

from __future__ import annotations

import configparser
import re
import sys
from pathlib import Path

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised only on 3.10
    import tomli as tomllib

DEFAULT_MIN_PYTHON = (3, 8)
_CLAUSE = re.compile(r"^\s*(===|==|>=|~=|>|\^|~)?\s*(\d+)(?:\.(\d+|\*))?")
_SETUP_PY = re.compile(r"python_requires\s*=\s*[\"']([^\"']+)[\"']")
_CLASSIFIER = re.compile(r"Programming Language :: Python :: (\d+)\.(\d+)\s*[\"'\n]")
_MAJOR_CLASSIFIER = re.compile(r"Programming Language :: Python :: (\d+)\s*[\"'\n]")


def min_python_from_requires(
    requires_python: str | None, default: tuple[int, int] = DEFAULT_MIN_PYTHON
) -> tuple[int, int]:
    """The lowest (major, minor) a specifier like ">=3.8", "~=3.9", ">=3.7,<4" or poetry's "^3.8" admits."""
    if not requires_python:
        return default
    lower: tuple[int, int] | None = None
    for clause in re.split(r"[,|]", requires_python):
        match = _CLAUSE.match(clause)
        if not match or (match.group(1) is None and not clause.strip()[0].isdigit()):
            continue
        operator, major = match.group(1) or "==", int(match.group(2))
        minor = int(match.group(3)) if match.group(3) and match.group(3) != "*" else 0
        if operator in {"==", "===", ">=", "~=", ">", "^", "~"}:
            bound = (major, minor)
            lower = bound if lower is None else max(lower, bound)
    return lower or default


def min_python_from_classifiers(texts: list[str]) -> tuple[int, int] | None:
    """The lowest `Programming Language :: Python :: X.Y` trove classifier in these texts, or None. A bare
    `Python :: 2` without any `2.Y` beside it counts as 2.0: the project still declares Python 2 (a bare `Python :: 3`
    says nothing about which 3.x, so it counts for nothing, as before)."""
    versions = [(int(major), int(minor)) for text in texts for major, minor in _CLASSIFIER.findall(text)]
    majors = {int(major) for text in texts for major in _MAJOR_CLASSIFIER.findall(text)}
    if 2 in majors and not any(v[0] == 2 for v in versions):
        versions.append((2, 0))
    return min(versions) if versions else None


def repository_min_python(root: Path) -> tuple[int, int]:
    """Read `requires-python` from pyproject.toml, else setup.cfg `python_requires`, else a setup.py literal.

    Without any of them, the lowest Python version the trove classifiers list (a project that declares
    2.7 support there is not given Python 3-only rewrites), else DEFAULT_MIN_PYTHON.
    """
    texts: list[str] = []
    pyproject = root / "pyproject.toml"
    if pyproject.is_file():
        try:
            data = tomllib.loads(pyproject.read_text(encoding="utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError, OSError):
            data = {}
        spec = data.get("project", {}).get("requires-python")
        if spec is None:
            spec = data.get("tool", {}).get("poetry", {}).get("dependencies", {}).get("python")
        if isinstance(spec, str):
            return min_python_from_requires(spec)
        classifiers = data.get("project", {}).get("classifiers") or data.get("tool", {}).get("poetry", {}).get(
            "classifiers"
        )
        if isinstance(classifiers, list):
            texts.append("".join(f"{item}\n" for item in classifiers if isinstance(item, str)))
    setup_cfg = root / "setup.cfg"
    if setup_cfg.is_file():
        parser = configparser.ConfigParser()
        try:
            parser.read(setup_cfg, encoding="utf-8")
            spec = parser.get("options", "python_requires", fallback=None)
            texts.append(parser.get("metadata", "classifiers", fallback="") + "\n")
        except (configparser.Error, UnicodeDecodeError):
            spec = None
        if spec:
            return min_python_from_requires(spec)
    setup_py = root / "setup.py"
    if setup_py.is_file():
        try:
            text = setup_py.read_text(encoding="utf-8", errors="replace")
        except OSError:
            text = ""
        match = _SETUP_PY.search(text)
        if match:
            return min_python_from_requires(match.group(1))
        texts.append(text)
    return min_python_from_classifiers(texts) or DEFAULT_MIN_PYTHON
