"""Read-only facts about the checkout the provider works on: files, module names, tests, complexity."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path, PurePosixPath

from radon.complexity import cc_visit

from evolve.configuration.globs import matches_any
from evolve.configuration.model import EvolveConfig
from evolve.configuration.path_kinds import is_test_path
from evolve.git.command import GitError, run_git
from evolve.sandbox.scratch import run_origin

MAX_FILES = 2000


def python_files(workspace: Path, config: EvolveConfig) -> list[str]:
    """Relative paths of the Python files the configuration includes, sorted, at most MAX_FILES."""
    found: list[str] = []
    for directory, dirnames, filenames in os.walk(workspace):
        relative_dir = Path(directory).relative_to(workspace).as_posix()
        dirnames[:] = sorted(d for d in dirnames if not d.startswith(".") and d not in ("__pycache__", "node_modules"))
        for filename in sorted(filenames):
            if not filename.endswith(".py"):
                continue
            relative = filename if relative_dir == "." else f"{relative_dir}/{filename}"
            if matches_any(relative, config.include) and not matches_any(relative, config.all_excludes):
                found.append(relative)
                if len(found) >= MAX_FILES:
                    return found
    return found


is_test_file = is_test_path  # one rule for "is this a test file?": evolve/configuration/path_kinds.py


def module_name(path: str) -> str:
    """The dotted import name of a relative path, dropping a leading `src/` and a trailing `__init__`."""
    parts = list(PurePosixPath(path).with_suffix("").parts)
    if parts and parts[0] == "src":
        parts = parts[1:]
    if parts and parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def _test_texts(workspace: Path, files: list[str]) -> Iterator[str]:
    for path in files:
        if is_test_file(path):
            try:
                yield (workspace / path).read_text(encoding="utf-8", errors="replace")
            except OSError:
                continue


def referenced_by_tests(workspace: Path, files: list[str], name: str) -> bool:
    """Whether any test module mentions `name` as a word (a cheap stand-in for "this code is exercised")."""
    pattern = re.compile(rf"\b{re.escape(name)}\b")
    return any(pattern.search(text) for text in _test_texts(workspace, files))


def function_complexity(source: str, qualname: str) -> int | None:
    """Radon's cyclomatic complexity of the function `qualname` in `source`, or None when absent/unparsable."""
    try:
        blocks = cc_visit(source)
    except Exception:
        return None
    wanted = ".".join(part for part in qualname.split(".") if part != "<locals>")

    def walk(items, prefix: str):
        for block in items:
            name = f"{prefix}{block.name}"
            if name == wanted and hasattr(block, "closures"):
                return block.complexity
            children = [
                *(getattr(block, "methods", None) or []),
                *(getattr(block, "inner_classes", None) or []),
                *(getattr(block, "closures", None) or []),
            ]
            found = walk(children, f"{name}.")
            if found is not None:
                return found
        return None

    top = [b for b in blocks if not getattr(b, "is_method", False)]
    return walk(top, "")


def repository_key(workspace: Path) -> str:
    """A stable name for the repository, for per-day budgets: its origin URL (without credentials) or git dir."""

    origin = run_origin(workspace)
    if origin is not None:  # a tree Evolve exported for a run: key it by the repository it came from
        workspace = origin

    def git(*args: str) -> str:
        try:
            return run_git(list(args), workspace, timeout=10).strip()
        except GitError:
            return ""

    url = git("config", "--get", "remote.origin.url")
    if url:
        return re.sub(r"^(\w+://)[^@/]*@", r"\1", url)
    common = git("rev-parse", "--path-format=absolute", "--git-common-dir")
    return common or str(workspace.resolve())


def where_tests_live(files: list[str]) -> tuple[str, str]:
    """Where the project keeps its test modules and how it names them: (directory, `test_*.py` or `*_test.py`).

    The top-level directory holding most test modules wins (`tests` when there are none); the naming is the
    majority's among them."""
    counts: dict[str, int] = {}
    suffixed = prefixed = 0
    for path in files:
        parts = PurePosixPath(path).parts
        name = parts[-1]
        if len(parts) < 2 or not is_test_file(path) or name in ("conftest.py", "__init__.py"):
            continue
        if name.startswith("test_"):
            prefixed += 1
        elif name.endswith("_test.py"):
            suffixed += 1
        else:
            continue
        counts[parts[0]] = counts.get(parts[0], 0) + 1
    directory = min(counts, key=lambda d: (-counts[d], d)) if counts else "tests"
    return directory, "*_test.py" if suffixed > prefixed else "test_*.py"
