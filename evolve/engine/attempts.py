"""One attempt: prove the edits' hunks, make head afresh from the base commit plus them, run every gate against base.

The base tree is measured once per run (its scans and test run are kept across attempts, and its test run
is cached on disk per base commit, command and environment across runs); the head tree is measured afresh
each attempt. Base and head test runs go in parallel when the machine has the cores.
"""

from __future__ import annotations

import os
import sys
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Literal

from evolve.configuration.model import EvolveConfig
from evolve.edits import FileEdit
from evolve.environments.model import Environment, EnvironmentFailure
from evolve.environments.project_files import touches_environment
from evolve.findings import ScanResult
from evolve.gate_api import Gate, GateContext
from evolve.gating.running import build_context, build_gates, cannot_check_message, evaluate_gates
from evolve.git.diffs import DiffSummary, summarize
from evolve.git.trees import copy_tree, export_tree, write_edits
from evolve.project_rules import ProjectRules, read_project_rules
from evolve.proof.behaviour import EditProof, prove_edits, risky_codemods
from evolve.proof.characterization import check_characterization, needs_characterization
from evolve.proof.code_changes import any_executable_change
from evolve.results import GateResult
from evolve.sandbox.cancellation import in_context
from evolve.sandbox.scratch import remove_run_directory
from evolve.suites.base_results import BaseResultsCache, cache_key, environment_key
from evolve.suites.coverage_scope import with_base_coverage
from evolve.suites.live_progress import TestProgress
from evolve.suites.runs import TestCommand, TestRun, detect_test_command, run_test_suite

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
    # Tests research saw fail on base on a Python where base's suite starts: when it cannot start here (a removed
    # name breaks the import), they count as failing on base, so the change is judged on what it fixes.
    known_failing: frozenset[str] = frozenset()
    # Whether base's run records which tests run each line (a gate reads "test-contexts": the mutation gate).
    with_contexts: bool = False


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
    command, key = _base_cache_key(base, base_sha, config, measured)
    if cached_base_test_run(base, base_sha, config, measured) is not None:
        return measured.tests  # type: ignore[return-value]  # set from the cache
    environment = measured.environment
    python = environment.python if environment is not None else sys.executable
    run = run_test_suite(
        base,
        config,
        with_coverage=True,
        environment=environment,
        python=python,
        progress=progress,
        with_contexts=measured.with_contexts,
    )
    if command is not None:
        measured.cache.store(key, run)
    measured.tests = with_known_failing(run, measured.known_failing)
    return measured.tests


def _base_cache_key(
    base: Path, base_sha: str, config: EvolveConfig, measured: BaseMeasurements
) -> tuple[TestCommand | None, str]:
    """Base's test command (None: none found) and the key of its run in the base-results cache."""
    command = detect_test_command(base, config.gates.tests.command)
    environment = measured.environment
    python = environment.python if environment is not None else sys.executable
    key = cache_key(
        base_sha,
        (command.runner, *command.args) if command else (),
        environment.key
        if environment is not None and environment.key
        else environment_key(python, environment.description if environment is not None else ""),
        (f"network={config.gates.tests.allow_network}", *(("test-contexts",) if measured.with_contexts else ())),
    )
    return command, key


def cached_base_test_run(base: Path, base_sha: str, config: EvolveConfig, measured: BaseMeasurements) -> TestRun | None:
    """Base's test run if the run has it or the base-results cache holds it (then kept for the run); else None,
    without running anything."""
    if measured.tests is not None:
        return measured.tests
    command, key = _base_cache_key(base, base_sha, config, measured)
    cached = measured.cache.load(key) if command is not None else None
    if cached is not None:
        measured.tests, measured.tests_from_cache = with_known_failing(cached, measured.known_failing), True
    return measured.tests


