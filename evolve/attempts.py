"""One attempt: prove the edits' hunks, make head afresh from the base commit plus them, run every gate against base.

The base tree is measured once per run (its scans and test run are kept across attempts, and its test run
is cached on disk per base commit, command and environment across runs); the head tree is measured afresh
each attempt. Base and head test runs go in parallel when the machine has the cores.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Literal

from evolve.base_results import BaseResultsCache, cache_key, environment_key
from evolve.behaviour_proof import EditProof, prove_edits, risky_codemods
from evolve.characterization import check_characterization, needs_characterization
from evolve.config import EvolveConfig
from evolve.edits import FileEdit
from evolve.environments.model import Environment, EnvironmentFailure
from evolve.environments.project_files import touches_environment
from evolve.findings import ScanResult
from evolve.gate_running import build_context, build_gates, cannot_check_message, evaluate_gates
from evolve.git.diffs import summarize
from evolve.git.trees import copy_tree, export_tree, write_edits
from evolve.project_rules import ProjectRules, read_project_rules
from evolve.results import GateResult
from evolve.scratch import remove_run_directory
from evolve.suites.live_progress import TestProgress
from evolve.suites.runs import TestRun, detect_test_command, run_test_suite

Tree = Literal["base", "head"]
SCAN_GATES = frozenset({"complexity", "maintainability", "docstrings", "security"})  # gates that read scans
Progress = Callable[[str, int, int], None]


@dataclass
class BaseMeasurements:
    """Measurements of the base tree, kept across attempts so the base is measured once."""

    tests: TestRun | None = None
    scans: dict[tuple[str, ...], ScanResult] = field(default_factory=dict)
    tests_from_cache: bool = False
    cache: BaseResultsCache = field(default_factory=BaseResultsCache)
    # The environment base's suite runs in (None: Evolve's own interpreter); head shares it unless the
    # change edits a file that decides it, when `head_environment` prepares head's own.
    environment: Environment | None = None
    head_environment: Callable[[Path], Environment | EnvironmentFailure] | None = None
    # The project's tool settings (read from base once per run) that the lint and types gates hold the change to.
    rules: ProjectRules | None = None


@dataclass(frozen=True)
class AttemptOutcome:
    """What one attempt measured."""

    gate_results: tuple[GateResult, ...]
    diff: str
    changed_lines: dict[str, tuple[int, ...]]
    head_tests: TestRun | None  # when a gate ran the tests
    edits: tuple[FileEdit, ...] = ()  # the edits tried: the proposed ones minus unproven risky hunks
    proof: EditProof | None = None

    @property
    def cannot_check(self) -> str | None:
        """`cannot check: <gate>: <why>` when a gate could not check for a reason that is not the change's."""
        return cannot_check_message(self.gate_results)


def base_test_run(
    base: Path, base_sha: str, config: EvolveConfig, measured: BaseMeasurements, progress: TestProgress | None = None
) -> TestRun:
    """Base's test run with line coverage: kept for the run, cached on disk per commit, command and environment."""
    if measured.tests is not None:
        return measured.tests
    command = detect_test_command(base, config.gates.tests.command)
    environment = measured.environment
    python = environment.python if environment is not None else sys.executable
    key = cache_key(
        base_sha,
        (command.runner, *command.args) if command else (),
        environment.key if environment is not None and environment.key else environment_key(python),
        (f"network={config.gates.tests.allow_network}",),
    )
    cached = measured.cache.load(key) if command is not None else None
    if cached is not None:
        measured.tests, measured.tests_from_cache = cached, True
        return cached
    run = run_test_suite(base, config, with_coverage=True, environment=environment, python=python, progress=progress)
    measured.tests = run
    if command is not None:
        measured.cache.store(key, run)
    return run


def tests_summary(base: Path, config: EvolveConfig, measured: BaseMeasurements, head: TestRun | None) -> dict:
    """For the report: the test command as a person would type it, and base's and head's counts."""
    command = detect_test_command(base, config.gates.tests.command)

    def counts(run: TestRun | None) -> dict:
        if run is None:
            return {}
        fields: tuple[str, ...] = ("passed", "failed", "errors", "skipped", "no_tests", "timed_out", "duration")
        fields += ("returncode", "isolation", "limits_enforced")  # how the repository's code was contained
        return {name: getattr(run, name) for name in fields}

    return {
        "command": command.describe() if command else None,
        "base": counts(measured.tests),
        "base_from_cache": measured.tests_from_cache,
        "head": counts(head),
    }


def _head_environment(
    head: Path, changed: tuple[str, ...], measured: BaseMeasurements
) -> Environment | EnvironmentFailure | None:
    """Base's environment, unless the change edits a dependency file: then head's own (built or reused)."""
    if measured.head_environment is None or not touches_environment(changed):
        return measured.environment
    return measured.head_environment(head)


