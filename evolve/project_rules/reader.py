"""Read a checkout's linter, formatter and type-checker config files into ProjectRules (the only I/O here).

Each tool's files are looked up in the order the tool itself uses; a file that cannot be read becomes a
problem on the value (reported, never raised) and that tool counts as unconfigured.
"""

from __future__ import annotations

import json
import os
import re
import sys
from collections.abc import Callable, Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any, TypeVar

from evolve.project_rules import ini_configs, pyproject_configs
from evolve.project_rules.model import LinterRules, ProjectRules
from evolve.project_rules.pre_commit import (
    FLAKE8_HOOKS,
    RUFF_HOOKS,
    PreCommitError,
    PreCommitHook,
    apply_hook,
    parse_pre_commit,
)
from evolve.project_rules.ruff_config import DEFAULT_SELECT, has_format_section, merge_extended, ruff_rules
from evolve.project_rules.vetted_options import merge_ruff_tables, path_leaves_tree, toml_text, vet_ruff_table

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised only on 3.10
    import tomli as tomllib

T = TypeVar("T")
MAX_EXTEND_DEPTH = 8
MAX_CONFIG_BYTES = 1_000_000


class _Reader:
    """Reads config files under one root, remembering what could not be read."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.problems: list[str] = []
        self.refused: list[str] = []  # settings naming a place outside the tree, left out of what tools get
        self._toml: dict[str, dict[str, Any] | None] = {}
        self._ini: dict[str, Any] = {}

    def text(self, name: str) -> str | None:
        path = self.root / name
        try:
            if not path.is_file():
                return None
            # Judged by where it really leads (through every link), not by how its name reads.
            if not path.resolve().is_relative_to(self.root.resolve()):
                self.refused.append(f"{name} leads outside the repository (a symbolic link); not read")
                return None
            if path.stat().st_size > MAX_CONFIG_BYTES:
                self.problems.append(f"{name}: larger than {MAX_CONFIG_BYTES} bytes; ignored")
                return None
            return path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as error:
            self.problems.append(f"{name}: cannot be read: {error}")
            return None

    def toml(self, name: str) -> dict[str, Any] | None:
        if name not in self._toml:
            text = self.text(name)
            data = None
            if text is not None:
                try:
                    data = tomllib.loads(text)
                except tomllib.TOMLDecodeError as error:
                    self.problems.append(f"{name}: not valid TOML: {error}")
            self._toml[name] = data
        return self._toml[name]

    def ini(self, name: str) -> Any:
        if name not in self._ini:
            text = self.text(name)
            parsed = None
            if text is not None:
                try:
                    parsed = ini_configs.parse_ini(text, name)
                except ini_configs.IniError as error:
                    self.problems.append(str(error))
            self._ini[name] = parsed
        return self._ini[name]

    def tool_table(self, tool: str) -> Mapping[str, Any] | None:
        table = ((self.toml("pyproject.toml") or {}).get("tool") or {}).get(tool)
        return table if isinstance(table, Mapping) else None

    def first_ini(self, names: tuple[str, ...], build: Callable[[Any, str], T | None]) -> T | None:
        for name in names:
            parsed = self.ini(name)
            if parsed is not None:
                found = build(parsed, name)
                if found is not None:
                    return found
        return None


def _ruff_table(reader: _Reader) -> tuple[dict[str, Any], str, dict[str, Any]] | None:
    """The root ruff config (`.ruff.toml` > `ruff.toml` > `[tool.ruff]`, ruff's own order), `extend` chain merged:
    the linter's view (for the planner), its source, and the whole merged table (for the config Evolve writes)."""
    for name in (".ruff.toml", "ruff.toml", "pyproject.toml"):
        data = reader.toml(name)
        if data is None:
            continue
        table = data if name != "pyproject.toml" else (data.get("tool") or {}).get("ruff")
        if not isinstance(table, Mapping):
            continue
        return _with_source(reader, dict(table), name)
    return None


def _with_source(reader: _Reader, table: dict[str, Any], name: str) -> tuple[dict[str, Any], str, dict[str, Any]]:
    merged, full = _follow_extends(reader, table, Path(name))
    return merged, name, full


def _extend_refusal(reader: _Reader, location: Path, value: str) -> str | None:
    """Why ruff's `extend = value` in `location` is refused (it names a file outside the tree), or None."""
    if os.path.isabs(value) or value.startswith("~") or "\0" in value:
        return f"ruff `extend` in {location} names a file outside the repository ({value}); refused"
    target = reader.root / location.parent / value
    try:
        inside = target.resolve().is_relative_to(reader.root.resolve())
    except (OSError, RuntimeError, ValueError):
        inside = False
    if not inside:
        return f"ruff `extend` in {location} names a file outside the repository ({value}); refused"
    return None


def _follow_extends(reader: _Reader, table: dict[str, Any], location: Path) -> tuple[dict[str, Any], dict[str, Any]]:
    chain = [table]
    seen = {location.as_posix()}
    while isinstance(chain[-1].get("extend"), str) and len(chain) < MAX_EXTEND_DEPTH:
        refusal = _extend_refusal(reader, location, chain[-1]["extend"])
        if refusal is not None:
            reader.refused.append(refusal)
            break
        target = os.path.normpath((location.parent / chain[-1]["extend"]).as_posix())
        if target in seen:
            reader.problems.append(f"{location}: ruff `extend` cycle at {target}")
            break
        seen.add(target)
        data = reader.toml(target)
        if data is None:
            reader.problems.append(f"{location}: ruff `extend` names {target}, which cannot be read in the repository")
            break
        parent = data if not target.endswith("pyproject.toml") else (data.get("tool") or {}).get("ruff") or {}
        chain.append(dict(parent))
        location = Path(target)
    merged: dict[str, Any] = chain[-1]
    full: dict[str, Any] = dict(chain[-1])
    for child in reversed(chain[:-1]):
        merged = merge_extended(merged, child)
        full = merge_ruff_tables(full, child)
    return merged, full


def read_project_rules(root: Path) -> ProjectRules:
    """Every rule source of the checkout at `root`, as one value. Never raises for broken config files."""
    reader = _Reader(Path(root))
    hooks: tuple[PreCommitHook, ...] = ()
    for name in (".pre-commit-config.yaml", ".pre-commit-config.yml"):
        text = reader.text(name)
        if text is not None:
            try:
                hooks = parse_pre_commit(text, name)
            except PreCommitError as error:
                reader.problems.append(str(error))
            break
    reader.refused.extend(_hook_path_refusals(hooks))
    ruff_found = _ruff_table(reader)
    ruff = ruff_rules(ruff_found[0], ruff_found[1]) if ruff_found else None
    ruff_config = None
    if ruff_found:
        vetted, refused = vet_ruff_table(ruff_found[2], ruff_found[1])
        reader.refused.extend(refused)
        if "target-version" not in vetted and (inferred := _ruff_target_version(reader)):
            vetted["target-version"] = inferred  # what ruff itself infers from a pyproject beside its config
        ruff_config = _written(reader, lambda: toml_text(vetted), "ruff")
    flake8 = reader.first_ini((".flake8", "setup.cfg", "tox.ini"), ini_configs.flake8_rules)
    for hook in hooks:
        if hook.id in RUFF_HOOKS:
            ruff = apply_hook(ruff or LinterRules("ruff", "pre-commit (ruff defaults)", DEFAULT_SELECT), hook)
        elif hook.id in FLAKE8_HOOKS:
            base = flake8 or LinterRules(
                "flake8", "pre-commit (flake8 defaults)", ini_configs.FLAKE8_SELECT, ini_configs.FLAKE8_IGNORE
            )
            flake8 = apply_hook(base, hook)
    mypy = reader.first_ini(("mypy.ini", ".mypy.ini"), ini_configs.mypy_rules)
    if mypy is None and (table := reader.tool_table("mypy")) is not None:
        mypy = pyproject_configs.mypy_rules(table, "pyproject.toml")
    if mypy is None:
        mypy = reader.first_ini(("setup.cfg",), ini_configs.mypy_rules)
    pyright = _pyright(reader)
    pylint = reader.first_ini(("pylintrc", ".pylintrc"), ini_configs.pylint_rules)
    if pylint is None and (table := reader.tool_table("pylint")) is not None:
        pylint = pyproject_configs.pylint_rules(table, "pyproject.toml")
    if pylint is None:
        pylint = reader.first_ini(("setup.cfg", "tox.ini"), ini_configs.pylint_rules)
    black_table = reader.tool_table("black")
    black_config = _written(reader, lambda: _black_config(reader, black_table), "black") if black_table else None
    isort = reader.first_ini((".isort.cfg",), ini_configs.isort_rules)
    if isort is None and (table := reader.tool_table("isort")) is not None:
        isort = pyproject_configs.isort_rules(table, "pyproject.toml")
    if isort is None:
        isort = reader.first_ini(("setup.cfg", "tox.ini"), ini_configs.isort_rules)
    rules = ProjectRules(
        ruff=ruff,
        flake8=flake8,
        pylint=pylint,
        black=pyproject_configs.black_rules(black_table, "pyproject.toml") if black_table is not None else None,
        isort=isort,
        mypy=mypy,
        pyright=pyright,
        pre_commit=hooks,
        ruff_formats=bool(ruff_found and has_format_section(ruff_found[0])) or _scripts_run_ruff_format(reader),
        ruff_config=ruff_config,
        black_config=black_config,
    )
    return replace(rules, problems=tuple(reader.problems), refused=tuple(reader.refused))


# Hook arguments that name a config file for the tool; Evolve passes none of them on (only selection flags), and
# says so when one names a file outside the tree.
_CONFIG_FLAGS = ("--config", "--config-file", "--settings-path", "--settings-file", "--rcfile", "--extend")


def _hook_path_refusals(hooks: tuple[PreCommitHook, ...]) -> list[str]:
    """One sentence per pre-commit hook argument that points a tool at a config file outside the tree."""
    refused = []
    for hook in hooks:
        for index, arg in enumerate(hook.args):
            flag, equals, value = arg.partition("=")
            if flag not in _CONFIG_FLAGS:
                continue
            if not equals:
                value = hook.args[index + 1] if index + 1 < len(hook.args) else ""
            if value and "=" not in value and path_leaves_tree(value):
                refused.append(
                    f"pre-commit hook {hook.id}: `{flag} {value}` names a file outside the repository; refused"
                )
    return refused


_REQUIRES_PYTHON = re.compile(r"^\s*>=\s*3\.(\d{1,2})\b")


def _ruff_target_version(reader: _Reader) -> str | None:
    """ruff's `target-version` as ruff infers it from `requires-python = ">=3.N"`, or None."""
    requires = ((reader.toml("pyproject.toml") or {}).get("project") or {}).get("requires-python")
    found = _REQUIRES_PYTHON.match(requires) if isinstance(requires, str) else None
    return f"py3{found.group(1)}" if found and 7 <= int(found.group(1)) <= 13 else None


def _black_config(reader: _Reader, table: Mapping[str, Any]) -> str:
    """`[tool.black]` as black gets it, with `requires-python` (black infers its target versions from it)."""
    text = toml_text(table, "tool.black")
    requires = ((reader.toml("pyproject.toml") or {}).get("project") or {}).get("requires-python")
    return text + toml_text({"requires-python": requires}, "project") if isinstance(requires, str) else text


def _written(reader: _Reader, write: Callable[[], str], tool: str) -> str | None:
    """The config text Evolve hands `tool`, or None (and a problem) when the settings cannot be written back."""
    try:
        return write()
    except (TypeError, ValueError, RecursionError) as error:
        reader.problems.append(f"{tool} settings cannot be handed to {tool}: {error}")
        return None


# `ruff format` run by a task file or CI workflow (with --check or --diff too: the project holds its code to it).
_RUFF_FORMAT = re.compile(r"\bruff\s+format\b")
SCRIPT_FILES = ("tox.ini", "noxfile.py", "Makefile", "justfile", "hatch.toml")


def _scripts_run_ruff_format(reader: _Reader) -> bool:
    """Whether the project's task files or CI workflows run `ruff format` (read as text, never executed)."""
    names = list(SCRIPT_FILES)
    workflows = reader.root / ".github" / "workflows"
    if workflows.is_dir() and not workflows.is_symlink():
        names += sorted(f".github/workflows/{p.name}" for p in workflows.iterdir() if p.suffix in (".yml", ".yaml"))[
            :50
        ]
    return any(_RUFF_FORMAT.search(reader.text(name) or "") for name in names)


def _pyright(reader: _Reader):
    text = reader.text("pyrightconfig.json")
    if text is not None:
        try:
            data = json.loads(text)
        except json.JSONDecodeError as error:
            reader.problems.append(f"pyrightconfig.json: not valid JSON: {error}")
        else:
            if isinstance(data, dict):
                return pyproject_configs.pyright_rules(data, "pyrightconfig.json")
    table = reader.tool_table("pyright")
    return pyproject_configs.pyright_rules(table, "pyproject.toml") if table is not None else None
