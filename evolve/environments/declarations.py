"""What a project declares for running its tests, read from its files' texts (no I/O, nothing executed).

A CI service that has never seen a project looks in the same places: PEP 735 dependency groups, extras,
requirements files, tox / nox / hatch / Poetry configuration, setup.cfg and literal setup.py arguments.
"""

from __future__ import annotations

import ast
import configparser
import re
import sys
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from evolve.environments.poetry import poetry_constraint, poetry_requirements
from evolve.environments.requirements_files import (
    DEV_REQUIREMENT_FILES,
    TEST_REQUIREMENT_FILES,
    RequirementSet,
    read_requirement_file,
    requirement_name,
    requirement_set,
)
from evolve.environments.tox_nox import RunnerDeclaration, parse_ini, read_noxfile, read_tox

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised only on 3.10
    import tomli as tomllib

TEST_NAMES = ("test", "tests", "testing")
DEV_NAMES = ("dev", "develop", "development")
RUNNERS = frozenset({"pytest", "nose", "nose2"})
# Options in pytest's `addopts` that exist only with a plugin installed: without it pytest will not start.
PLUGIN_OPTIONS = (
    (r"\s--cov(\b|-)", "pytest-cov"),
    (r"\s(-n\s*\S|--numprocesses|--dist\b)", "pytest-xdist"),
    (r"\s--timeout\b", "pytest-timeout"),
    (r"\s--benchmark-", "pytest-benchmark"),
    (r"\s--reruns\b", "pytest-rerunfailures"),
    (r"\s--mypy\b", "pytest-mypy"),
    (r"\s--flake8\b", "pytest-flake8"),
    (r"\s--randomly-", "pytest-randomly"),
    (r"\s--asyncio-mode\b", "pytest-asyncio"),
    (r"\s--html\b", "pytest-html"),
)
# Files whose content decides the environment (besides requirement files found on the way).
DEPENDENCY_FILES = (
    "pyproject.toml",
    "setup.py",
    "setup.cfg",
    "tox.ini",
    "noxfile.py",
    "requirements.txt",
    "uv.lock",
    "poetry.lock",
    "pdm.lock",
    "Pipfile",
    "Pipfile.lock",
    *TEST_REQUIREMENT_FILES,
    *DEV_REQUIREMENT_FILES,
)


@dataclass(frozen=True)
class Declared:
    """Everything the project declares for its test environment, and where each part came from."""

    requirements: tuple[str, ...] = ()  # PEP 508 strings and `./path` local projects inside the tree
    constraints: tuple[str, ...] = ()
    extras: tuple[str, ...] = ()  # extras of the project itself
    install_self: bool = False  # the project has packaging metadata and should be installed
    requires_python: str | None = None
    sources: tuple[str, ...] = ()  # human-readable: "pyproject.toml [dependency-groups] test"
    files: tuple[str, ...] = ()  # the files read: they decide the environment
    dropped: tuple[str, ...] = ()  # declarations we did not pass on, with why
    pytest_plugins: tuple[str, ...] = ()  # plugins the pytest configuration needs (required_plugins, addopts)

    def dropped_notes(self) -> tuple[str, ...]:
        """One note per declaration not passed on to the installer."""
        return tuple(f"not installed: {item}" for item in self.dropped)

    @property
    def declares_runner(self) -> bool:
        """Whether the project names a test runner (pytest, nose) itself."""
        return any(requirement_name(r) in RUNNERS for r in self.requirements)


def parse_toml(text: str | None) -> dict[str, Any]:
    """A TOML document, or an empty one when it is missing or broken."""
    if not text:
        return {}
    try:
        return tomllib.loads(text)
    except (tomllib.TOMLDecodeError, ValueError):
        return {}


def _ini(text: str | None) -> configparser.ConfigParser | None:
    return parse_ini(text) if text else None


def _pick(names: Iterable[str]) -> list[str]:
    """The test-like names present; the dev-like ones only when there is no test-like one."""
    present = list(names)
    normal = {re.sub(r"[-_.]+", "-", n).lower(): n for n in present}
    tests = [normal[n] for n in TEST_NAMES if n in normal]
    return tests or [normal[n] for n in DEV_NAMES if n in normal]


def _pick_or_runner(table: Mapping[str, Any], members: Callable[[str], list[str]]) -> list[str]:
    """Test-like names (else dev-like); failing both, the names whose requirements include a test runner
    (a project's `all` extra that lists pytest and hypothesis is what its CI installs)."""
    chosen = _pick(table)
    if chosen:
        return chosen
    return [name for name in table if any(requirement_name(r) in RUNNERS for r in members(name))][:1]


