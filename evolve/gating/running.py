"""Running gates for the engine: find and build the configured gates, give them a context, collect their results.

Built-in gates register through the `evolve.gates` entry-point group like any plugin; the core never imports them
by name. Discovery lists entry points without importing anything; loading imports one gate at a time and checks it.
"""

from __future__ import annotations

import functools
import traceback
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from importlib.metadata import EntryPoint
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from evolve.configuration.model import EvolveConfig
from evolve.environments.model import Environment
from evolve.findings import ScanResult
from evolve.gate_api import Gate, GateContext, Measurement, Which
from evolve.plugins import PluginKind, settings_model
from evolve.project_rules.model import ProjectRules
from evolve.results import Errored, GateResult, Skipped
from evolve.sandbox.cancellation import in_context
from evolve.suites.coverage_scope import coverage_scope
from evolve.suites.runs import TestRun, run_test_suite

CANNOT_CHECK = "cannot check: {reason}"

GATES: PluginKind[Gate[Any]] = PluginKind("evolve.gates", "gate", Gate, lambda gate: getattr(gate, "name", None))


def available_gates(found: Iterable[EntryPoint] | None = None) -> tuple[str, ...]:
    """The names of every registered gate, sorted."""
    return GATES.names(found)


def gate_settings(config: EvolveConfig, gate: type[Gate[Any]]) -> BaseModel:
    """The typed settings of `gate`: what `gates.<name>` says, validated against the gate's own model."""
    return settings_model(gate).model_validate(config.gates.settings_of(gate.name))


def build_gates(config: EvolveConfig, found: Iterable[EntryPoint] | None = None) -> list[Gate[Any]]:
    """Instantiate the gates the configuration selects (`gates.selected`), in order, each with its settings."""
    classes = GATES.load_named(config.gates.selected, found)
    return [gate_class(gate_settings(config, gate_class)) for gate_class in classes.values()]


def evaluate_gates(gates: Sequence[Gate[Any]], context: GateContext) -> tuple[GateResult, ...]:
    """Run every gate; results in the gates' order. Never raises: a gate that raises or returns garbage becomes
    Errored.

    Gates that read no shared measurement (`Gate.independent`: the project's linters and type checkers) run in
    threads of their own, so their subprocesses overlap the test runs instead of following them. The gates that
    read measurements run in one more thread, in their order, beside the main thread's turn: the gates that read
    test runs wait for the suites there while those that read only scans (complexity, maintainability, docstrings,
    security) judge as soon as the scans are in, instead of after the suites. Gates that read test runs are those
    asking for coverage or test contexts, and the tests gate. The measurements are shared behind the context."""
    last = [index for index, gate in enumerate(gates) if getattr(gate, "after_others", False)]
    beside = [index for index, gate in enumerate(gates) if getattr(gate, "independent", False) and index not in last]
    rest = [index for index in range(len(gates)) if index not in beside and index not in last]
    on_tests = [index for index in rest if _reads_test_runs(gates[index])]
    others = [index for index in rest if index not in on_tests]
    results: dict[int, GateResult] = {}
    with ThreadPoolExecutor(max_workers=len(beside) + 1, thread_name_prefix="evolve-gate") as pool:
        running = {index: pool.submit(in_context(_evaluate_one), gates[index], context) for index in beside}
        scans = pool.submit(in_context(_evaluate_in_order), gates, others, context)
        results.update(_evaluate_in_order(gates, on_tests, context))
        results.update(scans.result())
        results.update({index: future.result() for index, future in running.items()})
    results.update(_evaluate_last(gates, last, results, context))
    return tuple(results[index] for index in range(len(gates)))


def _reads_test_runs(gate: Gate[Any]) -> bool:
    """Whether a gate waits for the suites: it asks for coverage or test contexts, or it is the tests gate."""
    try:
        wanted = gate.measures()
    except Exception:
        return True  # _evaluate_one reports the gate's error; it waits with the gates that read test runs
    return getattr(gate, "name", None) == "tests" or bool({"coverage", "test-contexts"} & set(wanted))


def _evaluate_in_order(
    gates: Sequence[Gate[Any]], indexes: Sequence[int], context: GateContext
) -> dict[int, GateResult]:
    return {index: _evaluate_one(gates[index], context) for index in indexes}


