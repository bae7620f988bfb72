"""Characterization tests the LLM adds before refactoring must describe the code as it was: they run green on base.

The tests gate already makes them pass on head (a new failing test is a new failure). Here they also run
against base's code — base's tree plus only the added test files — so a test written to fit the refactored
behaviour, rather than the original, stops the change.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Sequence
from pathlib import Path

from evolve.configuration.model import EvolveConfig
from evolve.edits import FileEdit
from evolve.environments.model import Environment
from evolve.git.trees import copy_tree, write_edits
from evolve.results import Errored, Failed, GateResult, Passed
from evolve.suites.runs import TestRun, run_test_suite
from evolve.wording import plural

ADD_TEST_FILE = "llm:add_test_file"
GATE = "characterization"


def added_test_files(edits: Sequence[FileEdit]) -> dict[str, str]:
    """path -> content of the test files the edits create (the LLM's `add_test_file`)."""
    return {edit.path: edit.after for edit in edits if any(change.codemod == ADD_TEST_FILE for change in edit.changes)}


def needs_characterization(edits: Sequence[FileEdit]) -> bool:
    """Whether the change adds tests and also edits code: then the tests must hold on base first."""
    added = added_test_files(edits)
    return bool(added) and any(edit.path not in added for edit in edits)


def judge_characterization(run: TestRun, added: Sequence[str], refactored: Sequence[str]) -> GateResult:
    """Failed when any test of the added files fails against base's code. Pure."""
    if run.timed_out:
        return Errored(gate=GATE, summary="The characterization tests timed out on base.", details=run.output_tail)
    failing = [test for test in run.failing_tests if any(test.startswith(path) for path in added)]
    if not failing and not run.ok and run.passed == 0:
        return Errored(
            gate=GATE, summary="The suite with the added tests did not run on base.", details=run.output_tail
        )
    if failing:
        return Failed(
            gate=GATE,
            summary=f"{plural(len(failing), 'added characterization test')} fail on the original code: they describe the "
            "refactored behaviour, not the behaviour being preserved.",
            blame=tuple(sorted({*added, *refactored})),
            details=run.failure_details,
        )
    return Passed(gate=GATE, summary=f"The {plural(len(added), 'added test file')} pass on the original code too.")


def check_characterization(
    base: Path, edits: Sequence[FileEdit], config: EvolveConfig, environment: Environment | None
) -> GateResult | None:
    """Run base's code with only the added test files; None when the change adds no tests beside code edits."""
    if not needs_characterization(edits):
        return None
    added = added_test_files(edits)
    holder = Path(tempfile.mkdtemp(prefix="evolve-characterize-"))
    try:
        tree = copy_tree(base, holder / "tree")
        write_edits(tree, added)
        run = run_test_suite(tree, config, with_coverage=False, environment=environment)
    finally:
        shutil.rmtree(holder, ignore_errors=True)
    return judge_characterization(run, tuple(added), tuple(e.path for e in edits if e.path not in added))
