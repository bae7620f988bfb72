"""The one entry point: the environment a checkout's suite runs in — the user's own interpreter when they
chose one, else the project's declared environment, built (or reused) by uv in the sandbox."""

from __future__ import annotations

import os
import sys
from dataclasses import replace
from pathlib import Path

from evolve.configuration.model import EvolveConfig
from evolve.environments.build import Runner, build_environment
from evolve.environments.declarations import discover
from evolve.environments.install_plan import InstallPlan, make_plan
from evolve.environments.interpreters import (
    NoInterpreter,
    available_interpreters,
    candidate_paths,
    choose_interpreter,
    outside_of,
)
from evolve.environments.local_interpreter import chosen_interpreter
from evolve.environments.model import Environment, EnvironmentFailure, EnvironmentSettings
from evolve.environments.project_files import read_project_files
from evolve.environments.store import EnvironmentStore
from evolve.environments.uv_tool import uv_version


def own_interpreter(note: str = "Evolve's own interpreter") -> Environment:
    """Run the suite with the interpreter Evolve runs on (only what is installed next to Evolve is importable)."""
    version = ".".join(map(str, sys.version_info[:3]))
    return Environment(python=sys.executable, kind="evolve", description=f"Python {version} ({note})")


def plan_environment(
    root: Path, config: EvolveConfig, settings: EnvironmentSettings, runner: str
) -> InstallPlan | EnvironmentFailure:
    """Discover the declarations of `root`, choose the interpreter, and name the environment (its key)."""
    files = read_project_files(root)
    declared = discover(files)
    store = EnvironmentStore(settings.store_dir, settings.max_bytes)
    probes = store.root / "interpreters.json"
    wanted = config.gates.tests.python
    trees = [Path(root), *([Path(settings.repository)] if os.path.isabs(settings.repository) else [])]
    try:
        # PATH and pyenv first; `uv python find` (a process start) only when they have nothing that fits.
        found = available_interpreters(outside_of(candidate_paths(with_uv=False), trees), probes)
        interpreter = choose_interpreter(found, declared.requires_python, wanted)
    except NoInterpreter:
        try:
            found = available_interpreters(outside_of(candidate_paths(), trees), probes)
            interpreter = choose_interpreter(found, declared.requires_python, wanted)
        except NoInterpreter as error:
            return EnvironmentFailure(str(error))
    return make_plan(
        declared,
        files,
        interpreter,
        runner=runner,
        configured=config.gates.tests.install,
        index=(settings.index_url, settings.extra_index_url, "offline" if not settings.install_network else None),
        uv_version=uv_version(),
        repository=settings.repository,
    )


def prepare_environment(
    root: Path, config: EvolveConfig, settings: EnvironmentSettings, runner: Runner | None = None
) -> Environment | EnvironmentFailure:
    """The environment for the suite of `root`. Never raises for the project's problems: a failure is a value.
    Its tests may have the installs' egress only where the operator allows it (`settings.tests_network`)."""
    found = _prepare(root, config, settings, runner)
    if isinstance(found, Environment) and settings.tests_network:
        return replace(found, egress=settings.egress_policy)
    return found


def _prepare(
    root: Path, config: EvolveConfig, settings: EnvironmentSettings, runner: Runner | None
) -> Environment | EnvironmentFailure:
    if settings.python:
        return chosen_interpreter(settings.python, settings.python_origin, settings.store_dir / "interpreters.json")
    if not settings.build:
        return own_interpreter()
    from evolve.environments.test_commands import detect_test_command

    try:
        command = detect_test_command(Path(root), config.gates.tests.command)
    except ValueError as error:
        return EnvironmentFailure(str(error))
    if command is None:
        return own_interpreter("no tests found: nothing to build")
    plan = plan_environment(Path(root), config, settings, command.runner)
    if isinstance(plan, EnvironmentFailure):
        return plan
    store = EnvironmentStore(settings.store_dir, settings.max_bytes)
    if runner is None:
        return build_environment(Path(root), plan, store, settings)
    return build_environment(Path(root), plan, store, settings, runner)
