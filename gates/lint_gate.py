"""Lint gate: the change adds no violation of the project's own linter settings (ruff and/or flake8) to the changed files."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from evolve.gate_api import Gate, GateContext
from evolve.project_rules.lint_run import LintRun, lint_tree
from evolve.project_rules.violations import Violation, new_violations
from evolve.results import Errored, Failed, GateResult, Metric, Passed, Skipped
from evolve.wording import plural
from gates.changed_code import both, listing, python_paths


def existing(root: Path, paths: tuple[str, ...]) -> tuple[str, ...]:
    """The paths that are files under `root` (a deleted file has nothing to lint)."""
    return tuple(path for path in paths if (root / path).is_file())


def file_lines(root: Path, paths: tuple[str, ...]) -> dict[str, list[str]]:
    """Each file's lines, for matching violations by their line's content."""
    return {path: (root / path).read_text(encoding="utf-8", errors="replace").splitlines() for path in paths}


def judge_lint(base: LintRun, head: LintRun, new: list[Violation]) -> GateResult:
    """Fail when head has violations base does not; Errored when a linter could not run."""
    metrics = (Metric("lint violations", float(len(base.violations)), float(len(head.violations)), "lower"),)
    linters = ", ".join(head.linters or base.linters)
    errors = [*base.errors, *head.errors]
    if errors:
        # A linter that is missing, or fails on base too, says nothing about the change: the run cannot check.
        cannot_check = bool(base.errors) or base.unavailable or head.unavailable
        return Errored(
            gate="lint", summary=errors[0][:300], metrics=metrics, details="\n".join(errors), cannot_check=cannot_check
        )
    notes = "".join(f"\n{note}" for note in head.notes)
    if new:
        return Failed(
            gate="lint",
            summary=f"{plural(len(new), 'new lint violation')} under the project's settings ({linters}): "
            f"{listing([f'{v.code} in {v.path}' for v in new])}.",
            metrics=metrics,
            blame=tuple(sorted({v.path for v in new})),
            details="\n".join(v.describe() for v in new) + notes,
        )
    return Passed(
        gate="lint",
        summary=f"No new lint violations ({linters}): {len(base.violations)} -> {len(head.violations)} "
        "in the changed files.",
        metrics=metrics,
        details=notes.strip(),
    )


class LintSettings(BaseModel):
    """No new violations of the project's own linter settings (ruff and/or flake8) in the changed files."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    enabled: bool = True
    timeout: int = Field(300, ge=10, le=3600)


class LintGate(Gate[LintSettings]):
    """No new violations of the project's own linter settings in the changed files, base vs head."""

    name = "lint"
    independent = True  # its own linters/checkers only: runs beside the test runs
    description = "The change adds no violation of the project's own ruff/flake8 settings."

    Settings = LintSettings

    def evaluate(self, context: GateContext) -> GateResult:
        """Run the project's linters on the changed Python files of both trees and compare."""
        if not self.settings.enabled:
            return Skipped(gate=self.name, summary="The lint gate is disabled in the configuration.")
        paths = python_paths(context.changed_files)
        head_paths, base_paths = existing(context.head, paths), existing(context.base, paths)
        if not head_paths:
            return Skipped(gate=self.name, summary="No changed Python file to lint.")
        rules = context.project_rules()
        timeout = float(self.settings.timeout)
        base_env = context.environment("base")
        head_env = context.environment("head") or base_env
        base, head = both(
            lambda: lint_tree(context.base, base_paths, rules, timeout, base_env),
            lambda: lint_tree(context.head, head_paths, rules, timeout, head_env),
        )
        new = new_violations(
            base.violations,
            head.violations,
            file_lines(context.base, base_paths),
            file_lines(context.head, head_paths),
        )
        return judge_lint(base, head, new)
