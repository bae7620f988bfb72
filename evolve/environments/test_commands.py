"""Finding out how a repository runs its tests: configured command first, then its own config files."""

from __future__ import annotations

import ast
import configparser
import fnmatch
import re
import shlex
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from evolve.configuration.path_kinds import is_test_module_name

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised only on 3.10
    import tomli as tomllib

Runner = Literal["pytest", "unittest", "other"]

# Directories that never hold the repository's own tests.
_NOT_TESTS = {
    ".git",
    ".hg",
    ".venv",
    "venv",
    "env",
    ".env",
    ".tox",
    ".nox",
    "build",
    "dist",
    "node_modules",
    "site-packages",
    "__pycache__",
    ".eggs",
    ".mypy_cache",
    ".pytest_cache",
}
_TEST_DIRS = ("tests", "test", "testing")
# Options of a test runner that clash with how we measure (coverage is ours) or that need plugins we lack.
_DROPPED_OPTION = re.compile(r"^--(cov|no-cov|junit|result-log|html|numprocesses|dist)|^-n(\d+)?$")
_OPTIONS_WITH_VALUE = {
    "--cov",
    "--cov-report",
    "--cov-config",
    "--cov-fail-under",
    "--junitxml",
    "--junit-xml",
    "--junit-prefix",
    "--result-log",
    "--html",
    "--numprocesses",
    "--dist",
    "-n",
}
_TOX_PLACEHOLDER = re.compile(r"\{[^}]*\}")
_REFERENCE = re.compile(r"\{\[(?P<section>[^\]]+)\](?P<key>[^{}]+)\}")
_PLACEHOLDER = re.compile(r"\{(?P<inner>[^{}]*)\}")
# tox / hatch placeholders that mean "the project's directory" once the tests run from the tree's root.
_ROOT_PLACEHOLDERS = {"toxinidir", "tox_root", "root", "toxworkdir/..", "project_root"}
_INTERPRETER_PLACEHOLDERS = {"envpython", "env_python", "python"}


@dataclass(frozen=True)
class TestCommand:
    """How to run a repository's tests: which runner, its arguments, and where we learned it."""

    __test__ = False  # not a pytest test class, despite the name

    runner: Runner
    args: tuple[str, ...]  # runner arguments (pytest/unittest), or the whole argv for "other"
    source: str  # "configured", "pyproject.toml", "tox.ini", "setup.cfg", "noxfile.py", "pytest.ini", "layout"

    def describe(self) -> str:
        """A shell-like rendering for humans, e.g. `pytest -q tests`."""
        if self.runner == "other":
            return shlex.join(self.args)
        return shlex.join(["python", "-m", self.runner, *self.args])


def detect_test_command(root: Path, configured: str | None) -> TestCommand | None:
    """Return how to run the tests of `root`; `configured` (a shell string) wins. None means no tests at all."""
    if configured and configured.strip():
        try:
            argv = shlex.split(configured)
        except ValueError as error:
            raise ValueError(f"gates.tests.command {configured!r} is not a valid shell command: {error}") from None
        return parse_command(argv, "configured") or TestCommand("other", tuple(argv), "configured")
    if not has_test_files(root):
        return None
    for detect in (_from_pyproject, _from_tox, _from_setup_cfg, _from_noxfile, _from_pytest_ini):
        found = detect(root)
        if found is not None:
            return found
    return _from_layout(root)


def substitute_placeholders(text: str, references: configparser.ConfigParser | None = None) -> str:
    """Fill in what tox, hatch and nox would: `{toxinidir}` -> `.`, `{posargs:tests}` -> `tests` (the default
    when no arguments are given), `{envpython}` -> `python`, `{env:X:default}` -> `default`, `{[section]key}`
    -> that key's value. Placeholders that only exist inside those tools (`{envsitepackagesdir}`,
    `{envtmpdir}`) are left for the caller to drop."""
    for _ in range(8):  # references may nest; bounded
        expanded = _REFERENCE.sub(lambda m: _reference(m, references), text)
        if expanded == text:
            break
        text = expanded

    def replace(match: re.Match[str]) -> str:
        inner = match.group("inner")
        name, _, default = inner.partition(":")
        name = name.strip()
        if name in _ROOT_PLACEHOLDERS:
            return "."
        if name in ("posargs", "args"):
            return default
        if name in _INTERPRETER_PLACEHOLDERS:
            return "python"
        if name == "env":
            return default.partition(":")[2]
        if name in ("/", ":"):
            return {"/": "/", ":": ":"}[name]
        if name == "tty":
            return ""
        return match.group(0)

    return _PLACEHOLDER.sub(replace, text)


