"""A stand-in for `evolve.engine.run_engine` that keeps its contract, for fast tests of the bot's half.

It makes one commit in the given repository (the App's bare mirror) with Evolve's git layer, sets a branch
only when asked to, and returns a RunReport, so the bot's PR, label, check-run, reply and learning code
runs for real without the engine's research and gates.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pytest

from evolve.codemods.base import Change
from evolve.edits import FileEdit
from evolve.git.branches import branch_sha, resolve_commit, set_branch
from evolve.git.command import run_git_bytes
from evolve.git.commits import commit_edits
from evolve.plan.tasks import Plan, Task
from evolve.results import Failed, Metric, Passed
from evolve.runs import AttemptRecord, RunOptions, RunReport

CODEMOD = {"id": "none-comparison", "title": "Compare with None using `is`", "theme": "idioms", "risk": "low"}


@dataclass
class StubEngine:
    """Does what `run_engine` promises, with a fixed edit: `== None` → `is None` in sample/__init__.py.

    `passes=False` fails the gates, `edit=False` finds nothing to do, `crash` is raised as is.
    """

    calls: list[RunOptions] = field(default_factory=list)
    passes: bool = True
    edit: bool = True
    crash: BaseException | None = None

    def __call__(self, repo: Path, options: RunOptions, config=None, progress=None) -> RunReport:  # type: ignore[no-untyped-def]
        self.calls.append(options)
        if self.crash is not None:
            raise self.crash
        base = resolve_commit(repo, options.base_ref) or ""
        plan = Plan(
            theme="idioms",
            title="Use idiomatic comparisons",
            score=1.0,
            tasks=(Task(kind="codemod", path="sample/__init__.py", codemod="none-comparison"),),
        )
        if not self.edit:
            return RunReport(
                run_id=options.run_id or "x",
                status="nothing-to-do",
                repo=str(repo),
                base_sha=base,
                plan=None,
                message="no finding worth a pull request",
            )
        before = run_git_bytes(["--git-dir", str(repo), "cat-file", "blob", f"{base}:sample/__init__.py"]).decode()
        after = before.replace("== None", "is None")
        sha = commit_edits(repo, base, {"sample/__init__.py": after + f"# run {options.run_id}\n"}, "Use is None\n")
        branch = options.branch_name or f"evolve/idioms-{sha[:7]}"
        gates = (Passed("tests", "1 passed"), Passed("syntax", "ok")) if self.passes else (Failed("tests", "1 failed"),)
        # A run redoing a change CI failed continues the attempt count, as the engine's loop does.
        number = options.ci_feedback.attempts_used + 1 if options.ci_feedback else 1
        attempts = (
            AttemptRecord(
                number,
                (
                    FileEdit(
                        "sample/__init__.py", before, after, "codemods", (Change("none-comparison", 12, "is None"),)
                    ),
                ),
                gates,
            ),
        )
        if not self.passes:
            return RunReport(
                run_id=options.run_id or "x",
                status="failed",
                repo=str(repo),
                base_sha=base,
                plan=plan,
                attempts=attempts,
                message="the tests failed on every attempt",
            )
        if options.set_branch:
            set_branch(repo, branch, sha, branch_sha(repo, branch))
        markdown = "## Metrics\n\n| metric | base | head |\n|---|---|---|\n| findings | 2 | 0 |\n"
        return RunReport(
            run_id=options.run_id or "x",
            status="succeeded",
            repo=str(repo),
            base_sha=base,
            plan=plan,
            attempts=attempts,
            branch=branch,
            commit=sha,
            metrics=(Metric("findings", 2, 0, "lower"),),
            codemods=(CODEMOD,),
            markdown=markdown,
            message="1 change",
        )


@pytest.fixture
def engine(monkeypatch: pytest.MonkeyPatch) -> StubEngine:
    """The stand-in, patched in for `evolve.engine.run_engine`."""
    stub = StubEngine()
    monkeypatch.setattr("evolve.engine.run_engine", stub)
    return stub
