"""From what a project declares to what uv installs, and the key that names the result."""

from __future__ import annotations

import hashlib
import json
import platform
import shlex
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

from evolve.environments.declarations import Declared
from evolve.environments.interpreters import Interpreter
from evolve.environments.requirements_files import classify_requirement, requirement_name

KEY_SCHEMA = 3  # 3: the repository is part of the key; Evolve's record lives outside the environment
InstallMode = Literal["editable", "regular", "without-project"]
REPO_IN_SANDBOX = "/work/repo"  # where the sandbox shows the tree (the editable install points there)


@dataclass(frozen=True)
class InstallPlan:
    """Everything that decides one environment; `key` hashes all of it."""

    interpreter: Interpreter
    requirements: tuple[str, ...]  # declared + configured + what Evolve adds
    constraints: tuple[str, ...]
    install_self: bool
    extras: tuple[str, ...]
    commands: tuple[str, ...]  # configured commands (gates.tests.install entries that are not requirements)
    added: tuple[str, ...]  # what Evolve added: the runner if undeclared, coverage
    sources: tuple[str, ...]
    notes: tuple[str, ...]
    key: str

    def project_spec(self) -> str | None:
        """`/work/repo[test,yaml]` (the tree as the sandbox shows it), or None when the project is not installed."""
        if not self.install_self:
            return None
        return REPO_IN_SANDBOX + (f"[{','.join(self.extras)}]" if self.extras else "")

    def install_argv(self, uv: str, python: str, mode: InstallMode, constraints_file: str | None = None) -> list[str]:
        """`uv pip install --python ENV -e /work/repo[test] req ...` (constraints from a file we wrote)."""
        argv = [uv, "pip", "install", "--python", python]
        spec = self.project_spec()
        if spec and mode != "without-project":
            argv += ["-e", spec] if mode == "editable" else [spec]
        argv += list(self.requirements)
        if constraints_file and self.constraints:
            argv += ["--constraint", constraints_file]
        return argv


def split_configured(entries: Sequence[str]) -> tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...]]:
    """`gates.tests.install` entries: requirement strings, commands (anything with a space that is not a
    requirement), and notes about entries that are neither."""
    requirements: list[str] = []
    commands: list[str] = []
    notes: list[str] = []
    for entry in entries:
        entry = entry.strip()
        if not entry:
            continue
        found = classify_requirement(entry)
        if found.requirements:
            requirements += found.requirements
        elif " " in entry or entry.startswith(("./", "/")):
            commands.append(entry)
        else:
            notes.append(f"gates.tests.install entry {entry!r} is neither a requirement nor a command")
    return tuple(requirements), tuple(commands), tuple(notes)


def _platform() -> list[str]:
    return [sys.platform, platform.machine(), "-".join(platform.libc_ver())]


def make_plan(
    declared: Declared,
    files: Mapping[str, str],
    interpreter: Interpreter,
    *,
    runner: str,
    configured: Sequence[str] = (),
    index: Sequence[str | None] = (),
    uv_version: str = "",
    repository: str = "",
) -> InstallPlan:
    """The install plan (and its key) for a project on one interpreter. `repository` names whose environment it
    is: two repositories with the same declarations still get two environments (no tenant runs another's build)."""
    configured_requirements, commands, notes = split_configured(configured)
    requirements = list(dict.fromkeys((*declared.requirements, *configured_requirements)))
    names = {requirement_name(r) for r in requirements}
    added = []
    # pytest runs the tests (a project declaring only nose still gets it: sortedcontainers 1.5.10's nose-style
    # tests run under pytest). A unittest suite gets pytest too, as it gets coverage: the mutation worker runs a
    # mutant's covering tests with pytest (which runs TestCase classes), the suite itself still runs with
    # `python -m unittest`. A project's own command that names a runner gets none.
    needs_pytest = runner == "pytest" or not declared.declares_runner
    if needs_pytest and "pytest" not in names:
        added.append("pytest")
    if runner in ("pytest", "other"):
        added += [p for p in declared.pytest_plugins if requirement_name(p) not in names]
    if "coverage" not in names:
        added.append("coverage")
    requirements += added
    decided = {
        "schema": KEY_SCHEMA,
        "files": {
            path: hashlib.sha256(files[path].encode()).hexdigest() for path in sorted(declared.files) if path in files
        },
        "interpreter": [interpreter.path, interpreter.version_text, interpreter.implementation],
        "platform": _platform(),
        "configured": list(configured),
        "requirements": requirements,
        "constraints": list(declared.constraints),
        "self": [declared.install_self, list(declared.extras)],
        "index": list(index),
        "uv": uv_version,
        "repository": repository,
    }
    key = hashlib.sha256(json.dumps(decided, sort_keys=True).encode()).hexdigest()[:24]
    return InstallPlan(
        interpreter=interpreter,
        requirements=tuple(requirements),
        constraints=declared.constraints,
        install_self=declared.install_self,
        extras=declared.extras,
        commands=commands,
        added=tuple(added),
        sources=declared.sources,
        notes=(*declared.dropped_notes(), *notes),
        key=key,
    )


def shell_line(argv: Sequence[str]) -> str:
    """An argv as one shell line, for reports."""
    return shlex.join(argv)