def _reference(match: re.Match[str], references: configparser.ConfigParser | None) -> str:
    section, key = match.group("section"), match.group("key")
    if references is not None and references.has_option(section, key):
        return references.get(section, key)
    return ""


def parse_command(argv: list[str], source: str) -> TestCommand | None:
    """Recognise a pytest or unittest invocation in `argv` (through python -m, coverage run, ...); else None."""
    words = list(argv)
    while words:
        head = Path(words[0]).name
        if re.fullmatch(r"python[\d.]*(\.exe)?|py", head):
            words = words[1:]
            while words and words[0].startswith("-") and words[0] != "-m":
                # interpreter flags such as -I, -X dev or -W error
                words = words[2:] if words[0] in ("-X", "-W") else words[1:]
            if words[:1] == ["-m"]:
                words = words[1:]
            continue
        if head == "coverage" and words[1:2] == ["run"]:
            words = _skip_options(words[2:])
            if words[:1] == ["-m"]:
                words = words[1:]
            continue
        if head in ("pytest", "py.test"):
            kept = _keep_args(words[1:])
            return TestCommand("pytest", kept, source) if kept is not None else None
        if head == "unittest":
            if any(_TOX_PLACEHOLDER.search(word) for word in words[1:]):
                return None
            return TestCommand("unittest", tuple(words[1:]), source)
        return None
    return None


def has_test_files(root: Path) -> bool:
    """Whether `root` holds anything that looks like tests (test files, a tests directory, conftest.py)."""
    for directory in _TEST_DIRS:
        if any(True for _ in _python_files(root / directory)):
            return True
    return any(_is_test_file(path) for path in _python_files(root))


def _skip_options(words: list[str]) -> list[str]:
    while words and words[0].startswith("-") and words[0] != "-m":
        words = words[1:]
    return words


def _keep_args(args: list[str]) -> tuple[str, ...] | None:
    """Drop the options that clash with our own coverage and report files, and options whose value is a
    placeholder only tox knows; None when a test path itself is such a placeholder (the command cannot run
    outside tox, e.g. `pytest {envsitepackagesdir}/pkg`)."""
    kept: list[str] = []
    skip_value = False
    for arg in args:
        if skip_value:
            skip_value = False
            if not arg.startswith("-"):
                continue
        if arg == "--":
            continue
        if _TOX_PLACEHOLDER.search(arg):
            # `--basetemp={envtmpdir}` or `--basetemp {envtmpdir}`: the value only exists inside tox.
            if arg.startswith("-"):
                continue
            if kept and kept[-1].startswith("-") and "=" not in kept[-1]:
                kept.pop()
                continue
            return None
        if _DROPPED_OPTION.search(arg):
            skip_value = "=" not in arg and arg in _OPTIONS_WITH_VALUE
            continue
        kept.append(arg)
    return tuple(kept)


def _python_files(top: Path) -> Iterator[Path]:
    if not top.is_dir():
        return
    stack = [top]
    while stack:
        directory = stack.pop()
        try:
            entries = sorted(directory.iterdir())
        except OSError:
            continue
        for entry in entries:
            if entry.is_dir() and not entry.is_symlink():
                if entry.name not in _NOT_TESTS and not entry.name.endswith(".egg-info"):
                    stack.append(entry)
            elif entry.suffix == ".py":
                yield entry


def _is_test_file(path: Path) -> bool:
    return is_test_module_name(path.name)


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return {}


def _read_ini(path: Path) -> configparser.ConfigParser | None:
    parser = configparser.ConfigParser(interpolation=None, strict=False)
    try:
        parser.read_string(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, configparser.Error):
        return None
    return parser


