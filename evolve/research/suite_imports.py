"""A suite that cannot start because its tests import a module the project never declares (`mock`, `nose`):
which module, whether only the tests import it, and the distribution that provides it."""

from __future__ import annotations

import ast
import re
from collections.abc import Iterable
from pathlib import Path

from evolve.configuration.path_kinds import is_test_path, kind_of_path

_NO_MODULE = re.compile(r"No module named '(?P<module>[\w.]+)'")
# Import name -> distribution, where they differ (the common renames).
DISTRIBUTIONS = {
    "yaml": "PyYAML",
    "dateutil": "python-dateutil",
    "mock": "mock",
    "nose": "nose",
    "bs4": "beautifulsoup4",
    "PIL": "Pillow",
    "cv2": "opencv-python",
    "sklearn": "scikit-learn",
    "attr": "attrs",
    "OpenSSL": "pyOpenSSL",
    "Crypto": "pycryptodome",
    "serial": "pyserial",
    "usb": "pyusb",
    "jwt": "PyJWT",
    "magic": "python-magic",
    "dotenv": "python-dotenv",
    "git": "GitPython",
    "hamcrest": "PyHamcrest",
    "lxml": "lxml",
    "markdown": "Markdown",
    "jinja2": "Jinja2",
    "pkg_resources": "setuptools<81",  # setuptools 81 and later no longer ship pkg_resources
    "setuptools": "setuptools",
    "google.protobuf": "protobuf",
    "Levenshtein": "python-Levenshtein",
    "hypothesis": "hypothesis",
    "freezegun": "freezegun",
    "testfixtures": "testfixtures",
    "responses": "responses",
    "httpretty": "httpretty",
    "simplejson": "simplejson",
    "six": "six",
    "toml": "toml",
    "docutils": "docutils",
    "pygments": "Pygments",
    "zmq": "pyzmq",
    "dogpile": "dogpile.cache",
}
MAX_FILES = 2000


def missing_modules(text: str) -> tuple[str, ...]:
    """The top-level modules a test run's output says it could not import, in order."""
    return tuple(dict.fromkeys(match["module"].split(".")[0] for match in _NO_MODULE.finditer(text)))


def distribution_for(module: str) -> str:
    """The distribution to install for an import name (the common renames, else the name itself)."""
    return DISTRIBUTIONS.get(module, module)


_OPTIONAL = frozenset({"ImportError", "ModuleNotFoundError", "Exception", "BaseException"})


def _optional_nodes(tree: ast.Module) -> set[int]:
    """ids of nodes inside a `try` that catches ImportError (or everything): an optional import."""
    inside: set[int] = set()
    for node in ast.walk(tree):
        if not isinstance(node, ast.Try):
            continue
        caught = {
            name.id
            for handler in node.handlers
            for name in (ast.walk(handler.type) if handler.type is not None else [ast.Name("BaseException")])
            if isinstance(name, ast.Name)
        }
        if caught & _OPTIONAL:
            inside |= {id(child) for part in node.body for child in ast.walk(part)}
    return inside


def _imported_modules(source: str, required_only: bool = False) -> set[str]:
    """Top-level modules `source` imports; with `required_only`, not those it imports under a fallback."""
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError):
        return set()
    optional = _optional_nodes(tree) if required_only else set()
    found: set[str] = set()
    for node in ast.walk(tree):
        if id(node) in optional:
            continue
        if isinstance(node, ast.Import):
            found.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            found.add(node.module.split(".")[0])
    return found


def importers(root: Path, module: str, paths: Iterable[str]) -> tuple[list[str], list[str]]:
    """(test files, library files) among `paths` (relative to `root`) that import `module` at any depth (docs,
    examples and scripts are neither: a module only they and the tests import is still the tests' to declare; a
    library import under an ImportError fallback is optional and does not count)."""
    tests: list[str] = []
    others: list[str] = []
    listed = list(paths)
    ordered = [p for p in listed if is_test_path(p)][:MAX_FILES] + [p for p in listed if not is_test_path(p)][
        :MAX_FILES
    ]
    for path in ordered:
        try:
            source = (root / path).read_text(encoding="utf-8", errors="replace")
        except OSError:
            continue
        if module not in source:
            continue
        if is_test_path(path):
            if module in _imported_modules(source):
                tests.append(path)
        elif kind_of_path(path) == "library" and module in _imported_modules(source, required_only=True):
            others.append(path)  # the library needs it (an import under an ImportError fallback is optional)
    return tests, others


def own_top_level_names(root: Path) -> set[str]:
    """Modules and packages the repository itself provides (at its top or under `src/`): never installed."""
    names: set[str] = set()
    for base in (root, root / "src"):
        if not base.is_dir():
            continue
        for entry in base.iterdir():
            if entry.suffix == ".py":
                names.add(entry.stem)
            elif entry.is_dir() and (entry / "__init__.py").is_file():
                names.add(entry.name)
    return names


def module_only_tests_import(root: Path, text: str, paths: Iterable[str]) -> str | None:
    """The first module the run could not import that only the tests import (the project's own code never
    does, and it is not one of the repository's own modules): the one to install for the suite to start."""
    listed = list(paths)
    own = own_top_level_names(root)
    for module in missing_modules(text):
        if module in own:
            continue
        tests, others = importers(root, module, listed)
        if tests and not others:
            return module
    return None
