"""Types gate: when the project configures mypy or pyright, the change adds no type error (under its settings) to
the changed files.

The checkers are the project's own when its environment installs them, else Evolve's; both resolve imports in the
project's environment, so their errors are the ones the project's CI sees. A configured checker that cannot run
here (pyright without Node.js) is named in the result with the reason, never silently left out.
"""

from __future__ import annotations

from dataclasses import dataclass

from pydantic import BaseModel, ConfigDict, Field

from evolve.gate_api import Gate, GateContext
from evolve.project_rules.model import ProjectRules
from evolve.project_rules.project_tools import PyrightUnavailable, choose_pyright, choose_python_tool
from evolve.project_rules.types_run import (
    TypeCheck,
    files_mypy_checks,
    files_pyright_checks,
    run_mypy,
    run_pyright,
)
from evolve.project_rules.violations import Violation, new_violations
from evolve.results import Errored, Failed, GateResult, Metric, Passed, Skipped
from evolve.wording import plural
from gates.changed_code import both, listing, python_paths
from gates.lint_gate import existing, file_lines


@dataclass(frozen=True)
class CheckerRun:
    """One type checker's runs on base and head, and how it is described in the result."""

    label: str  # "mypy (mypy.ini, the project's mypy 1.11.2)"
    base: TypeCheck
    head: TypeCheck


def judge_types(runs: list[CheckerRun], new: list[Violation], notes: list[str]) -> GateResult:
    """Fail when head has type errors base does not; Errored when a checker could not run (`cannot_check` when
    it is missing or fails on base too: that says nothing about the change)."""
    base_count = sum(len(run.base.violations) for run in runs)
    head_count = sum(len(run.head.violations) for run in runs)
    metrics = (Metric("type errors", float(base_count), float(head_count), "lower"),)
    source = "; ".join(run.label for run in runs)
    note_text = "".join(f"\n{note}" for note in notes)
    for run in runs:
        error = run.base.error or run.head.error
        if error:
            cannot_check = bool(run.base.error) or run.head.unavailable
            details = f"{error}\nChecker: {run.label}{note_text}"
            return Errored(
                gate="types", summary=error[:300], metrics=metrics, details=details, cannot_check=cannot_check
            )
    if new:
        return Failed(
            gate="types",
            summary=f"{plural(len(new), 'new type error')} under the project's settings ({source}): "
            f"{listing([f'{v.tool} {v.code} in {v.path}' for v in new])}.",
            metrics=metrics,
            blame=tuple(sorted({v.path for v in new})),
            details="\n".join(f"{v.tool}: {v.describe()}" for v in new) + note_text,
        )
    return Passed(
        gate="types",
        summary=f"No new type errors ({source}): {base_count} -> {head_count} in the changed files."
        + "".join(f" {note}" for note in notes if "was not run" in note),
        metrics=metrics,
        details=note_text.strip(),
    )


# A checker's run on both trees (None when it did not run), the paths it checked, and a note for the result.
Checked = tuple["CheckerRun | None", tuple[str, ...], str]


class TypesSettings(BaseModel):
    """No new type-checker errors (the project's mypy/pyright settings) in the changed files; skipped without
    a configured checker."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    enabled: bool = True
    timeout: int = Field(600, ge=10, le=3600)


class TypesGate(Gate[TypesSettings]):
    """No new mypy or pyright errors in the changed files, base vs head, under the project's own settings."""

    name = "types"
    independent = True  # its own linters/checkers only: runs beside the test runs
    description = "The change adds no type-checker error under the project's own mypy or pyright settings."

    Settings = TypesSettings

    def evaluate(self, context: GateContext) -> GateResult:
        """Run each configured checker on the changed files it would check, in both trees, and compare."""
        if not self.settings.enabled:
            return Skipped(gate=self.name, summary="The types gate is disabled in the configuration.")
        rules = context.project_rules()
        if rules.mypy is None and rules.pyright is None:
            return Skipped(gate=self.name, summary="The project configures no type checker (mypy or pyright).")
        changed = existing(context.head, python_paths(context.changed_files))
        runs: list[CheckerRun] = []
        notes: list[str] = []
        checked: set[str] = set()
        for check in (self._mypy, self._pyright):
            run, paths, note = check(context, rules, changed)
            runs += [run] if run is not None else []
            notes += [note] if note else []
            checked |= set(paths)
        if not runs:
            return Skipped(gate=self.name, summary=" ".join(notes) or "No changed file is type-checked.")
        paths = tuple(sorted(checked))
        base_paths = existing(context.base, paths)
        new = new_violations(
            [v for run in runs for v in run.base.violations],
            [v for run in runs for v in run.head.violations],
            file_lines(context.base, base_paths),
            file_lines(context.head, paths),
        )
        return judge_types(runs, new, notes)

    def _mypy(self, context: GateContext, rules: ProjectRules, changed: tuple[str, ...]) -> Checked:
        """mypy on both trees (the project's own when its environment installs it), or why it did not run."""
        if rules.mypy is None:
            return None, (), ""
        paths = files_mypy_checks(changed, rules.mypy)
        if not paths:
            return None, (), f"No changed file is one the project's mypy checks ({rules.mypy.source})."
        base_env = context.environment("base")
        install = choose_python_tool("mypy", base_env)
        head_install = choose_python_tool("mypy", context.environment("head") or base_env)
        timeout = float(self.settings.timeout)
        base_paths = existing(context.base, paths)
        mypy = rules.mypy
        base, head = both(
            lambda: run_mypy(context.base, base_paths, mypy, timeout, install) if base_paths else TypeCheck(()),
            lambda: run_mypy(context.head, paths, mypy, timeout, head_install),
        )
        described = install or head_install
        owner = f", {described.owner()}" if described is not None else ""
        plugins = f", plugins {', '.join(rules.mypy.plugins)} loaded in the sandbox" if rules.mypy.plugins else ""
        note = f"Type-checked with {described.describe()}." if described and not described.from_project else ""
        return CheckerRun(f"mypy ({rules.mypy.source}{owner}){plugins}", base, head), paths, note

    def _pyright(self, context: GateContext, rules: ProjectRules, changed: tuple[str, ...]) -> Checked:
        """pyright on both trees when it can run here, or why it did not."""
        if rules.pyright is None:
            return None, (), ""
        base_env = context.environment("base")
        chosen = choose_pyright(base_env)
        if isinstance(chosen, PyrightUnavailable):
            return None, (), f"pyright ({rules.pyright.source}) was not run: {chosen.reason}."
        paths = files_pyright_checks(changed, rules.pyright)
        if not paths:
            return None, (), f"No changed file is one the project's pyright checks ({rules.pyright.source})."
        head_chosen = choose_pyright(context.environment("head") or base_env)
        head_install = chosen if isinstance(head_chosen, PyrightUnavailable) else head_chosen
        timeout = float(self.settings.timeout)
        base_paths = existing(context.base, paths)
        base, head = both(
            lambda: run_pyright(context.base, base_paths, chosen, timeout) if base_paths else TypeCheck(()),
            lambda: run_pyright(context.head, paths, head_install, timeout),
        )
        note = "" if chosen.from_project else f"Type-checked with {chosen.describe()}."
        return CheckerRun(f"pyright ({rules.pyright.source}, {chosen.owner()})", base, head), paths, note