def _evaluate_last(
    gates: Sequence[Gate[Any]], last: Sequence[int], others: Mapping[int, GateResult], context: GateContext
) -> dict[int, GateResult]:
    """The gates that judge only a change the others let through (`Gate.after_others`)."""
    blocking = [result.gate for result in others.values() if not result.ok]
    results: dict[int, GateResult] = {}
    for index in last:
        name = str(getattr(gates[index], "name", type(gates[index]).__name__))
        if blocking:
            summary = f"Not run: the change did not pass {', '.join(blocking)}."
            results[index] = Skipped(gate=name, summary=summary[:300])
        else:
            results[index] = _evaluate_one(gates[index], context)
    return results


def _evaluate_one(gate: Gate[Any], context: GateContext) -> GateResult:
    name = str(getattr(gate, "name", type(gate).__name__))
    try:
        result = gate.evaluate(context)
    except (Exception, SystemExit) as error:
        return Errored(
            gate=name,
            summary=f"The {name} gate crashed with {type(error).__name__}: {error}"[:300],
            details="".join(traceback.format_exception(error)),
        )
    if not isinstance(result, GateResult):
        return Errored(gate=name, summary=f"The {name} gate returned {type(result).__name__} instead of a GateResult.")
    return result


def cannot_check_message(results: Iterable[GateResult]) -> str | None:
    """`cannot check: <gate>: <why>` when a gate errored for a reason that is not the change's (its tool is
    missing, the environment is broken, the tool fails on base too); None otherwise. Such a run stops: the
    error is no evidence against any edit, so narrowing the change would only hide it."""
    reasons = [
        f"{result.gate}: {result.summary.rstrip('.')}"
        for result in results
        if isinstance(result, Errored) and result.cannot_check
    ]
    return CANNOT_CHECK.format(reason="; ".join(reasons)) if reasons else None


def build_context(
    base: Path,
    head: Path,
    changed_files: Sequence[str],
    config: EvolveConfig,
    *,
    changed_lines: Mapping[str, Sequence[int]] | None = None,
    measures: Iterable[Measurement] | None = None,
    environments: Mapping[Which, Environment] | None = None,
    test_progress: Callable[[Which, int, int], None] | None = None,
    rules: ProjectRules | None = None,
    code_changed: bool = True,
) -> GateContext:
    """A GateContext whose scans (of the changed files) and test runs are computed lazily, once per tree.

    `test_progress` hears (tree, tests done, total) while a pytest suite runs. `environments` are the trees'
    environments (the suites and the project's own type checker and linters run in them); `rules` the project's
    tool settings, read once per run (None: the context reads them from base on first use).

    `measures` are the optional measurements to take (by default those the selected gates ask for), so a
    coverage gate and the tests gate share one test run, with coverage only when some gate reads it, and on
    head only when `code_changed` (an edit changes executable code, not only docstrings, comments or annotations),
    and there limited to the changed library modules when they are all the change touches (unless a gate asks for
    "full-coverage"); the coverage gate completes the rest from base's run.
    """
    trees = {"base": Path(base), "head": Path(head)}
    paths = tuple(changed_files)
    wanted = set(measures) if measures is not None else {m for gate in build_gates(config) for m in gate.measures()}
    with_coverage, with_semgrep = "coverage" in wanted, "semgrep" in wanted
    with_contexts = "test-contexts" in wanted
    present = [path for path in paths if (trees["head"] / path).is_file()]
    head_scope = None if "full-coverage" in wanted else coverage_scope(paths, present)

    @functools.cache
    def scan(which: Which) -> ScanResult:
        from evolve.research import scan_repository  # research is optional for gates that never scan

        present = [path for path in paths if (trees[which] / path).is_file()]  # deleted files have nothing to scan
        return scan_repository(trees[which], config, paths=present, with_semgrep=bool(with_semgrep))

    @functools.cache
    def run_tests(which: Which) -> TestRun:
        environment = (environments or {}).get(which)
        report = (lambda done, total: test_progress(which, done, total)) if test_progress else None
        measure = bool(with_coverage) and (which == "base" or code_changed)
        return run_test_suite(
            trees[which],
            config,
            with_coverage=measure,
            environment=environment,
            progress=report,
            coverage_paths=head_scope if which == "head" else None,
            with_contexts=with_contexts and measure,
        )

    return GateContext(
        base=trees["base"],
        head=trees["head"],
        changed_files=paths,
        config=config,
        changed_lines={path: tuple(lines) for path, lines in (changed_lines or {}).items()},
        scan=scan,
        run_tests=run_tests,
        rules=rules,
        environments=dict(environments or {}),
        code_changed=code_changed,
    )