def _mentions_pytest(requirements: Any) -> bool:
    if isinstance(requirements, str):
        return re.match(r"\s*pytest\b(?![-_])", requirements) is not None
    if isinstance(requirements, dict):
        return "pytest" in requirements or any(_mentions_pytest(v) for v in requirements.values())
    if isinstance(requirements, list):
        return any(_mentions_pytest(item) for item in requirements)
    return False


def _from_pyproject(root: Path) -> TestCommand | None:
    data = _read_toml(root / "pyproject.toml")
    tool = data.get("tool", {})
    hatch = _from_hatch(tool)
    if hatch is not None:
        return hatch
    if "ini_options" in tool.get("pytest", {}):
        return TestCommand("pytest", (), "pyproject.toml")
    project = data.get("project", {})
    poetry = tool.get("poetry", {})
    places = [
        project.get("dependencies"),
        project.get("optional-dependencies"),
        data.get("dependency-groups"),
        poetry.get("dev-dependencies"),
        poetry.get("group"),
        tool.get("pdm", {}).get("dev-dependencies"),
    ]
    if any(_mentions_pytest(place) for place in places if place):
        return TestCommand("pytest", (), "pyproject.toml")
    return None


def _tox_parser(root: Path) -> tuple[configparser.ConfigParser, str] | None:
    """tox's configuration, wherever the project keeps it (tox.ini, setup.cfg, pyproject legacy_tox_ini)."""
    parser = _read_ini(root / "tox.ini")
    if parser is not None:
        return parser, "tox.ini"
    parser = _read_ini(root / "setup.cfg")
    if parser is not None and parser.has_section("tox:tox"):
        return parser, "setup.cfg"
    legacy = _read_toml(root / "pyproject.toml").get("tool", {}).get("tox", {}).get("legacy_tox_ini")
    if isinstance(legacy, str):
        parser = configparser.ConfigParser(interpolation=None, strict=False)
        try:
            parser.read_string(legacy)
        except configparser.Error:
            return None
        return parser, "pyproject.toml"
    return None


def _from_tox(root: Path) -> TestCommand | None:
    found_parser = _tox_parser(root)
    if found_parser is None:
        return None
    parser, source = found_parser
    sections = ["testenv", *sorted(s for s in parser.sections() if s.startswith("testenv"))]
    for section in sections:
        if not parser.has_option(section, "commands"):
            continue
        for line in substitute_placeholders(parser.get(section, "commands"), parser).splitlines():
            line = line.strip().lstrip("-").strip()  # a leading '-' tells tox to ignore the exit code
            if not line or line.startswith("#"):
                continue
            try:
                found = parse_command(shlex.split(line), source)
            except ValueError:
                continue
            if found is not None:
                return found
    if source == "tox.ini" and parser.has_section("pytest"):
        return TestCommand("pytest", (), "tox.ini")
    return None


def _from_hatch(tool: dict[str, Any]) -> TestCommand | None:
    """A hatch script named like a test command (`test = "pytest {args:tests}"`)."""
    envs = tool.get("hatch", {}).get("envs", {})
    for env in ("default", "test", "tests", "hatch-test"):
        scripts = envs.get(env, {}).get("scripts", {}) if isinstance(envs.get(env), dict) else {}
        for name in ("test", "tests", "cov", "test-cov"):
            script = scripts.get(name) if isinstance(scripts, dict) else None
            for line in [script] if isinstance(script, str) else script if isinstance(script, list) else []:
                try:
                    found = parse_command(shlex.split(substitute_placeholders(str(line))), "pyproject.toml")
                except ValueError:
                    continue
                if found is not None:
                    return found
    return None


# Settings of an old `[pytest]` section in setup.cfg that still mean the same when passed as `-o name=value`.
_LEGACY_PYTEST_SETTINGS = ("testpaths", "python_files", "python_classes", "python_functions", "norecursedirs")


def _from_setup_cfg(root: Path) -> TestCommand | None:
    parser = _read_ini(root / "setup.cfg")
    if parser is not None and parser.has_section("tool:pytest"):
        return TestCommand("pytest", (), "setup.cfg")
    if parser is not None and parser.has_section("pytest") and not _has_other_pytest_config(root):
        return _legacy_setup_cfg(parser)
    return None