def with_known_failing(run: TestRun, known: frozenset[str]) -> TestRun:
    """Base's run with the tests research saw fail elsewhere on base, when this run never started its tests, or
    never loaded their module (tabulate 0.8.2 on 3.11: test_output.py fails to import, its tests fail on 3.8)."""
    from evolve.research.base_suites import module_that_failed_to_load
    from evolve.suites.startup import cannot_start_reason

    if not known:
        return run
    if cannot_start_reason(run) is None:
        unloaded = {module_that_failed_to_load(test) for test in run.failing_tests} - {None}
        known = frozenset(t for t in known if any(t.startswith((f"{m}::", f"{m}.")) for m in unloaded))
        if not known:
            return run
    return replace(run, failing_tests=tuple(dict.fromkeys((*run.failing_tests, *sorted(known)))))


def tests_summary(base: Path, config: EvolveConfig, measured: BaseMeasurements, head: TestRun | None) -> dict:
    """For the report: the test command as a person would type it, and base's and head's counts."""
    command = detect_test_command(base, config.gates.tests.command)

    def counts(run: TestRun | None) -> dict:
        if run is None:
            return {}
        fields: tuple[str, ...] = ("passed", "failed", "errors", "skipped", "xfailed", "xpassed")
        fields += ("subtests_passed", "subtests_failed", "subtests_skipped", "no_tests", "timed_out", "duration")
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


@dataclass(frozen=True)
class AttemptTrees:
    """Where an attempt works: base's tree and commit, head's directory, and the git directory head is exported
    from (None: head is a copy of base's tree)."""

    base: Path
    head: Path
    base_sha: str
    git_dir: Path | None = None


class _Announcer:
    """Says each progress step once, when someone listens; also the test-progress callbacks for the suites."""

    def __init__(self, progress: Progress | None) -> None:
        self.progress = progress
        self.said: set[str] = set()

    def __call__(self, step: str) -> None:
        if step in self.said:
            return
        self.said.add(step)
        if self.progress:
            self.progress(step, 0, 1)

    def tests(self, which: Tree, done: int, total: int) -> None:
        """Tests done / collected on one tree."""
        if self.progress:
            self.progress(f"running the tests on {which}", done, total)

    def base_tests(self) -> TestProgress | None:
        """The callback for base's suite, when someone listens."""
        return (lambda done, total: self.tests("base", done, total)) if self.progress else None


def _prove(
    trees: AttemptTrees, edits: tuple[FileEdit, ...], config: EvolveConfig, measured: BaseMeasurements, say: _Announcer
) -> tuple[EditProof, TestRun | None]:
    """Each hunk's proof; when a risky hunk is not proven equivalent, base's tests run first, since whether they
    execute it decides. Returns the proof and the test run it used."""
    risky = risky_codemods()
    # Base's run from the cache, when it is there, so that the hunks are proven once, against it.
    cached_base_test_run(trees.base, trees.base_sha, config, measured)
    proof = prove_edits(edits, measured.tests, risky)
    if not proof.dropped or measured.tests is not None:
        return proof, measured.tests
    say("running the tests on base")
    run = base_test_run(trees.base, trees.base_sha, config, measured, say.base_tests())
    return prove_edits(edits, run, risky), run


def _fresh_head(trees: AttemptTrees) -> None:
    """Head afresh: base's commit exported from git (else a copy of base's tree), replacing the last attempt's."""
    if trees.head.exists():
        remove_run_directory(trees.head)
    if trees.git_dir is not None:
        export_tree(trees.git_dir, trees.base_sha, trees.head)
    else:
        copy_tree(trees.base, trees.head)


def broken_head_run(failure: EnvironmentFailure) -> TestRun:
    """Head's test run when the change broke its own environment (an edited dependency file): it cannot run."""
    return TestRun(
        command=(),
        returncode=1,
        timed_out=False,
        duration=0.0,
        failing_tests=("<head's test environment>",),
        failure_details=failure.message,
        output_tail=failure.message,
    )


@dataclass(frozen=True)
class _Change:
    """The edits written to head: the changed files, and the diff and changed lines they make."""

    files: tuple[str, ...]
    summary: DiffSummary
    code_changed: bool = True  # False: only docstrings, comments, layout or annotations changed


