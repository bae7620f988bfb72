"""Research runs base's test suite on the newest Python the project declares that this machine has, and on the
oldest one the environment builder supports, and records each failing test with its traceback and diagnosis.

Each run is cached per (commit, Python, environment). A suite that cannot start because its tests import a
module the project never declares gets it installed (`gates.tests.install`), said in a note, and proposed for
declaring; the run that follows uses the same installs.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from packaging.specifiers import InvalidSpecifier, SpecifierSet

from evolve.configuration.model import EvolveConfig
from evolve.environments.declarations import discover
from evolve.environments.interpreters import (
    Interpreter,
    NoInterpreter,
    available_interpreters,
    candidate_paths,
    choose_interpreter,
)
from evolve.environments.model import Environment, EnvironmentFailure, EnvironmentSettings
from evolve.environments.prepare import prepare_environment
from evolve.environments.project_files import read_project_files
from evolve.environments.store import EnvironmentStore
from evolve.research.diagnosis import Diagnosis, diagnose
from evolve.research.files import list_python_files
from evolve.research.suite_imports import distribution_for, module_only_tests_import
from evolve.suites.base_results import BaseResultsCache, cache_key, environment_key
from evolve.suites.runs import TestRun, detect_test_command, run_test_suite
from evolve.suites.startup import cannot_start_reason
from evolve.wording import plural, tests_text

Progress = Callable[[str, int, int], None]
MIN_SUITE_SECONDS = 10.0  # a Python left with less of the time budget than this is not started
MAX_INSTALLS = 3  # modules installed, one at a time, for a suite to start
TRACEBACK_LIMIT = 4000
_BLOCK = re.compile(r"^____ (?P<id>.+?) ____$", re.M)


@dataclass(frozen=True)
class FailingTest:
    """A test that fails or errors on base, its traceback (redacted and capped), and its cause when known."""

    test_id: str
    traceback: str
    diagnosis: Diagnosis | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready."""
        return {
            "test_id": self.test_id,
            "traceback": self.traceback,
            "diagnosis": self.diagnosis.to_dict() if self.diagnosis else None,
        }


