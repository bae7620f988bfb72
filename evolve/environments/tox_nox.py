"""What tox and nox would install for the environment that runs the tests, read without running either.

tox configuration is parsed as INI text (tox.ini, setup.cfg `[tox:tox]`, pyproject `legacy_tox_ini`, or
tox 4's native `[tool.tox]` table); `noxfile.py` is parsed with `ast` and never imported.
"""

from __future__ import annotations

import ast
import configparser
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from evolve.environments.requirements_files import RequirementSet, read_requirement_file, requirement_set

_RUNS_TESTS = re.compile(r"(^|[\s/])(py\.test|pytest|unittest|nose2?|trial)(\s|$)|-m\s+(pytest|unittest)")
_REFERENCE = re.compile(r"\{\[(?P<section>[^\]]+)\](?P<key>[^}]+)\}")
_FACTOR_LINE = re.compile(r"^(?P<factors>[\w.,!-]+):\s*(?P<rest>.*)$")


@dataclass(frozen=True)
class RunnerDeclaration:
    """What one tool's configuration asks to install for its test environment."""

    source: str  # e.g. "tox.ini [testenv:py]" or "noxfile.py session tests"
    requirements: RequirementSet
    extras: tuple[str, ...] = ()
    skip_install: bool = False


def parse_ini(text: str) -> configparser.ConfigParser | None:
    """An INI file as tox, setuptools and flake8 read it (no interpolation, duplicates tolerated); None if broken."""
    parser = configparser.ConfigParser(interpolation=None, strict=False)
    try:
        parser.read_string(text)
    except configparser.Error:
        return None
    return parser


def substitute_references(value: str, parser: configparser.ConfigParser, depth: int = 0) -> str:
    """Replace tox's `{[section]key}` references with that key's value (recursively, bounded)."""
    if depth > 8:
        return value

    def replace(match: re.Match[str]) -> str:
        section, key = match.group("section"), match.group("key")
        if parser.has_option(section, key):
            return substitute_references(parser.get(section, key), parser, depth + 1)
        return ""

    return _REFERENCE.sub(replace, value)


def _factor_applies(expression: str, factors: set[str]) -> bool:
    """tox factor conditions: `py38,py39: x` means either; `py38-django: x` means both; `!pypy: x` means not."""
    for alternative in expression.split(","):
        parts = [part for part in alternative.strip().split("-") if part]
        if parts and all((part[1:] not in factors) if part.startswith("!") else (part in factors) for part in parts):
            return True
    return False


def _lines_for(value: str, factors: set[str]) -> list[str]:
    kept = []
    for raw in value.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        conditional = _FACTOR_LINE.match(line)
        if conditional and not re.match(r"^\w+://", line):
            if not _factor_applies(conditional.group("factors"), factors):
                continue
            line = conditional.group("rest").strip()
        kept.append(line)
    return kept


def _test_env(parser: configparser.ConfigParser, prefix: str) -> tuple[str, str] | None:
    """The section that runs the tests and its env name: the base `[testenv]` if it does, else the first that does."""
    sections = [s for s in parser.sections() if s == prefix or s.startswith(prefix + ":")]
    base = prefix if parser.has_section(prefix) else None

    def runs_tests(section: str) -> bool:
        commands = parser.get(section, "commands", fallback="")
        if not commands and section != prefix and base:
            commands = parser.get(base, "commands", fallback="")
        return bool(_RUNS_TESTS.search(substitute_references(commands, parser)))

    envlist = _envlist(parser)
    if base and runs_tests(base):
        name = next((env for env in envlist if re.match(r"^py\d*(-|$)", env)), "py")
        return base, name
    for section in sections:
        if section != prefix and runs_tests(section):
            return section, section.split(":", 1)[1]
    return (base, "py") if base else None


def _envlist(parser: configparser.ConfigParser) -> list[str]:
    for section in ("tox", "tox:tox"):
        if parser.has_option(section, "envlist"):
            raw = parser.get(section, "envlist")
            return [env.strip() for env in re.split(r"[\s,]+", raw) if env.strip() and "{" not in env]
    return []


def read_tox_ini(text: str, source: str, prefix: str = "testenv") -> RunnerDeclaration | None:
    """deps, extras and skip_install of the tox environment that runs the tests."""
    parser = parse_ini(text)
    if parser is None:
        return None
    found = _test_env(parser, prefix)
    if found is None:
        return None
    section, env = found
    factors = set(env.split("-"))

    def option(name: str) -> str:
        value = parser.get(section, name, fallback=None)
        if value is None and section != prefix:
            value = parser.get(prefix, name, fallback=None) if parser.has_section(prefix) else None
        return substitute_references(value or "", parser)

    deps = RequirementSet()
    for line in _lines_for(option("deps"), factors):
        line = re.sub(r"\{toxinidir\}/?", "./", line).replace("./ ", ". ").rstrip("/")
        if "{" in line:  # a placeholder tox would fill in (`{toxinidir}`, `{env:X}`): unknowable here
            deps = deps.merged(RequirementSet(dropped=(f"{line} (a tox placeholder)",)))
            continue
        include = re.match(r"^(-r|--requirement)\s*=?\s*(?P<path>\S+)$", line)
        if include:
            deps = deps.merged(_requirements_file(include.group("path")))
            continue
        deps = deps.merged(requirement_set([line]))
    extras = tuple(e for line in _lines_for(option("extras"), factors) for e in re.split(r"[\s,]+", line) if e)
    skip = option("skip_install").strip().lower() in ("true", "1", "yes")
    return RunnerDeclaration(f"{source} [{section}]", deps, extras, skip)