def dependency_group(groups: Mapping[str, Any], name: str, seen: frozenset[str] = frozenset()) -> list[str]:
    """PEP 735: the requirements of one group, with `{include-group = ...}` expanded (cycles ignored)."""
    normal = {re.sub(r"[-_.]+", "-", key).lower(): key for key in groups}
    key = normal.get(re.sub(r"[-_.]+", "-", name).lower())
    if key is None or key in seen or not isinstance(groups[key], list):
        return []
    found: list[str] = []
    for item in groups[key]:
        if isinstance(item, str):
            found.append(item)
        elif isinstance(item, dict) and isinstance(item.get("include-group"), str):
            found += dependency_group(groups, item["include-group"], seen | {key})
    return found


class _Collector:
    """Accumulates declarations in the order a CI service would apply them."""

    def __init__(self) -> None:
        self.requirements = RequirementSet()
        self.extras: list[str] = []
        self.sources: list[str] = []
        self.install_self: bool | None = None

    def add(self, source: str, found: RequirementSet, extras: Iterable[str] = ()) -> None:
        extras = list(extras)
        if not (found.requirements or found.constraints or found.self_extras or found.installs_self or extras):
            return
        self.requirements = self.requirements.merged(found)
        self.extras += [e for e in (*found.self_extras, *extras) if e not in self.extras]
        self.sources.append(source)


def _pyproject(collector: _Collector, data: Mapping[str, Any]) -> None:
    groups = data.get("dependency-groups", {})
    if isinstance(groups, dict):
        for name in _pick_or_runner(groups, lambda name: dependency_group(groups, name)):
            collector.add(f"pyproject.toml [dependency-groups] {name}", requirement_set(dependency_group(groups, name)))
    optional = data.get("project", {}).get("optional-dependencies", {})
    if isinstance(optional, dict):
        listed = {k: [r for r in v if isinstance(r, str)] if isinstance(v, list) else [] for k, v in optional.items()}
        for name in _pick_or_runner(listed, lambda name: listed[name]):
            collector.add(f"pyproject.toml [project.optional-dependencies] {name}", RequirementSet(), [name])
    hatch = data.get("tool", {}).get("hatch", {}).get("envs", {})
    if isinstance(hatch, dict):
        for name in ("default", "test", "tests", "hatch-test"):
            env = hatch.get(name)
            if isinstance(env, dict):
                items = [
                    d for key in ("dependencies", "extra-dependencies") for d in env.get(key, []) if isinstance(d, str)
                ]
                features = [f for f in env.get("features", []) if isinstance(f, str)]
                collector.add(f"pyproject.toml [tool.hatch.envs.{name}]", requirement_set(items), features)
    poetry = data.get("tool", {}).get("poetry", {})
    if isinstance(poetry, dict):
        poetry_groups = poetry.get("group", {})
        for name in _pick(poetry_groups) if isinstance(poetry_groups, dict) else []:
            table = poetry_groups[name].get("dependencies", {}) if isinstance(poetry_groups[name], dict) else {}
            collector.add(f"pyproject.toml [tool.poetry.group.{name}]", requirement_set(poetry_requirements(table)))
        if isinstance(poetry.get("dev-dependencies"), dict):
            collector.add(
                "pyproject.toml [tool.poetry.dev-dependencies]",
                requirement_set(poetry_requirements(poetry["dev-dependencies"])),
            )


def _setup_cfg(collector: _Collector, parser: configparser.ConfigParser | None) -> None:
    if parser is None or not parser.has_section("options.extras_require"):
        return
    for name in _pick(parser.options("options.extras_require")):
        collector.add(f"setup.cfg [options.extras_require] {name}", RequirementSet(), [name])


def _setup_py_literals(text: str | None) -> dict[str, Any]:
    """Literal keyword arguments of the `setup(...)` call (extras_require keys, tests_require, python_requires)."""
    if not text:
        return {}
    try:
        tree = ast.parse(text)
    except (SyntaxError, ValueError):
        return {}
    found: dict[str, Any] = {}
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        for keyword in node.keywords:
            if keyword.arg in ("extras_require", "tests_require", "python_requires"):
                try:
                    found[keyword.arg] = ast.literal_eval(keyword.value)
                except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
                    if keyword.arg == "extras_require" and isinstance(keyword.value, ast.Dict):
                        keys = [k.value for k in keyword.value.keys if isinstance(k, ast.Constant)]
                        found[keyword.arg] = {key: () for key in keys}
    return found


def _setup_py(collector: _Collector, literals: Mapping[str, Any]) -> None:
    extras = literals.get("extras_require")
    if isinstance(extras, dict):
        for name in _pick(k for k in extras if isinstance(k, str)):
            collector.add(f"setup.py extras_require {name}", RequirementSet(), [name])
    tests_require = literals.get("tests_require")
    if isinstance(tests_require, (list, tuple)):
        collector.add("setup.py tests_require", requirement_set(str(r) for r in tests_require))