@dataclass(frozen=True)
class SuiteOnPython:
    """Base's suite on one Python: counts, failing tests, what was installed for it, or why it did not run."""

    python: str  # "3.13.0"
    role: str  # "newest declared" / "oldest supported"
    environment: str = ""
    ran: bool = False
    passed: int = 0
    failed: int = 0
    errors: int = 0
    failing: tuple[FailingTest, ...] = ()
    installed: tuple[str, ...] = ()
    note: str = ""
    from_cache: bool = False

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready."""
        return {
            "python": self.python,
            "role": self.role,
            "environment": self.environment,
            "ran": self.ran,
            "passed": self.passed,
            "failed": self.failed,
            "errors": self.errors,
            "failing": [test.to_dict() for test in self.failing],
            "installed": list(self.installed),
            "note": self.note,
            "from_cache": self.from_cache,
        }

    def summary(self) -> str:
        """`Python 3.13.0 (newest declared): 21 passed, 2 failed` or why it did not run."""
        head = f"Python {self.python} ({self.role})"
        if not self.ran:
            return f"{head}: did not run: {self.note}"
        counts = f"{self.passed} passed, {self.failed} failed, {self.errors} errors"
        return f"{head}: {counts}" + (f" — {self.note}" if self.note else "")


@dataclass(frozen=True)
class BaseSuites:
    """What research learnt from base's suites, for the plan, the report and the proof."""

    runs: tuple[SuiteOnPython, ...] = ()
    installed: tuple[str, ...] = ()  # distributions installed for imports only the tests make
    notes: tuple[str, ...] = field(default=())

    def red_fixes(self) -> dict[tuple[str, str], tuple[str, ...]]:
        """(recipe, file) -> the failing tests (`3.13: tests/test_a.py::test_b`) a rewrite of that file fixes."""
        fixes: dict[tuple[str, str], list[str]] = {}
        for run in self.runs:
            for test in run.failing:
                diagnosis = test.diagnosis
                if diagnosis is None or diagnosis.recipe is None or diagnosis.path is None:
                    continue
                tests = fixes.setdefault((diagnosis.recipe, diagnosis.path), [])
                label = f"{run.python}: {test.test_id}"
                if label not in tests:
                    tests.append(label)
        return {key: tuple(value) for key, value in sorted(fixes.items())}

    def unfixable(self) -> tuple[str, ...]:
        """One line per diagnosed cause no recipe rewrites, saying why (never a silent refusal)."""
        lines: list[str] = []
        for run in self.runs:
            for test in run.failing:
                diagnosis = test.diagnosis
                if diagnosis is None or (diagnosis.recipe is not None and diagnosis.path is not None):
                    continue
                if diagnosis.dependency:
                    why = f"update or replace {diagnosis.dependency}: the project's code is not where it fails"
                elif diagnosis.recipe is None:
                    why = "no recipe rewrites it safely"
                else:
                    why = "no repository line to rewrite"
                line = f"{test.test_id} on Python {run.python}: {diagnosis.describe()}; {why}"
                if line not in lines:
                    lines.append(line)
        return tuple(lines)

    def lines(self) -> tuple[str, ...]:
        """For people (`evolve plan`, the report): per Python, the counts, then each failing test and its cause."""
        out: list[str] = []
        for run in self.runs:
            out.append(run.summary())
            for test in run.failing:
                cause = test.diagnosis.describe() if test.diagnosis else _last_line(test.traceback)
                out.append(f"  FAILED {test.test_id}: {cause}")
        out.extend(self.notes)
        return tuple(out)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready."""
        return {
            "runs": [run.to_dict() for run in self.runs],
            "installed": list(self.installed),
            "notes": list(self.notes),
        }


_ERROR_LINE = re.compile(r"^(?:E\s+)?[\w.]*(?:Error|Exception|Failure|Exit)\b.*$")


def _last_line(text: str) -> str:
    """The error line of a traceback (its last `SomethingError: ...`), else its last non-separator line."""
    lines = [line.strip() for line in text.splitlines() if line.strip().strip("-=_ ")]
    errors = [line for line in lines if _ERROR_LINE.match(line)]
    chosen = errors[-1] if errors else (lines[-1] if lines else "(no traceback)")
    return chosen.removeprefix("E").strip()[:300]


def suite_pythons(
    interpreters: Sequence[Interpreter], requires_python: str | None
) -> tuple[tuple[Interpreter, str], ...]:
    """The newest CPython `requires_python` admits on this machine and, when it is another minor version, the
    oldest one (`interpreters` as `available_interpreters` lists them: 3.8 and newer, newest first)."""
    try:
        spec = SpecifierSet(requires_python or "")
    except InvalidSpecifier:
        spec = SpecifierSet("")
    fitting = [
        i for i in interpreters if i.implementation == "cpython" and spec.contains(i.version_text, prereleases=True)
    ]
    if not fitting:
        return ()
    newest, oldest = fitting[0], fitting[-1]
    if newest.version[:2] == oldest.version[:2]:
        return ((newest, "newest declared"),)
    return ((newest, "newest declared"), (oldest, "oldest supported"))


def with_test_settings(config: EvolveConfig, python: str | None, install: Sequence[str]) -> EvolveConfig:
    """`config` with the suite's interpreter and extra requirements (`gates.tests.python` / `.install`)."""
    tests = config.gates.tests
    extra = [requirement for requirement in install if requirement not in tests.install]
    if python is None and not extra:
        return config
    changed = tests.model_copy(update={"python": python or tests.python, "install": [*tests.install, *extra]})
    return config.model_copy(update={"gates": config.gates.model_copy(update={"tests": changed})})