def _requirements_file(path: str) -> RequirementSet:
    # A placeholder: the file's contents are read by the caller, which has the tree's files.
    return RequirementSet(requirements=(), files=(path,))


def read_tox(files: Mapping[str, str], pyproject: Mapping[str, Any]) -> RunnerDeclaration | None:
    """tox's test environment, from whichever file configures tox (tox.ini first, as tox does)."""
    found: RunnerDeclaration | None = None
    if "tox.ini" in files:
        found = read_tox_ini(files["tox.ini"], "tox.ini")
    elif "setup.cfg" in files and "[tox:tox]" in files["setup.cfg"]:
        found = read_tox_ini(files["setup.cfg"], "setup.cfg", prefix="testenv")
    else:
        tox = pyproject.get("tool", {}).get("tox", {})
        if isinstance(tox.get("legacy_tox_ini"), str):
            found = read_tox_ini(tox["legacy_tox_ini"], "pyproject.toml legacy_tox_ini")
        elif isinstance(tox.get("env_run_base"), dict):
            found = _native_tox(tox["env_run_base"])
    if found is None:
        return None
    return _with_included_files(found, files)


def _native_tox(table: Mapping[str, Any]) -> RunnerDeclaration:
    deps = [d for d in table.get("deps", []) if isinstance(d, str)]
    extras = tuple(e for e in table.get("extras", []) if isinstance(e, str))
    return RunnerDeclaration(
        "pyproject.toml [tool.tox.env_run_base]", requirement_set(deps), extras, bool(table.get("skip_install"))
    )


def _with_included_files(found: RunnerDeclaration, files: Mapping[str, str]) -> RunnerDeclaration:
    """Read the `-r file` lines the declaration named (files marked but not yet read)."""
    requirements = RequirementSet(
        requirements=found.requirements.requirements,
        constraints=found.requirements.constraints,
        self_extras=found.requirements.self_extras,
        installs_self=found.requirements.installs_self,
        dropped=found.requirements.dropped,
    )
    for path in found.requirements.files:
        requirements = requirements.merged(read_requirement_file(files, path.removeprefix("./")))
    return RunnerDeclaration(found.source, requirements, found.extras, found.skip_install)


# --- nox ----------------------------------------------------------------------------------------------


def read_noxfile(files: Mapping[str, str]) -> RunnerDeclaration | None:
    """`session.install(...)` arguments of the nox session that runs the tests (parsed, never imported)."""
    try:
        tree = ast.parse(files["noxfile.py"])
    except (KeyError, SyntaxError, ValueError):
        return None
    constants = _module_constants(tree)
    sessions = [node for node in tree.body if isinstance(node, ast.FunctionDef) and _is_session(node)]
    chosen = _test_session(sessions)
    if chosen is None:
        return None
    words: list[str] = []
    for node in ast.walk(chosen):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "install":
            words += _string_arguments(node.args, constants)
    result = RequirementSet()
    extras: tuple[str, ...] = ()
    index = 0
    while index < len(words):
        word = words[index]
        if word in ("-r", "--requirement", "-c", "--constraint") and index + 1 < len(words):
            included = read_requirement_file(files, words[index + 1].removeprefix("./"))
            result = result.merged(included)
            index += 2
            continue
        if word in ("-e", "--editable") and index + 1 < len(words):
            word = f"-e {words[index + 1]}"
            index += 1
        result = result.merged(requirement_set([word]))
        index += 1
    return RunnerDeclaration(f"noxfile.py session {chosen.name}", result, extras)


def _is_session(node: ast.FunctionDef) -> bool:
    for decorator in node.decorator_list:
        target = decorator.func if isinstance(decorator, ast.Call) else decorator
        name = target.attr if isinstance(target, ast.Attribute) else getattr(target, "id", "")
        if name == "session":
            return True
    return False


def _test_session(sessions: list[ast.FunctionDef]) -> ast.FunctionDef | None:
    def runs_tests(node: ast.FunctionDef) -> bool:
        for call in ast.walk(node):
            if isinstance(call, ast.Call) and isinstance(call.func, ast.Attribute) and call.func.attr == "run":
                words = " ".join(a.value for a in call.args if isinstance(a, ast.Constant) and isinstance(a.value, str))
                if _RUNS_TESTS.search(words):
                    return True
        return False

    named = [s for s in sessions if s.name in ("tests", "test", "testing", "unit", "unittests", "pytest")]
    return next((s for s in named + sessions if runs_tests(s)), named[0] if named else None)


def _module_constants(tree: ast.Module) -> dict[str, list[str]]:
    constants: dict[str, list[str]] = {}
    for node in tree.body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            value = node.value
            if isinstance(value, (ast.List, ast.Tuple)):
                strings = [e.value for e in value.elts if isinstance(e, ast.Constant) and isinstance(e.value, str)]
                if len(strings) == len(value.elts):
                    constants[node.targets[0].id] = strings
            elif isinstance(value, ast.Constant) and isinstance(value.value, str):
                constants[node.targets[0].id] = [value.value]
    return constants


def _string_arguments(args: list[ast.expr], constants: Mapping[str, list[str]]) -> list[str]:
    words: list[str] = []
    for arg in args:
        if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
            words.append(arg.value)
        elif isinstance(arg, ast.Starred) and isinstance(arg.value, ast.Name):
            words += constants.get(arg.value.id, [])
        elif isinstance(arg, ast.Name):
            words += constants.get(arg.id, [])
    return words
