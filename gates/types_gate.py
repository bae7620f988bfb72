"""Types gate: when the project configures mypy, the change adds no mypy error (under its settings) to the changed files."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from evolve.gate_api import Gate, GateContext
from evolve.project_rules.types_run import TypeCheck, files_mypy_checks, run_mypy
from evolve.project_rules.violations import Violation, new_violations
from evolve.results import Errored, Failed, GateResult, Metric, Passed, Skipped
from gates.changed_code import listing, python_paths
from gates.lint_gate import existing, file_lines


def judge_types(base: TypeCheck, head: TypeCheck, new: list[Violation], source: str) -> GateResult:
    """Fail when head has mypy errors base does not; Errored when mypy could not run."""
    metrics = (Metric("type errors", float(len(base.violations)), float(len(head.violations)), "lower"),)
    error = base.error or head.error
    if error:
        # A checker that is missing, or fails on base too, says nothing about the change: the run cannot check.
        cannot_check = bool(base.error) or head.unavailable
        return Errored(gate="types", summary=error[:300], metrics=metrics, details=error, cannot_check=cannot_check)
    if new:
        return Failed(
            gate="types",
            summary=f"{len(new)} new mypy error(s) under the project's settings ({source}): "
            f"{listing([f'{v.code} in {v.path}' for v in new])}.",
            metrics=metrics,
            blame=tuple(sorted({v.path for v in new})),
            details="\n".join(v.describe() for v in new),
        )
    return Passed(
        gate="types",
        summary=f"No new mypy errors ({source}): {len(base.violations)} -> {len(head.violations)} in the changed files.",
        metrics=metrics,
    )


class TypesSettings(BaseModel):
    """No new type-checker errors (the project's mypy settings) in the changed files; skipped without mypy config."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    enabled: bool = True
    timeout: int = Field(600, ge=10, le=3600)


class TypesGate(Gate[TypesSettings]):
    """No new mypy errors in the changed files, base vs head, under the project's own mypy settings."""

    name = "types"
    description = "The change adds no type-checker error under the project's own mypy settings."

    Settings = TypesSettings

    def evaluate(self, context: GateContext) -> GateResult:
        """Run mypy on the changed files it would check, in both trees, and compare."""
        if not self.settings.enabled:
            return Skipped(gate=self.name, summary="The types gate is disabled in the configuration.")
        rules = context.project_rules()
        if rules.mypy is None:
            if rules.pyright is not None:
                return Skipped(
                    gate=self.name,
                    summary=f"The project configures pyright ({rules.pyright.source}), which needs Node.js; "
                    "Evolve runs mypy only, so types were not checked.",
                )
            return Skipped(gate=self.name, summary="The project configures no type checker (mypy or pyright).")
        paths = files_mypy_checks(existing(context.head, python_paths(context.changed_files)), rules.mypy)
        if not paths:
            return Skipped(gate=self.name, summary="No changed file is one the project's mypy checks.")
        base_paths = existing(context.base, paths)
        timeout = float(self.settings.timeout)
        base = run_mypy(context.base, base_paths, rules.mypy, timeout) if base_paths else TypeCheck(())
        head = run_mypy(context.head, paths, rules.mypy, timeout)
        new = new_violations(
            base.violations, head.violations, file_lines(context.base, base_paths), file_lines(context.head, paths)
        )
        plugins = f", plugins {', '.join(rules.mypy.plugins)} loaded in the sandbox" if rules.mypy.plugins else ""
        return judge_types(base, head, new, f"mypy from {rules.mypy.source}{plugins}")