def failing_tests(run: TestRun, root: Path) -> tuple[FailingTest, ...]:
    """The failing tests of a run (every id the run names) with their tracebacks, where `failure_details` still
    holds them (it is capped), and diagnoses."""
    blocks = list(_BLOCK.finditer(run.failure_details))
    texts: dict[str, str] = {}
    for index, match in enumerate(blocks):
        end = blocks[index + 1].start() if index + 1 < len(blocks) else len(run.failure_details)
        texts.setdefault(match["id"], run.failure_details[match.end() : end].strip())
    if not blocks and run.failing_tests:  # a run that failed without naming a test: its output is the evidence
        fallback = run.failure_details or run.output_tail
        texts = {test_id: fallback for test_id in run.failing_tests}
    found: list[FailingTest] = []
    for test_id in dict.fromkeys((*run.failing_tests, *texts)):
        text = texts.get(test_id, "")
        found.append(FailingTest(test_id, text[-TRACEBACK_LIMIT:], diagnose(text, root) if text else None))
    return tuple(found)


class SuiteResearch:
    """Runs base's suite on the chosen Pythons (a class only to share the tree, the cache and the progress)."""

    def __init__(
        self,
        tree: Path,
        base_sha: str,
        config: EvolveConfig,
        settings: EnvironmentSettings,
        progress: Progress | None = None,
        cache: BaseResultsCache | None = None,
        budget: float | None = None,
    ) -> None:
        self.tree = Path(tree)
        self.base_sha = base_sha
        self.config = config
        self.settings = settings
        self.progress = progress or (lambda step, done, total: None)
        self.cache = cache or BaseResultsCache()
        self._paths: list[str] | None = None
        self.budget = budget  # seconds all of base's runs may take together (None: each suite's own timeout)
        self._deadline = time.monotonic() + budget if budget is not None else None

    def _remaining(self) -> float | None:
        """Seconds left of the budget (None: no budget)."""
        return None if self._deadline is None else self._deadline - time.monotonic()

    def python_files(self) -> list[str]:
        """The tree's Python files (listed once)."""
        if self._paths is None:
            self._paths = list_python_files(self.tree, self.config)
        return self._paths

    def run(self) -> BaseSuites:
        """Base's suites on each chosen Python; never raises for the project's problems."""
        if detect_test_command(self.tree, self.config.gates.tests.command) is None:
            return BaseSuites(notes=("base's suite was not run: no tests found",))
        targets: tuple[tuple[str | None, str], ...]
        if self.settings.python or not self.settings.build:
            targets = ((None, "the chosen interpreter"),)
        else:
            declared = discover(read_project_files(self.tree))
            probes = EnvironmentStore(self.settings.store_dir, self.settings.max_bytes).root / "interpreters.json"
            found = available_interpreters(candidate_paths(with_uv=False), probes)
            chosen = suite_pythons(found, declared.requires_python) or suite_pythons(
                available_interpreters(None, probes), declared.requires_python
            )
            if not chosen:
                have = ", ".join(i.version_text for i in found) or "none"
                return BaseSuites(
                    notes=(f"base's suite was not run: no Python here fits {declared.requires_python!r} ({have})",)
                )
            targets = tuple((".".join(map(str, i.version[:2])), role) for i, role in chosen)
            gates = _gates_python(found, declared.requires_python, self.config.gates.tests.python)
            if gates is not None and gates not in {python for python, _ in targets}:
                # The gates compare base and head there: a failure only that Python shows must be diagnosed too.
                targets += ((gates, "the gates' Python"),)
        runs: list[SuiteOnPython] = []
        installed: list[str] = []
        for number, (python, role) in enumerate(targets):
            self.progress("base suites", number, len(targets))
            remaining = self._remaining()
            if remaining is not None and remaining < MIN_SUITE_SECONDS:
                spent = f"the time for base's suites ({self.budget:g} s, EVOLVE_BASE_SUITES_SECONDS) was spent"
                runs.append(SuiteOnPython(python or "?", role, note=spent))
                continue
            outcome = self._one(python, role, installed)
            installed.extend(name for name in outcome.installed if name not in installed)
            runs.append(outcome)
        self.progress("base suites", len(targets), len(targets))
        notes: tuple[str, ...] = ()
        if installed:
            names = ", ".join(installed)
            notes = (
                f"the tests import {names}, which the project does not declare: Evolve installed "
                f"{'it' if len(installed) == 1 else 'them'} to run the suite; declare {names} with the test "
                "requirements (e.g. an optional-dependencies `test` extra or requirements-test.txt)",
            )
        return BaseSuites(tuple(runs), tuple(installed), notes)

    def _one(self, python: str | None, role: str, already: list[str]) -> SuiteOnPython:
        installed = list(already)
        previous: SuiteOnPython | None = None  # the outcome before the last install was tried
        for _ in range(MAX_INSTALLS + 1):
            config = with_test_settings(self.config, python, installed)
            environment = prepare_environment(self.tree, config, self.settings)
            if isinstance(environment, EnvironmentFailure):
                if previous is not None:  # the guessed distribution does not install: keep the run without it
                    failed = installed.pop()
                    note = f"{failed} (for a module only the tests import) could not be installed"
                    return replace(previous, note="; ".join(filter(None, (previous.note, note))))
                return SuiteOnPython(python or "?", role, note=environment.message[:600], installed=tuple(installed))
            run, cached = self._suite(config, environment)
            reason = cannot_start_reason(run)
            outcome = SuiteOnPython(
                python=_environment_version(environment, python),
                role=role,
                environment=environment.description,
                ran=reason is None and not run.timed_out,
                passed=run.passed,
                failed=run.failed,
                errors=run.errors,
                # A suite that cannot start still says why (collection errors): those are diagnosed too.
                failing=failing_tests(run, self.tree),
                installed=tuple(name for name in installed if name not in already),
                note=reason or ("timed out" if run.timed_out else ""),
                from_cache=cached,
            )
            text = run.output_tail + "\n" + run.failure_details
            module = module_only_tests_import(self.tree, text, self.python_files()) if not run.ok else None
            distribution = distribution_for(module) if module else None
            if distribution and distribution not in installed and len(installed) < MAX_INSTALLS:
                installed.append(distribution)
                previous = outcome
                continue
            return outcome
        raise AssertionError("unreachable: the loop returns once no module is left to install")

    def _suite(self, config: EvolveConfig, environment: Environment) -> tuple[TestRun, bool]:
        """Base's run in `environment` (no coverage), from the cache when this commit ran there before."""
        command = detect_test_command(self.tree, config.gates.tests.command)
        runner = (command.runner, *command.args) if command else ()
        key = cache_key(
            self.base_sha,
            ("base-suite", *runner),
            environment.key or environment_key(environment.python),
            (f"network={config.gates.tests.allow_network}", "coverage=no"),
        )
        cached = self.cache.load(key)
        if cached is not None:
            return cached, True
        remaining = self._remaining()
        timeout = None if remaining is None else max(1.0, min(float(config.gates.tests.timeout), remaining))
        run = run_test_suite(self.tree, config, with_coverage=False, environment=environment, timeout=timeout)
        self.cache.store(key, run)
        return run, False