def _requirement_files(collector: _Collector, files: Mapping[str, str]) -> None:
    tests = [path for path in TEST_REQUIREMENT_FILES if path in files]
    for path in tests or [path for path in DEV_REQUIREMENT_FILES if path in files]:
        collector.add(path, read_requirement_file(files, path))


def _runner(collector: _Collector, found: RunnerDeclaration | None) -> bool:
    if found is None:
        return False
    collector.add(found.source, found.requirements, found.extras)
    if found.skip_install and collector.install_self is None:
        collector.install_self = False
    return True


def has_packaging_metadata(files: Mapping[str, str], pyproject: Mapping[str, Any]) -> bool:
    """Whether the project can be built and installed (pyproject [project]/[build-system], setup.py, setup.cfg)."""
    if "setup.py" in files:
        return True
    if "name" in pyproject.get("project", {}) or "build-backend" in pyproject.get("build-system", {}):
        return True
    if "name" in pyproject.get("tool", {}).get("poetry", {}):
        return True
    parser = _ini(files.get("setup.cfg"))
    return parser is not None and parser.has_option("metadata", "name")


def requires_python(files: Mapping[str, str], pyproject: Mapping[str, Any], literals: Mapping[str, Any]) -> str | None:
    """The project's `requires-python` (pyproject, setup.cfg, setup.py or Poetry's `python` dependency)."""
    declared = pyproject.get("project", {}).get("requires-python")
    if isinstance(declared, str):
        return declared
    parser = _ini(files.get("setup.cfg"))
    if parser is not None and parser.has_option("options", "python_requires"):
        return parser.get("options", "python_requires").strip()
    if isinstance(literals.get("python_requires"), str):
        return literals["python_requires"]
    poetry_python = pyproject.get("tool", {}).get("poetry", {}).get("dependencies", {}).get("python")
    if isinstance(poetry_python, str):
        return poetry_constraint(poetry_python) or None
    return None


def _pytest_settings(files: Mapping[str, str], pyproject: Mapping[str, Any]) -> dict[str, str]:
    """The pytest ini options from wherever pytest would read them first."""
    options = pyproject.get("tool", {}).get("pytest", {}).get("ini_options")
    if isinstance(options, dict):
        return {k: " ".join(v) if isinstance(v, list) else str(v) for k, v in options.items()}
    for path, section in (
        ("pytest.ini", "pytest"),
        (".pytest.ini", "pytest"),
        ("tox.ini", "pytest"),
        ("setup.cfg", "tool:pytest"),
    ):
        parser = _ini(files.get(path))
        if parser is not None and parser.has_section(section):
            return dict(parser.items(section))
    return {}


def pytest_plugins(files: Mapping[str, str], pyproject: Mapping[str, Any]) -> tuple[str, ...]:
    """Plugins pytest cannot start without: `required_plugins`, and those whose options `addopts` uses."""
    settings = _pytest_settings(files, pyproject)
    found = [r for r in settings.get("required_plugins", "").split() if requirement_name(r)]
    addopts = f" {settings.get('addopts', '')} "
    for option, plugin in PLUGIN_OPTIONS:
        if re.search(option, addopts):
            found.append(plugin)
    return tuple(dict.fromkeys(found))


def discover(files: Mapping[str, str]) -> Declared:
    """Everything `files` (repository path -> text) declare for the test environment."""
    pyproject = parse_toml(files.get("pyproject.toml"))
    literals = _setup_py_literals(files.get("setup.py"))
    collector = _Collector()
    _pyproject(collector, pyproject)
    _setup_cfg(collector, _ini(files.get("setup.cfg")))
    _setup_py(collector, literals)
    _requirement_files(collector, files)
    if not _runner(collector, read_tox(files, pyproject)):
        _runner(collector, read_noxfile(files))
    metadata = has_packaging_metadata(files, pyproject)
    if not metadata and "requirements.txt" in files:
        # An application without packaging metadata: its runtime requirements are what CI installs first.
        collector.add("requirements.txt", read_requirement_file(files, "requirements.txt"))
    found = collector.requirements
    install_self = metadata and collector.install_self is not False
    read = [path for path in DEPENDENCY_FILES if path in files]
    return Declared(
        requirements=found.requirements,
        constraints=found.constraints,
        extras=tuple(collector.extras) if install_self else (),
        install_self=install_self,
        requires_python=requires_python(files, pyproject, literals),
        sources=tuple(collector.sources),
        files=tuple(dict.fromkeys((*read, *found.files))),
        dropped=found.dropped,
        pytest_plugins=pytest_plugins(files, pyproject),
    )