def run_attempt(
    base: Path,
    head: Path,
    base_sha: str,
    edits: tuple[FileEdit, ...],
    config: EvolveConfig,
    measured: BaseMeasurements,
    progress: Progress | None = None,
    *,
    git_dir: Path | None = None,
) -> AttemptOutcome:
    """Make head = `base_sha` (exported from `git_dir`, else copied from `base`) plus the proven part of `edits`,
    and evaluate the configured gates. The diff and changed lines come from the edits, not from a tree."""
    announced: set[str] = set()

    def announce(step: str) -> None:
        if progress and step not in announced:
            announced.add(step)
            progress(step, 0, 1)

    def tests_progress(which: Tree, done: int, total: int) -> None:
        if progress:
            progress(f"running the tests on {which}", done, total)

    def base_tests_progress(done: int, total: int) -> None:
        tests_progress("base", done, total)

    risky = risky_codemods()
    proof_run = measured.tests
    proof = prove_edits(edits, proof_run, risky)
    if proof.dropped and measured.tests is None:
        # Some risky hunks are not proven equivalent: whether tests execute them decides, so base runs first.
        announce("running the tests on base")
        proof_run = base_test_run(base, base_sha, config, measured, base_tests_progress if progress else None)
        proof = prove_edits(edits, proof_run, risky)
    edits = proof.kept
    if head.exists():
        remove_run_directory(head)
    if git_dir is not None:
        export_tree(git_dir, base_sha, head)
    else:
        copy_tree(base, head)
    if not edits:
        return AttemptOutcome(gate_results=(), diff="", changed_lines={}, head_tests=None, edits=(), proof=proof)
    write_edits(head, {edit.path: edit.after for edit in edits})
    summary = summarize((edit.path, edit.before, edit.after) for edit in edits)
    changed = tuple(sorted(summary.changed_lines)) or tuple(sorted(edit.path for edit in edits))
    gates = build_gates(config)
    measures = {measure for gate in gates for measure in gate.measures()}
    head_environment = _head_environment(head, changed, measured)
    environments: dict[Tree, Environment] = {}
    if measured.environment is not None:
        environments["base"] = measured.environment
    if isinstance(head_environment, Environment):
        environments["head"] = head_environment
    if measured.rules is None:
        measured.rules = read_project_rules(base)
    context = build_context(
        base,
        head,
        changed,
        config,
        changed_lines=summary.changed_lines,
        measures=measures,
        environments=environments,
        test_progress=tests_progress if progress else None,
        rules=measured.rules,
    )
    if isinstance(head_environment, EnvironmentFailure):
        # The change broke its own environment (an edited dependency file): head's suite cannot run.
        failed = TestRun(
            command=(),
            returncode=1,
            timed_out=False,
            duration=0.0,
            failing_tests=("<head's test environment>",),
            failure_details=head_environment.message,
            output_tail=head_environment.message,
        )
        base_tests = context.run_tests
        assert base_tests is not None
        context.run_tests = lambda which: failed if which == "head" else base_tests(which)
    fresh_scan, fresh_tests = context.scan, context.run_tests
    assert fresh_scan is not None and fresh_tests is not None  # build_context always provides both
    parallel = (os.cpu_count() or 1) >= 2
    test_runs: dict[Tree, Future[TestRun]] = {}
    scans: dict[Tree, Future[ScanResult]] = {}
    wants_scans = any(gate.name in SCAN_GATES for gate in gates)

    def base_scan() -> ScanResult:
        if changed not in measured.scans:
            measured.scans[changed] = fresh_scan("base")
        return measured.scans[changed]

    def run_tree(which: Tree) -> TestRun:
        return (
            fresh_tests("head")
            if which == "head"
            else base_test_run(base, base_sha, config, measured, base_tests_progress if progress else None)
        )

    def start_measuring() -> None:
        # The first gate asking for a test run or a scan starts them all: the test runs are subprocesses
        # and the scans mostly wait on them or on semgrep, so the attempt waits for about one suite run.
        if test_runs:
            return
        if measured.tests is None:
            announce("running the tests on base")
        announce("running the tests on head")
        test_runs.update({tree: pool.submit(run_tree, tree) for tree in ("base", "head")})
        if wants_scans:
            scans["head"] = pool.submit(fresh_scan, "head")
            scans["base"] = pool.submit(base_scan)

    def scan(which: Tree) -> ScanResult:
        announce(f"measuring {which}")
        if not parallel:
            return fresh_scan("head") if which == "head" else base_scan()
        start_measuring()
        if which not in scans:
            scans[which] = pool.submit(fresh_scan, "head") if which == "head" else pool.submit(base_scan)
        return scans[which].result()

    def run_tests(which: Tree) -> TestRun:
        announce(f"running the tests on {which}")
        if not parallel:
            return run_tree(which)
        start_measuring()
        return test_runs[which].result()

    context.scan, context.run_tests = scan, run_tests
    with ThreadPoolExecutor(max_workers=4, thread_name_prefix="evolve-measure") as pool:
        results = evaluate_gates(gates, context)
    if needs_characterization(edits):
        # The LLM's characterization tests must hold on the original code, not only on its refactoring.
        announce("running the added tests on base")
        characterized = check_characterization(base, edits, config, measured.environment)
        results = (*results, *([characterized] if characterized is not None else []))
    head_run = None
    if "head" in test_runs:
        head_run = test_runs["head"].result()
    elif "running the tests on head" in announced:
        head_run = fresh_tests("head")  # computed once already: the context caches it
    if measured.tests is not None and measured.tests is not proof_run:
        # Labels from base's coverage, for the report; the hunks dropped before the gates stay listed.
        relabelled = prove_edits(edits, measured.tests, risky)
        hunks = sorted((*proof.dropped, *relabelled.hunks), key=lambda h: (h.path, h.base_start))
        proof = replace(relabelled, hunks=tuple(hunks))
    return AttemptOutcome(
        gate_results=results,
        diff=summary.text,
        changed_lines=summary.changed_lines,
        head_tests=head_run,
        edits=edits,
        proof=proof,
    )