def _gates_python(found: Sequence[Interpreter], requires_python: str | None, wanted: str | None) -> str | None:
    """The minor version the gates' environment uses (the builder's own choice), or None when none fits."""
    try:
        chosen = choose_interpreter(found, requires_python, wanted)
    except NoInterpreter:
        return None
    return ".".join(map(str, chosen.version[:2]))


def _environment_version(environment: Environment, asked: str | None) -> str:
    """The interpreter's version as its description states it (`Python 3.13.0, built ...`), else what was asked."""
    match = re.match(r"Python (\d+\.\d+(?:\.\d+)?)", environment.description)
    return match.group(1) if match else (asked or "?")


def research_suites(
    tree: Path,
    base_sha: str,
    config: EvolveConfig,
    settings: EnvironmentSettings,
    progress: Progress | None = None,
    cache: BaseResultsCache | None = None,
    budget: float | None = None,
) -> BaseSuites:
    """Base's suite on the newest declared and the oldest supported Python: failing tests, causes, installs;
    all of it within `budget` seconds when given."""
    return SuiteResearch(tree, base_sha, config, settings, progress, cache, budget).run()


@dataclass(frozen=True)
class SuiteProof:
    """Head's suite on each Python base's ran on: the tests it turns green, and any it turns red."""

    lines: tuple[str, ...] = ()
    fixed: tuple[str, ...] = ()  # `3.13.0: tests/test_a.py::test_b`
    regressions: tuple[str, ...] = ()