def _has_other_pytest_config(root: Path) -> bool:
    """Whether pytest finds its settings before setup.cfg (pytest.ini, pyproject.toml's, tox.ini's)."""
    tox = _read_ini(root / "tox.ini")
    return (
        (root / "pytest.ini").is_file()
        or (root / ".pytest.ini").is_file()
        or "ini_options" in _read_toml(root / "pyproject.toml").get("tool", {}).get("pytest", {})
        or (tox is not None and tox.has_section("pytest"))
    )


def _legacy_setup_cfg(parser: configparser.ConfigParser) -> TestCommand:
    """A `[pytest]` section in setup.cfg (pytest < 3.0's name for it): pytest 7+ stops with "[pytest] section in
    setup.cfg files is no longer supported". Run pytest with an empty configuration file instead, rooted at the
    project, and pass the section's collection settings as `-o` options; `addopts` and plugin settings are left
    out (the suite's results do not depend on how pytest prints them)."""
    args = ["-c", "/dev/null", "--rootdir", "."]
    for name in _LEGACY_PYTEST_SETTINGS:
        if parser.has_option("pytest", name):
            value = " ".join(parser.get("pytest", name).split())
            if value:
                args += ["-o", f"{name}={value}"]
    return TestCommand("pytest", tuple(args), "setup.cfg [pytest]")


def _from_pytest_ini(root: Path) -> TestCommand | None:
    if (root / "pytest.ini").is_file() or (root / ".pytest.ini").is_file():
        return TestCommand("pytest", (), "pytest.ini")
    return None


def _from_noxfile(root: Path) -> TestCommand | None:
    try:
        tree = ast.parse((root / "noxfile.py").read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, SyntaxError, ValueError):
        return None
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "run"):
            continue
        words = [arg.value for arg in node.args if isinstance(arg, ast.Constant) and isinstance(arg.value, str)]
        found = parse_command(words, "noxfile.py") if words else None
        if found is not None:
            return found
    return None


def _from_layout(root: Path) -> TestCommand:
    """No config names a runner: pytest, unless every test file is plain unittest."""
    files = [p for d in _TEST_DIRS for p in _python_files(root / d)] or [
        p for p in _python_files(root) if _is_test_file(p)
    ]
    if any(p.name == "conftest.py" for p in files) or not _unittest_only(files):
        return TestCommand("pytest", _pytest_file_names(files), "layout")
    pattern = _unittest_pattern(files)
    start = next((d for d in _TEST_DIRS if (root / d).is_dir()), None)
    if start is not None and not (root / start / "__init__.py").exists():
        return TestCommand("unittest", ("discover", "-s", start, *pattern), "layout")
    return TestCommand("unittest", ("discover", *pattern), "layout")


def _pytest_file_names(files: list[Path]) -> tuple[str, ...]:
    """pytest collects `test_*.py` and `*_test.py` only; a project whose tests live in `tests.py` (nose's and
    Django's convention) gets those collected too, else its suite would run 0 tests."""
    if any(p.name == "tests.py" for p in files):
        return ("-o", "python_files=test_*.py *_test.py tests.py")
    return ()


def _unittest_pattern(files: list[Path]) -> tuple[str, ...]:
    """`unittest discover` loads `test*.py` only: name the pattern the project's test files follow when they do
    not match it (`prettytable_test.py`, `tests.py`), else discovery finds 0 tests. unittest takes one pattern,
    so a project mixing conventions keeps the default."""
    names = [p.name for p in files if p.name != "conftest.py"]
    if not names or any(fnmatch.fnmatch(name, "test*.py") for name in names):
        return ()
    if all(name.endswith("_test.py") for name in names):
        return ("-p", "*_test.py")
    if all(name == "tests.py" for name in names):
        return ("-p", "tests.py")
    return ()


def _unittest_only(files: list[Path]) -> bool:
    saw_unittest = False
    for path in files:
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            continue
        if re.search(r"^\s*(import|from)\s+pytest\b", text, re.M):
            return False
        if re.search(r"^def test_", text, re.M):
            return False  # module-level test functions are a pytest idiom
        saw_unittest = saw_unittest or "unittest" in text
    return saw_unittest
