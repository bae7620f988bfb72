"""Run a tree's mutants in the sandbox: one sandboxed worker per tree, mutants in parallel inside it, in a budget.

The worker (evolve/mutation/sandbox_worker.py, copied into the run's output directory) runs with the project's own
interpreter; it imports the project once and forks a child per mutant (see its docstring). What it writes back is
read as untrusted data: bounded, and only for the mutant ids that were asked for.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from evolve.configuration.model import EvolveConfig
from evolve.environments.model import Environment
from evolve.mutation.generation import Mutant
from evolve.mutation.results import VERDICTS, MutantResult, MutationRun
from evolve.sandbox import (
    SANDBOX_OUT,
    SANDBOX_PATH,
    SANDBOX_REPO,
    Mount,
    ResourceLimits,
    SandboxSpec,
    interpreter_mounts,
    read_output_file,
    run_sandboxed,
)
from evolve.sandbox.trees import make_scratch_directory, remove_tree
from evolve.suites.runs import import_path_environment, pytest_cov_installed, with_compiled_artifacts
from evolve.untrusted_text import cap_text, redacted

WORKER = "evolve_mutation_worker.py"
RESULTS_LIMIT = 16 * 1024**2
SETUP_MARGIN = 60.0  # the sandbox's own time beyond the mutants' budget: start-up, collection, the clean run


@dataclass(frozen=True)
class RunSettings:
    """How a tree's mutants run: the budget, parallel children, and each mutant's timeout (floor + factor × the
    covering tests' clean time)."""

    budget_seconds: float = 120.0
    workers: int = 0  # 0: one per core
    timeout_floor: float = 2.0
    timeout_factor: float = 3.0


def module_name(path: str, root: Path) -> str | None:
    """The import name of a repository file (`src/` layouts too), or None when it is not importable by name."""
    parts = path.removesuffix(".py").split("/")
    if parts[0] == "src" and (root / "src").is_dir():
        parts = parts[1:]
    if parts and parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts) if parts and all(part.isidentifier() for part in parts) else None


def pytest_arguments(python: str) -> list[str]:
    """pytest options for the worker: quiet, stop at the first failure, no cache, no coverage or xdist workers
    (a mutant swapped in this process must run in this process)."""
    arguments = ["-q", "-x", "--tb=no", "-p", "no:cacheprovider"]
    if pytest_cov_installed(python):
        arguments.append("--no-cov")
    prefix = Path(python).parent.parent
    if any(prefix.glob("lib/python3*/site-packages/xdist")):
        arguments += ["-n", "0"]
    return arguments


def worker_plan(mutants: Sequence[Mutant], root: Path, python: str, settings: RunSettings) -> dict[str, object]:
    """The plan the sandboxed worker reads."""
    paths = sorted({mutant.path for mutant in mutants})
    return {
        "budget_seconds": settings.budget_seconds,
        "workers": settings.workers or max(1, os.cpu_count() or 1),
        "timeout_floor": settings.timeout_floor,
        "timeout_factor": settings.timeout_factor,
        "pytest_args": pytest_arguments(python),
        "files": {
            f"{SANDBOX_REPO}/{path}": (root / path).read_text(encoding="utf-8", errors="replace") for path in paths
        },
        "modules": [name for path in paths if (name := module_name(path, root)) is not None],
        "mutants": [
            {
                "id": mutant.id,
                "file": f"{SANDBOX_REPO}/{mutant.path}",
                "start": list(mutant.mutation.start),
                "end": list(mutant.mutation.end),
                "replacement": mutant.mutation.replacement,
                "function": list(mutant.mutation.function) if mutant.mutation.function else None,
                "tests": list(mutant.tests),
            }
            for mutant in mutants
        ],
    }


def run_mutants(
    root: Path,
    mutants: Sequence[Mutant],
    config: EvolveConfig,
    *,
    settings: RunSettings = RunSettings(),
    environment: Environment | None = None,
    limits: ResourceLimits = ResourceLimits(),
) -> MutationRun:
    """Run `mutants` of the tree at `root` against their covering tests in the sandbox. Never raises for what the
    repository's code does; a run that yields no results says why in `problem`."""
    if not mutants:
        return MutationRun()
    python = environment.python if environment is not None else sys.executable
    outputs = make_scratch_directory()
    try:
        (outputs / WORKER).write_text(Path(__file__).with_name("sandbox_worker.py").read_text(encoding="utf-8"))
        plan = worker_plan(mutants, Path(root), python, settings)
        (outputs / "plan.json").write_text(json.dumps(plan), encoding="utf-8")
        mounts = interpreter_mounts(python)
        extra = environment.mounts if environment is not None else ()
        mounts += tuple(Mount(Path(path), path) for path in extra if all(m.target != path for m in mounts))
        argv = (python, f"{SANDBOX_OUT}/{WORKER}", f"{SANDBOX_OUT}/plan.json", f"{SANDBOX_OUT}/results.json")
        spec = SandboxSpec(
            argv=with_compiled_artifacts(argv, environment.compiled_artifacts if environment is not None else None),
            timeout=settings.budget_seconds + SETUP_MARGIN,
            tree=Path(root),
            env={**import_path_environment(Path(root)), "PATH": f"{Path(python).parent}:{SANDBOX_PATH}"},
            egress=environment.egress if environment is not None and config.gates.tests.allow_network else None,
            mounts=mounts,
            outputs=outputs,
            limits=limits,
        )
        result = run_sandboxed(spec)
        raw = read_output_file(outputs, "results.json", RESULTS_LIMIT)
        if raw is None:
            output = cap_text(redacted(result.stderr or result.stdout), 1500, keep="tail")
            why = "timed out" if result.timed_out else f"exited with code {result.returncode}"
            return MutationRun(
                results=tuple(MutantResult(mutant, "not-run") for mutant in mutants),
                seconds=result.duration,
                clean_ok=False,
                problem=f"the mutation worker {why} without results: {output}".strip(),
            )
        return read_results(raw, mutants, result.duration)
    except (OSError, ValueError) as error:
        return MutationRun(
            results=tuple(MutantResult(mutant, "not-run") for mutant in mutants),
            clean_ok=False,
            problem=f"the mutants could not be run: {error}",
        )
    finally:
        remove_tree(outputs)


def read_results(raw: bytes, mutants: Sequence[Mutant], seconds: float) -> MutationRun:
    """The worker's results (untrusted JSON): a verdict for each mutant asked for, `not-run` where missing."""
    try:
        document = json.loads(raw)
    except ValueError:
        document = {}
    if not isinstance(document, dict):
        document = {}
    verdicts = document.get("mutants")
    verdicts = verdicts if isinstance(verdicts, dict) else {}
    clean = document.get("clean")
    clean_ok = isinstance(clean, dict) and clean.get("code") == 0
    results = []
    for mutant in mutants:
        entry = verdicts.get(str(mutant.id))
        entry = entry if isinstance(entry, dict) else {}
        verdict = entry.get("status")
        took = entry.get("seconds")
        mode = entry.get("mode")
        results.append(
            MutantResult(
                mutant,
                verdict if verdict in VERDICTS else "not-run",
                float(took) if isinstance(took, (int, float)) and 0 <= took < 1e6 else 0.0,
                mode if mode in ("swap", "fresh") else "",
            )
        )
    problem = "" if clean_ok else "the covering tests do not pass on the unmutated code when run on their own"
    return MutationRun(tuple(results), seconds, clean_ok, problem)
