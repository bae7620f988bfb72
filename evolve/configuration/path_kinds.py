"""What a repository path is: library code, tests, docs, examples, benchmarks, scripts, generated or vendored.

One classifier for research, planning, coverage and the LLM stage. Library code is in scope by default;
the other kinds are left alone unless `scope.include_kinds` names them. Generated and vendored files are
never anyone's to change: their findings are dropped whatever the configuration says.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import PurePosixPath
from typing import Literal, get_args

PathKind = Literal["library", "tests", "docs", "examples", "benchmarks", "scripts", "generated", "vendored"]
PATH_KINDS: tuple[PathKind, ...] = get_args(PathKind)
DEFAULT_KINDS: tuple[PathKind, ...] = ("library",)
# Never edited, whatever `scope.include_kinds` says: someone else's code, or code a tool rewrites.
NEVER_IN_SCOPE: frozenset[PathKind] = frozenset({"generated", "vendored"})

_VENDORED_DIRS = frozenset({"_vendor", "vendor", "vendored", "_vendored", "third_party", "thirdparty", "externals"})
_TEST_DIRS = frozenset({"tests", "test", "testing", "unittests", "unit_tests", "integration_tests"})
_DOCS_DIRS = frozenset({"docs", "doc", "documentation", "docs_src"})
_EXAMPLES_DIRS = frozenset({"examples", "example", "demo", "demos"})
_EXAMPLES_TOP_DIRS = frozenset({"samples", "tutorial", "tutorials"})  # a package may be called `samples`
_BENCHMARK_DIRS = frozenset({"benchmarks", "benchmark", "bench", "benches", "asv_bench"})
# Only at the top of the repository: `pkg/tools/` or `pkg/scripts/` is part of the package.
_SCRIPT_TOP_DIRS = frozenset({"scripts", "script", "tools", "bin", "ci", "dev", "tasks", ".github"})
_SCRIPT_TOP_FILES = frozenset(
    {"setup.py", "noxfile.py", "fabfile.py", "tasks.py", "dodo.py", "manage.py", "bootstrap.py"}
)
_GENERATED_SUFFIXES = ("_pb2.py", "_pb2_grpc.py", "_pb2.pyi", "_grpc.py", "_rc.py")
# Markers code generators write at the top of what they produce (protoc, Qt uic, Cython, setuptools-scm,
# versioneer, Alembic's autogenerate keeps its own header and is not a marker).
_GENERATED_MARKER = re.compile(
    r"(?i)(\bgenerated\s+by\b|\bauto-?generated\b|\bdo\s+not\s+edit\b|\bdon't\s+edit\b|"
    r"\bfile\s+is\s+generated\b|\bcode\s+generated\b|@generated\b|"
    r"changes\s+to\s+this\s+file\s+will\s+be\s+lost)"
)
_HEADER_CHARS = 2_000  # markers only count in the header: a docstring further down may quote them
# A module this long with (almost) no functions or classes is data, not code a reviewer should read.
DATA_MODULE_LINES = 5_000
_DATA_DEFS_PER_THOUSAND_LINES = 1.0
_DEFINITION = re.compile(r"^\s*(?:async\s+def|def|class)\s", re.MULTILINE)


def is_test_module_name(name: str) -> bool:
    """Whether a file name is a test module by pytest's and Django's conventions (`test_*.py`, `*_test.py`, ...)."""
    return (
        name == "conftest.py"
        or (name.startswith("test_") and name.endswith(".py"))
        or name.endswith("_test.py")
        or name == "tests.py"
    )


def _kind_by_directories(parts: tuple[str, ...]) -> PathKind | None:
    """The kind a directory component gives away, or None."""
    directories = parts[:-1]
    lowered = [part.lower() for part in directories]
    if any(part in _VENDORED_DIRS for part in lowered):
        return "vendored"
    if lowered and lowered[0] in _SCRIPT_TOP_DIRS:
        return "scripts"
    # `tests` anywhere (numpy-style `pkg/tests/`); `testing` only at the top (`pkg/testing` is usually public API).
    if any(part in _TEST_DIRS - {"testing"} for part in lowered) or (lowered and lowered[0] == "testing"):
        return "tests"
    if lowered and lowered[0] in _EXAMPLES_TOP_DIRS:
        return "examples"
    for names, kind in ((_DOCS_DIRS, "docs"), (_EXAMPLES_DIRS, "examples"), (_BENCHMARK_DIRS, "benchmarks")):
        if any(part in names for part in lowered):
            return kind  # type: ignore[return-value]
    return None


def kind_of_path(path: str) -> PathKind:
    """The kind of a repository-relative path, from its name alone."""
    pure = PurePosixPath(path.replace("\\", "/"))
    parts = pure.parts
    if not parts:
        return "library"
    by_directory = _kind_by_directories(parts)
    if by_directory == "vendored":
        return by_directory
    name = pure.name
    if name.endswith(_GENERATED_SUFFIXES):
        return "generated"
    if by_directory is not None:
        return by_directory
    if is_test_module_name(name):
        return "tests"
    if len(parts) == 1 and name in _SCRIPT_TOP_FILES:
        return "scripts"
    return "library"


def looks_generated(text: str) -> bool:
    """Whether a file's content says a tool wrote it: a generator's header marker, or a huge data-only module."""
    if _GENERATED_MARKER.search(text[:_HEADER_CHARS]):
        return True
    lines = text.count("\n") + 1
    if lines < DATA_MODULE_LINES:
        return False
    definitions = len(_DEFINITION.findall(text))
    return definitions * 1000 / lines < _DATA_DEFS_PER_THOUSAND_LINES


def kind_of_file(path: str, text: str | None) -> PathKind:
    """The kind of a path whose content is known: generated content wins over what its name says (not vendoring)."""
    kind = kind_of_path(path)
    if kind in NEVER_IN_SCOPE or text is None:
        return kind
    return "generated" if looks_generated(text) else kind


def is_test_path(path: str) -> bool:
    """Whether a repository path is test code (a tests/ directory, test_*.py, *_test.py, conftest.py...)."""
    return kind_of_path(path) == "tests"


def in_scope(kind: PathKind, include_kinds: Iterable[str] = DEFAULT_KINDS) -> bool:
    """Whether a path of this kind may be changed under the configured kinds (generated/vendored never)."""
    return kind not in NEVER_IN_SCOPE and kind in set(include_kinds)


def path_in_scope(path: str, include_kinds: Iterable[str] = DEFAULT_KINDS) -> bool:
    """`in_scope` for a path classified by its name alone."""
    return in_scope(kind_of_path(path), include_kinds)


# Coverage measures the repository's own code: never its tests, vendored or generated code, virtualenvs
# or build tooling. Globs in coverage.py's `omit` syntax, derived from the same directory names as above.
COVERAGE_OMIT: tuple[str, ...] = (
    *(f"*/{directory}/*" for directory in sorted(_TEST_DIRS - {"testing"})),
    "*/test_*.py",
    "*_test.py",
    "*/conftest.py",
    "*/setup.py",
    "*/noxfile.py",
    *(f"*/{directory}/*" for directory in sorted(_VENDORED_DIRS)),
    *(f"*{suffix}" for suffix in _GENERATED_SUFFIXES if suffix.endswith(".py")),
    "*/.venv/*",
    "*/venv/*",
    "*/.tox/*",
    "*/.nox/*",
    "*/site-packages/*",
    "*/.eggs/*",
    "*/docs/conf.py",
)
