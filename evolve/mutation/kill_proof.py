"""Prove tests written to kill surviving mutants: each must pass on base three times in a row and fail on a mutant.

A proposed test file is run on base (the tree plus the proposed files) three times in one sandbox, so state it leaves
behind (a counter file, a cache) carries from one run to the next as it would between two CI runs on a shared
machine. A file that passes all three is run against every mutant (the mutation runner swaps the mutant in, its
clean run being a fourth pass on base); it is kept when some mutant makes it fail. `judge_test` is pure.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Literal

from evolve.configuration.model import EvolveConfig
from evolve.environments.model import Environment
from evolve.mutation.generation import Mutant
from evolve.mutation.results import MutationRun, survivor_sentence
from evolve.mutation.runner import RunSettings, pytest_arguments, run_mutants
from evolve.sandbox import (
    SANDBOX_OUT,
    SANDBOX_PATH,
    Mount,
    SandboxSpec,
    interpreter_mounts,
    read_output_file,
    run_sandboxed,
)
from evolve.sandbox.trees import copy_tree, make_scratch_directory, remove_tree
from evolve.suites.runs import import_path_environment
from evolve.untrusted_text import cap_text, redacted

ROUNDS = 3
REPEAT_SCRIPT = "evolve_repeat_tests.py"
RESULTS_LIMIT = 1024**2
OUTPUT_KEPT = 1500

Decision = Literal["kept", "flaky", "fails-on-base", "does-not-kill", "not-judged"]

# Runs in the sandbox with the project's interpreter: each file alone, ROUNDS times, exit codes to a JSON file.
REPEAT_SOURCE = '''"""Written by Evolve: run each test file alone, several rounds, and record the exit codes."""
import json
import subprocess
import sys

plan = json.load(open(sys.argv[1], encoding="utf-8"))
results = {path: {"codes": [], "output": ""} for path in plan["files"]}
for _round in range(plan["rounds"]):
    for path in plan["files"]:
        run = subprocess.run(
            [sys.executable, "-m", "pytest", *plan["pytest_args"], path],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, errors="replace",
        )
        results[path]["codes"].append(run.returncode)
        if run.returncode != 0 and not results[path]["output"]:
            results[path]["output"] = run.stdout[-4000:]
        with open(sys.argv[2], "w", encoding="utf-8") as handle:
            json.dump(results, handle)
'''


@dataclass(frozen=True)
class TestVerdict:
    """What became of one proposed test file: kept (with the mutants it kills) or rejected, and why."""

    __test__ = False

    path: str
    decision: Decision
    reason: str = ""
    kills: tuple[str, ...] = ()  # the survivors it kills, as sentences ("no test distinguishes ...")
    base_runs: tuple[int, ...] = ()  # pytest's exit code on base, run by run
    output: str = ""  # the end of pytest's output in the first failing run on base (untrusted, capped, redacted)

    @property
    def kept(self) -> bool:
        """Whether the file stays in the change."""
        return self.decision == "kept"

    def to_dict(self) -> dict[str, object]:
        """JSON-ready, for the report."""
        return {
            "path": self.path,
            "decision": self.decision,
            "reason": self.reason,
            "kills": list(self.kills),
            "base_runs": list(self.base_runs),
            "output": self.output,
        }


def judge_base_runs(path: str, codes: Sequence[int], output: str = "") -> TestVerdict | None:
    """The rejection a file's runs on base call for (None: it passed every round)."""
    if len(codes) == ROUNDS and all(code == 0 for code in codes):
        return None
    tail = cap_text(redacted(output), OUTPUT_KEPT, keep="tail") if output else ""
    runs = tuple(codes)
    if not codes:
        return TestVerdict(path, "not-judged", "it could not be run on the current code", base_runs=runs)
    if codes[0] != 0:
        why = "no tests were collected" if codes[0] == 5 else f"it fails on the current code (pytest exit {codes[0]})"
        return TestVerdict(path, "fails-on-base", why, base_runs=runs, output=tail)
    passes = sum(1 for code in codes if code == 0)
    failed = next(number for number, code in enumerate(codes, 1) if code != 0)
    why = f"flaky: it passed {passes} of {len(codes)} runs on the unchanged code (run {failed} failed)"
    return TestVerdict(path, "flaky", why, base_runs=runs, output=tail)


def judge_test(path: str, codes: Sequence[int], run: MutationRun | None, mutants: Sequence[Mutant]) -> TestVerdict:
    """A file that passed base every round: kept when a mutant made it fail, else why not."""
    base = tuple(codes)
    if not mutants:
        return TestVerdict(path, "not-judged", "there is no surviving mutant to check it against", base_runs=base)
    if run is None or not run.clean_ok:
        problem = run.problem if run is not None else "the mutants were not run"
        return TestVerdict(path, "fails-on-base", f"it fails when run beside the mutants: {problem}", base_runs=base)
    killed = tuple(survivor_sentence(result.mutant) for result in run.results if result.verdict == "killed")
    if killed:
        return TestVerdict(path, "kept", kills=killed, base_runs=base)
    if run.results and all(result.verdict in ("not-run", "error") for result in run.results):
        return TestVerdict(path, "not-judged", "the mutants could not be run within the budget", base_runs=base)
    targets = "; ".join(survivor_sentence(mutant) for mutant in mutants)
    return TestVerdict(path, "does-not-kill", f"it passes on every surviving mutant ({targets})", base_runs=base)


