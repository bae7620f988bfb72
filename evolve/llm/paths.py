"""Where the model may write: inside the repository, within include/exclude, never CI or git internals."""

from __future__ import annotations

import re
from pathlib import Path, PurePosixPath

from evolve.configuration.globs import matches_any
from evolve.configuration.model import FORBIDDEN_EDIT_PATHS, EvolveConfig

# Stricter than the global list: the model has no business anywhere under .github/.
LLM_FORBIDDEN = (*FORBIDDEN_EDIT_PATHS, ".github/**")


def normalise(path: object) -> tuple[str | None, str | None]:
    """(clean relative posix path, None) or (None, reason) for traversal, absolute paths and odd characters."""
    if not isinstance(path, str) or not path.strip():
        return None, "the path must be a non-empty string"
    if "\x00" in path or "\\" in path:
        return None, "the path may not contain backslashes or NUL characters"
    if path.startswith(("/", "~")) or re.match(r"^[A-Za-z]:", path):
        return None, f"{path!r} is absolute; give a path relative to the repository root"
    parts = [part for part in PurePosixPath(path).parts if part != "."]
    if ".." in parts:
        return None, f"{path!r} leaves the repository (path traversal is not allowed)"
    if not parts:
        return None, "the path names no file"
    return "/".join(parts), None


def edit_path_problem(
    workspace: Path, path: object, config: EvolveConfig, *, test_file: bool = False, tests_dir: str = "tests"
) -> str | None:
    """Why the model may not write `path`, or None when it may. Checks traversal, symlinks and the config; a new
    test file goes under `tests_dir` (where the project keeps its tests)."""
    clean, problem = normalise(path)
    if problem:
        return problem
    assert clean is not None
    if matches_any(clean, LLM_FORBIDDEN):
        return f"{clean} is in a protected location (.github/, .git/); edits there are never allowed"
    if not clean.endswith(".py"):
        return f"{clean} is not a Python file; only .py files may be edited"
    if test_file:
        name = PurePosixPath(clean).name
        if not clean.startswith(f"{tests_dir}/") or not (name.startswith("test_") or name.endswith("_test.py")):
            return f"{clean}: new test files must live under {tests_dir}/ and be named test_*.py or *_test.py"
    if not matches_any(clean, config.include) or matches_any(clean, config.all_excludes):
        return f"{clean} is outside the paths this repository's evolve configuration allows (include/exclude)"
    root = workspace.resolve()
    try:
        (workspace / clean).resolve().relative_to(root)
    except ValueError:
        return f"{clean} resolves outside the repository (symbolic link)"
    return None