def _built_environments(
    base: Environment | None, head: Environment | EnvironmentFailure | None
) -> dict[Tree, Environment]:
    """The trees whose suites run in a built environment (the others run in Evolve's own interpreter)."""
    built: dict[Tree, Environment] = {}
    if base is not None:
        built["base"] = base
    if isinstance(head, Environment):
        built["head"] = head
    return built


def _gate_context(
    trees: AttemptTrees,
    change: _Change,
    gates: list[Gate[Any]],
    config: EvolveConfig,
    measured: BaseMeasurements,
    say: _Announcer,
) -> GateContext:
    """The gates' context: base's and head's environments, the project's rules, and lazily measured trees."""
    head_environment = _head_environment(trees.head, change.files, measured)
    environments = _built_environments(measured.environment, head_environment)
    if measured.rules is None:
        measured.rules = read_project_rules(trees.base)
    context = build_context(
        trees.base,
        trees.head,
        change.files,
        config,
        changed_lines=change.summary.changed_lines,
        measures={measure for gate in gates for measure in gate.measures()},
        environments=environments,
        test_progress=say.tests if say.progress else None,
        rules=measured.rules,
        code_changed=change.code_changed,
    )
    if isinstance(head_environment, EnvironmentFailure):
        failed, base_tests = broken_head_run(head_environment), context.run_tests
        assert base_tests is not None  # build_context always provides it
        context.run_tests = lambda which: failed if which == "head" else base_tests(which)
    return context


class _Measuring:
    """Base's and head's test runs and scans for one attempt's gates. The first gate asking for a test run or a
    scan starts them all (in parallel when the machine has the cores): the test runs are subprocesses and the scans
    mostly wait on them or on semgrep, so the attempt waits for about one suite run. Base's are kept for the run."""

    def __init__(self, setup: _MeasuringSetup, pool: ThreadPoolExecutor) -> None:
        self.setup, self.pool = setup, pool
        context = setup.context
        assert context.scan is not None and context.run_tests is not None  # build_context always provides both
        self.fresh_scan, self.fresh_tests = context.scan, context.run_tests
        self.parallel = (os.cpu_count() or 1) >= 2
        self.test_runs: dict[Tree, Future[TestRun]] = {}
        self.scans: dict[Tree, Future[ScanResult]] = {}
        # Gates ask from several threads (evaluate_gates): each measurement starts once, under this lock.
        self.lock = threading.RLock()

    def base_scan(self) -> ScanResult:
        """Base's scan of the changed files, once per run for the same files."""
        measured, files = self.setup.measured, self.setup.files
        if files not in measured.scans:
            measured.scans[files] = self.fresh_scan("base")
        return measured.scans[files]

    def run_tree(self, which: Tree) -> TestRun:
        """One tree's suite: head's afresh, base's kept for the run (and cached on disk)."""
        if which == "head":
            return self.fresh_tests("head")
        setup = self.setup
        trees = setup.trees
        return base_test_run(trees.base, trees.base_sha, setup.config, setup.measured, setup.say.base_tests())

    def _submit_scan(self, which: Tree) -> Future[ScanResult]:
        if which == "head":
            return self.pool.submit(in_context(self.fresh_scan), "head")
        return self.pool.submit(in_context(self.base_scan))

    def start(self) -> None:
        """Start both suites and (when a gate reads scans) both scans, once."""
        with self.lock:
            self._start()

    def _start(self) -> None:
        if self.test_runs:
            return
        say = self.setup.say
        if self.setup.measured.tests is None:
            say("running the tests on base")
        say("running the tests on head")
        self.test_runs.update({tree: self.pool.submit(in_context(self.run_tree), tree) for tree in ("base", "head")})
        if self.setup.wants_scans:
            self.scans["head"] = self._submit_scan("head")
            self.scans["base"] = self._submit_scan("base")

    def scan(self, which: Tree) -> ScanResult:
        """The context's `scan`."""
        self.setup.say(f"measuring {which}")
        if not self.parallel:
            with self.lock:
                return self.fresh_scan("head") if which == "head" else self.base_scan()
        with self.lock:
            self._start()
            if which not in self.scans:
                self.scans[which] = self._submit_scan(which)
            running = self.scans[which]
        return running.result()

    def run_tests(self, which: Tree) -> TestRun:
        """The context's `run_tests`."""
        self.setup.say(f"running the tests on {which}")
        if not self.parallel:
            with self.lock:
                return self.run_tree(which)
        self.start()
        return self.test_runs[which].result()

    def head_run(self) -> TestRun | None:
        """Head's test run, when a gate ran it."""
        if "head" in self.test_runs:
            return self.test_runs["head"].result()
        if "running the tests on head" in self.setup.say.said:
            return self.fresh_tests("head")  # computed once already: the context caches it
        return None