def prove_tests(
    root: Path,
    files: Mapping[str, str],
    mutants: Sequence[Mutant],
    config: EvolveConfig,
    *,
    environment: Environment | None = None,
    budget_seconds: float = 120.0,
) -> tuple[TestVerdict, ...]:
    """Judge each proposed test file (path -> text, added to the tree at `root`) against `mutants`, in the sandbox.
    Never raises for what the tests do."""
    if not files:
        return ()
    python = environment.python if environment is not None else sys.executable
    scratch = make_scratch_directory()
    try:
        tree = scratch / "tree"
        copy_tree(Path(root), tree)
        for path, text in files.items():
            (tree / path).parent.mkdir(parents=True, exist_ok=True)
            (tree / path).write_text(text, encoding="utf-8")
        runs = _repeat_on_base(tree, sorted(files), config, python, environment, budget_seconds)
        verdicts: dict[str, TestVerdict] = {}
        stable = []
        for path in sorted(files):
            codes, output = runs.get(path, ((), ""))
            rejected = judge_base_runs(path, codes, output)
            if rejected is None:
                stable.append(path)
            else:
                verdicts[path] = rejected
        settings = RunSettings(budget_seconds=budget_seconds)
        together = _against_mutants(tree, stable, mutants, config, settings, environment)
        for path in stable:
            # Files that disturb one another when run together (the joint clean run fails) are run one by one.
            shared = together.clean_ok or len(stable) == 1
            run = together if shared else _against_mutants(tree, [path], mutants, config, settings, environment)
            aimed = [replace(mutant, tests=(path,)) for mutant in mutants]
            verdicts[path] = judge_test(path, runs[path][0], _results_of(run, path), aimed)
        return tuple(verdicts[path] for path in sorted(files))
    except OSError as error:
        return tuple(TestVerdict(path, "not-judged", f"the tests could not be run: {error}") for path in sorted(files))
    finally:
        remove_tree(scratch)


def _against_mutants(
    tree: Path,
    paths: Sequence[str],
    mutants: Sequence[Mutant],
    config: EvolveConfig,
    settings: RunSettings,
    environment: Environment | None,
) -> MutationRun:
    """One sandboxed mutation run of every (file, mutant) pair: mutant ids are file index x len(mutants) + index."""
    aimed = [
        replace(mutant, id=number * len(mutants) + index, tests=(path,))
        for number, path in enumerate(paths)
        for index, mutant in enumerate(mutants)
    ]
    return run_mutants(tree, aimed, config, settings=settings, environment=environment) if aimed else MutationRun()


def _results_of(run: MutationRun, path: str) -> MutationRun:
    """The part of a joint run that concerns the tests of `path`."""
    return replace(run, results=tuple(result for result in run.results if result.mutant.tests == (path,)))


def _repeat_on_base(
    tree: Path,
    paths: Sequence[str],
    config: EvolveConfig,
    python: str,
    environment: Environment | None,
    budget_seconds: float,
) -> dict[str, tuple[tuple[int, ...], str]]:
    """Each file's exit codes over ROUNDS runs on base, and the output of its first failing run."""
    outputs = make_scratch_directory()
    try:
        (outputs / REPEAT_SCRIPT).write_text(REPEAT_SOURCE, encoding="utf-8")
        arguments = [argument for argument in pytest_arguments(python) if argument != "-x"]
        plan = {"files": list(paths), "rounds": ROUNDS, "pytest_args": [*arguments, "--tb=short"]}
        (outputs / "plan.json").write_text(json.dumps(plan), encoding="utf-8")
        mounts = interpreter_mounts(python)
        extra = environment.mounts if environment is not None else ()
        mounts += tuple(Mount(Path(path), path) for path in extra if all(m.target != path for m in mounts))
        spec = SandboxSpec(
            argv=(python, f"{SANDBOX_OUT}/{REPEAT_SCRIPT}", f"{SANDBOX_OUT}/plan.json", f"{SANDBOX_OUT}/runs.json"),
            timeout=budget_seconds,
            tree=tree,
            env={**import_path_environment(tree), "PATH": f"{Path(python).parent}:{SANDBOX_PATH}"},
            egress=environment.egress if environment is not None and config.gates.tests.allow_network else None,
            mounts=mounts,
            outputs=outputs,
        )
        run_sandboxed(spec)
        return read_repeat_results(read_output_file(outputs, "runs.json", RESULTS_LIMIT), paths)
    finally:
        remove_tree(outputs)


def read_repeat_results(raw: bytes | None, paths: Sequence[str]) -> dict[str, tuple[tuple[int, ...], str]]:
    """The repeat script's JSON (untrusted): exit codes and first failure output, for the files asked about only."""
    try:
        document = json.loads(raw) if raw is not None else {}
    except ValueError:
        document = {}
    document = document if isinstance(document, dict) else {}
    results = {}
    for path in paths:
        entry = document.get(path)
        entry = entry if isinstance(entry, dict) else {}
        codes = entry.get("codes")
        codes = [code for code in codes if isinstance(code, int)][:ROUNDS] if isinstance(codes, list) else []
        output = entry.get("output")
        results[path] = (tuple(codes), output if isinstance(output, str) else "")
    return results
