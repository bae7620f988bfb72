"""Reading the files that can declare a test environment from a checkout (the only I/O of discovery)."""

from __future__ import annotations

from pathlib import Path

from evolve.environments.declarations import DEPENDENCY_FILES

MAX_FILE_BYTES = 512 * 1024
# Directories where projects keep requirement files that tox/nox/-r lines point to.
REQUIREMENT_DIRS = ("", "requirements", "reqs", "ci", "tests", "test", "testing", "dev", "tools", "docs")
CHANGES_ENVIRONMENT = frozenset(DEPENDENCY_FILES)


def read_project_files(root: Path) -> dict[str, str]:
    """Repository path -> text of every file discovery may read: known dependency files and requirement
    files (`*.txt`, `*.in`) at the top and in the usual directories. Symlinks and huge files are skipped."""
    root = Path(root)
    names = set(DEPENDENCY_FILES)
    for directory in REQUIREMENT_DIRS:
        folder = root / directory if directory else root
        if not folder.is_dir() or folder.is_symlink():
            continue
        for path in folder.iterdir():
            if path.suffix in (".txt", ".in") and ("req" in path.name.lower() or directory):
                names.add(path.relative_to(root).as_posix())
    files: dict[str, str] = {}
    for name in sorted(names):
        path = root / name
        try:
            if path.is_symlink() or not path.is_file() or path.stat().st_size > MAX_FILE_BYTES:
                continue
            files[name] = path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            continue
    return files


def touches_environment(changed_paths: list[str] | tuple[str, ...]) -> bool:
    """Whether a change edits a file that can decide the environment (then head needs its own key)."""
    return any(
        path in CHANGES_ENVIRONMENT or (path.endswith((".txt", ".in")) and "req" in path.lower())
        for path in changed_paths
    )