@dataclass(frozen=True)
class _MeasuringSetup:
    """What the measurements of one attempt need."""

    trees: AttemptTrees
    config: EvolveConfig
    measured: BaseMeasurements
    context: GateContext
    files: tuple[str, ...]
    wants_scans: bool
    say: _Announcer


def _relabelled(
    proof: EditProof, edits: tuple[FileEdit, ...], measured: BaseMeasurements, head_tests: TestRun | None
) -> EditProof:
    """The proof of the change the gates judged, for the report: the kept edits labelled from base's coverage and
    head's (the figure the coverage gate states too); the hunks dropped before the gates stay listed."""
    if measured.tests is None:
        return proof
    relabelled = prove_edits(edits, measured.tests, risky_codemods(), head_tests, drop=False)
    hunks = sorted((*proof.dropped, *relabelled.hunks), key=lambda h: (h.path, h.base_start))
    return replace(relabelled, hunks=tuple(hunks))


def _characterization(
    base: Path, edits: tuple[FileEdit, ...], config: EvolveConfig, measured: BaseMeasurements, say: _Announcer
) -> tuple[GateResult, ...]:
    """The LLM's characterization tests must hold on the original code, not only on its refactoring."""
    if not needs_characterization(edits):
        return ()
    say("running the added tests on base")
    characterized = check_characterization(base, edits, config, measured.environment)
    return (characterized,) if characterized is not None else ()


def run_attempt(
    trees: AttemptTrees,
    edits: tuple[FileEdit, ...],
    config: EvolveConfig,
    measured: BaseMeasurements,
    progress: Progress | None = None,
) -> AttemptOutcome:
    """Make head = base's commit plus the proven part of `edits`, and evaluate the configured gates. The diff
    and changed lines come from the edits, not from a tree."""
    say = _Announcer(progress)
    gates = build_gates(config)
    measured.with_contexts = measured.with_contexts or any("test-contexts" in gate.measures() for gate in gates)
    proof, _ = _prove(trees, edits, config, measured, say)
    edits = proof.kept
    _fresh_head(trees)
    if not edits:
        return AttemptOutcome(gate_results=(), diff="", changed_lines={}, head_tests=None, edits=(), proof=proof)
    write_edits(trees.head, {edit.path: edit.after for edit in edits})
    summary = summarize((edit.path, edit.before, edit.after) for edit in edits)
    change = _Change(
        tuple(sorted(summary.changed_lines)) or tuple(sorted(edit.path for edit in edits)),
        summary,
        any_executable_change((edit.path, edit.before, edit.after) for edit in edits),
    )
    context = _gate_context(trees, change, gates, config, measured, say)
    wants_scans = any(gate.name in SCAN_GATES for gate in gates)
    setup = _MeasuringSetup(trees, config, measured, context, change.files, wants_scans, say)
    with ThreadPoolExecutor(max_workers=4, thread_name_prefix="evolve-measure") as pool:
        measuring = _Measuring(setup, pool)
        context.scan, context.run_tests = measuring.scan, measuring.run_tests
        results = evaluate_gates(gates, context)
    head_tests = with_base_coverage(measuring.head_run(), measured.tests)
    return AttemptOutcome(
        gate_results=(*results, *_characterization(trees.base, edits, config, measured, say)),
        diff=summary.text,
        changed_lines=summary.changed_lines,
        head_tests=head_tests,
        edits=edits,
        proof=_relabelled(proof, edits, measured, head_tests),
    )
