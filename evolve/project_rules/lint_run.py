"""Run the project's own linters (ruff and/or flake8 as it configures them) on some files of one tree.

A project that configures no linter is checked with ruff's long-standing default rule set (E4, E7, E9, F:
syntax, undefined names, unused imports, comparisons to None...), passed explicitly so the result does not
depend on the installed ruff's defaults, and with `--isolated` so no config outside the tree is picked up.
ruff runs on the host but never reads the tree's config files: it gets the settings Evolve read and vetted
(`--config`, see `vetted_options.py`), or `--isolated`; its cache is off. flake8's config
can import repository code and write files, so flake8 runs in the sandbox: the project's own flake8 (with the
plugins its environment installs) when its environment has one, else Evolve's, and the run says which. Plugins
the project's pre-commit hook adds (`additional_dependencies`) that its environment lacks are named as not loaded.
"""

from __future__ import annotations

import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from evolve.environments.model import Environment
from evolve.project_rules.model import LinterRules, ProjectRules
from evolve.project_rules.project_tools import ToolInstall, choose_python_tool, installed_distributions
from evolve.project_rules.ruff_config import DEFAULT_SELECT
from evolve.project_rules.tools import run_tool, run_tool_sandboxed
from evolve.project_rules.violations import Violation, parse_flake8, parse_ruff_json


@dataclass(frozen=True)
class LintRun:
    """The violations the project's linters report on some files, which linters ran, and what went wrong."""

    violations: tuple[Violation, ...]
    linters: tuple[str, ...]  # "ruff (pyproject.toml)", "ruff defaults (no linter configured)", ...
    errors: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()
    unavailable: bool = False  # a linter is not installed, or the sandbox it needs is refused


def _first_lines(text: str, count: int = 5) -> str:
    return " ".join(line.strip() for line in text.strip().splitlines()[:count])


def run_ruff(
    root: Path, paths: Sequence[str], linter: LinterRules | None, timeout: float = 300.0, config: str | None = None
) -> tuple[list[Violation], str | None]:
    """ruff with the project's settings as Evolve read and vetted them (`config`, handed over with `--config`, so
    ruff reads no config file of the tree), or its classic defaults when the project configures none."""
    args = ["check", "--output-format", "json", "--no-fix", "--exit-zero", "--no-cache", "--force-exclude"]
    if linter is None:
        args += ["--isolated", "--select", ",".join(DEFAULT_SELECT)]
    elif config is None:  # a pre-commit hook without a ruff table: ruff's defaults and the hook's selection
        args += ["--isolated", *linter.hook_args]
    else:
        args += list(linter.hook_args)
    # Evolve names the output file itself, so nothing (e.g. RUFF_OUTPUT_FILE) can divert the report.
    with tempfile.TemporaryDirectory(prefix="evolve-ruff-") as scratch:
        report = Path(scratch) / "report.json"
        if config is not None:
            settings = Path(scratch) / "evolve-ruff.toml"
            settings.write_text(config, encoding="utf-8")
            args += ["--config", str(settings)]
        run = run_tool("ruff", [*args, "--output-file", str(report), "--", *paths], root, timeout=timeout)
        if run.missing or run.timed_out or run.returncode != 0:
            return [], f"ruff could not check the files: {_first_lines(run.stderr) or f'exit {run.returncode}'}"
        try:
            return parse_ruff_json(report.read_text(encoding="utf-8") if report.is_file() else "", root), None
        except ValueError as error:
            return [], f"ruff's output could not be read: {error}"


def run_flake8(
    root: Path, paths: Sequence[str], linter: LinterRules, timeout: float = 300.0, install: ToolInstall | None = None
) -> tuple[list[Violation], str | None]:
    """flake8 (the project environment's, else Evolve's) with the tree's config (setup.cfg, tox.ini, .flake8)."""
    if install is None:
        return (
            [],
            "flake8 could not check the files: it is installed neither in the project's environment nor in Evolve's",
        )
    args = ["--format=default", "--exit-zero", *linter.hook_args, "--", *paths]
    # flake8's config can import repository code (local plugins) and write files (`output-file`): sandbox it.
    run = run_tool_sandboxed("flake8", args, root, timeout=timeout, python=install.python, mounts=install.mounts)
    if run.missing or run.timed_out or run.returncode != 0:
        return [], f"flake8 could not check the files: {_first_lines(run.stderr) or f'exit {run.returncode}'}"
    return parse_flake8(run.stdout, root), None


def _normalised(requirement: str) -> str:
    name = requirement.strip()
    for stop in "[<>=!~;@ ":
        name = name.split(stop, 1)[0]
    return name.replace("_", "-").replace(".", "-").lower()


def lint_tree(
    root: Path,
    paths: Sequence[str],
    rules: ProjectRules,
    timeout: float = 300.0,
    environment: Environment | None = None,
) -> LintRun:
    """Lint `paths` (relative, existing Python files) of the tree at `root` under the project's own settings;
    flake8 is the one `environment` (the project's) installs, when it does."""
    root = Path(root)
    violations: list[Violation] = []
    linters: list[str] = []
    errors: list[str] = []
    notes: list[str] = []
    unavailable = False
    if not paths:
        return LintRun((), ())
    if rules.ruff is not None or rules.flake8 is None:
        found, error = run_ruff(root, paths, rules.ruff, timeout, rules.ruff_config)
        violations += found
        linters.append(f"ruff ({rules.ruff.source})" if rules.ruff else "ruff defaults (no linter configured)")
        errors += [error] if error else []
    if rules.flake8 is not None:
        install = choose_python_tool("flake8", environment)
        found, error = run_flake8(root, paths, rules.flake8, timeout, install)
        violations += found
        unavailable = install is None
        linters.append(f"flake8 ({rules.flake8.source}, {install.owner()})" if install else "flake8")
        if install is not None and not install.from_project:
            notes.append(f"Linted with {install.describe()}.")
        errors += [error] if error else []
        plugins = sorted(
            {dep for hook in rules.pre_commit if hook.id == "flake8" for dep in hook.additional_dependencies}
        )
        if plugins and install is not None and install.from_project:
            present = installed_distributions(install.python)
            plugins = [plugin for plugin in plugins if _normalised(plugin) not in present]
        if plugins:
            notes.append(f"flake8 plugins of the project's pre-commit hook not loaded: {', '.join(plugins)}")
    return LintRun(tuple(violations), tuple(linters), tuple(errors), tuple(notes), unavailable)