def _minor(version: str) -> str:
    return ".".join(version.split(".")[:2])


def prove_head(head: Path, config: EvolveConfig, settings: EnvironmentSettings, suites: BaseSuites) -> SuiteProof:
    """Run head's suite on every Python base's suite ran on and compare by test id: which tests that failed on
    base pass on head, and which that passed on base fail on head (those must be none)."""
    lines: list[str] = []
    fixed: list[str] = []
    regressions: list[str] = []
    chosen = bool(settings.python) or not settings.build
    for base in suites.runs:
        if not base.ran and not base.failing:
            continue
        tests_config = with_test_settings(config, None if chosen else _minor(base.python), suites.installed)
        environment = prepare_environment(head, tests_config, settings)
        if isinstance(environment, EnvironmentFailure):
            lines.append(f"Python {base.python}: head's suite did not run: {environment.message[:300]}")
            regressions.append(f"{base.python}: <head's environment>")
            continue
        run = run_test_suite(head, tests_config, with_coverage=False, environment=environment)
        failing_before = {test.test_id for test in base.failing}
        failing_after = {test.test_id for test in failing_tests(run, head)} | set(run.failing_tests)
        green = sorted(failing_before - failing_after)
        red = turned_red(failing_before, failing_after) + (["<timed out>"] if run.timed_out else [])
        fixed += [f"{base.python}: {test}" for test in green]
        if not base.ran:  # base's suite never started: no test is known to have passed there
            lines.append(
                f"Python {base.python}: base's suite could not start; with this change {run.passed} passed, "
                f"{run.failed + run.errors} failing"
            )
            if red:
                lines.append(
                    f"{plural(len(red), 'test')} {_verb(len(red), 'fails', 'fail')} with this change (base ran none): "
                    + ", ".join(red[:20])
                )
            if green:
                lines.append(f"base's errors gone on Python {base.python}: " + ", ".join(green[:20]))
            continue
        regressions += [f"{base.python}: {test}" for test in red]
        lines.append(
            f"Python {base.python}: base {base.passed} passed, {base.failed + base.errors} failing; "
            f"with this change {run.passed} passed, {run.failed + run.errors} failing"
        )
        if green:
            lines.append(
                f"{tests_text(green)} that {_verb(len(green), 'fails', 'fail')} on Python {base.python} on base "
                f"{_verb(len(green), 'passes', 'pass')} with this change: " + ", ".join(green)
            )
        if red:
            lines.append(
                f"{tests_text(red)} that {_verb(len(red), 'passes', 'pass')} on Python {base.python} on base "
                f"{_verb(len(red), 'fails', 'fail')} with this change: " + ", ".join(red)
            )
    return SuiteProof(tuple(lines), tuple(fixed), tuple(regressions))


def turned_red(failing_before: set[str], failing_after: set[str]) -> list[str]:
    """The tests failing on head that did not fail on base, leaving out those whose module failed to import on
    base (webob's `tests/test_in_wsgiref.py`): they never ran there, so they did not pass there."""
    unloaded = {module_that_failed_to_load(test) for test in failing_before} - {None}
    return sorted(
        test
        for test in failing_after - failing_before
        if not any(test.startswith((f"{module}::", f"{module}.")) for module in unloaded)
    )


_UNITTEST_FAILED_IMPORT = "unittest.loader._FailedTest."


def module_that_failed_to_load(test_id: str) -> str | None:
    """The module a failing id stands for when it is a module that failed to import: pytest's `tests/test_a.py`
    (no `::`), unittest's `unittest.loader._FailedTest.tests.test_a`; None for a test."""
    if test_id.startswith(_UNITTEST_FAILED_IMPORT):
        return test_id[len(_UNITTEST_FAILED_IMPORT) :]
    return test_id if "::" not in test_id and test_id.endswith(".py") else None


def _verb(count: int, singular: str, plural_form: str) -> str:
    """The verb agreeing with `count` things (`1 test fails`, `2 tests fail`)."""
    return singular if count == 1 else plural_form
