#!/usr/bin/env python3
"""Evolve's mutation step against mutmut 3 on the same changed lines and tests (targets: at least 2x faster; adds at
most 1.5x one suite run).

For each REPO (a git checkout, e.g. made by scripts/sdist_to_git.py; never modified: every tool works on its own
copy), in one benchmark run:

1. suite: the repository's suite run once as Evolve runs base (sandboxed, line coverage), and once more with
   per-test contexts (what the mutation gate asks of base's run: the difference is the contexts' own cost);
2. changed lines: a "typical PR" — the bodies of the module's largest undecorated functions that the tests run,
   about `--lines` lines in all (`--module` picks the module; default: the one with most covered lines);
3. evolve: choosing the mutants of those lines (per-test contexts of step 1) and running them in the sandbox
   (`evolve.mutation.runner.run_mutants`, the gate's own step), timed from start to verdicts;
4. mutmut: `mutmut run NAMES` on a fresh copy, NAMES being mutmut's own mutants on the same lines (found in an
   untimed preparation run), timed from start to end: its generation, stats, clean and forced-fail runs, and the
   mutants (mutmut picks each mutant's tests from its stats, as Evolve does from coverage contexts).

Both tools use this interpreter and its installed packages (the project's test requirements must be installed in
it: `scripts/sdist_to_git.py --install-test-deps`). mutmut 3 is pip-installed into this interpreter if missing.
The machine's load moves every figure: compare the ratios of one run.

Usage: bench_mutation.py REPO [REPO ...] [--lines N] [--module PATH] [--json]
Exit codes: 0 measured (pass/fail printed per target), 2 could not run.
"""

from __future__ import annotations

import argparse
import ast
import configparser
import importlib.util
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

TARGET_SPEEDUP = 2.0
TARGET_SUITE_RATIO = 1.5
MUTMUT = "mutmut>=3,<4"


@dataclass
class Figures:
    """What one repository measured."""

    repo: str
    module: str
    lines: int
    suite_seconds: float
    contexts_seconds: float
    evolve_seconds: float
    evolve_mutants: int
    evolve_verdicts: dict
    mutmut_seconds: float
    mutmut_mutants: int
    mutmut_verdicts: dict

    @property
    def speedup(self) -> float:
        """mutmut's time over Evolve's."""
        return self.mutmut_seconds / self.evolve_seconds if self.evolve_seconds else 0.0

    @property
    def suite_ratio(self) -> float:
        """Evolve's mutation step over one suite run."""
        return self.evolve_seconds / self.suite_seconds if self.suite_seconds else 0.0


def ensure_mutmut() -> None:
    """pip-install mutmut 3 into this interpreter when it is missing."""
    if importlib.util.find_spec("mutmut") is None:
        subprocess.run([sys.executable, "-m", "pip", "install", "-q", MUTMUT], check=True)


def copy_of(repo: Path, into: Path) -> Path:
    """A copy of the repository's files (no .git), for one tool."""
    shutil.copytree(repo, into, ignore=shutil.ignore_patterns(".git", "__pycache__", ".pytest_cache", "mutants"))
    return into


def undecorated_functions(source: str) -> list[tuple[str, int, int, int]]:
    """(qualified name, def line, first body line, last line) of top-level functions and methods without
    decorators (mutmut 3 leaves decorated functions alone)."""
    found = []
    tree = ast.parse(source)
    for node in tree.body:
        members = [(node, "")] if isinstance(node, ast.FunctionDef) else []
        if isinstance(node, ast.ClassDef) and not node.decorator_list:
            members += [(item, node.name + ".") for item in node.body if isinstance(item, ast.FunctionDef)]
        for function, prefix in members:
            if function.decorator_list or function.end_lineno is None:
                continue
            body = function.body[1:] if ast.get_docstring(function) else function.body
            if body:
                found.append((prefix + function.name, function.lineno, body[0].lineno, function.end_lineno))
    return found


def typical_change(repo: Path, contexts, module: str | None, wanted: int) -> tuple[str, list[int]]:
    """The module and the lines of a typical PR: bodies of its largest covered undecorated functions."""
    candidates = [module] if module else sorted(contexts.lines, key=lambda p: -len(contexts.lines[p]))
    for path in candidates:
        if not path or not (repo / path).is_file():
            continue
        covered = contexts.lines.get(path, {})
        functions = undecorated_functions((repo / path).read_text(encoding="utf-8"))
        ranked = sorted(functions, key=lambda f: -sum(1 for line in range(f[2], f[3] + 1) if line in covered))
        lines: list[int] = []
        for _name, _def_line, first, last in ranked:
            if not any(line in covered for line in range(first, last + 1)):
                continue
            lines.extend(range(first, min(last, first + wanted - len(lines) - 1) + 1))  # a hunk, not a rewrite
            if len(lines) >= wanted:
                break
        if lines:
            return path, sorted(lines)
    raise SystemExit(f"no module with covered undecorated functions in {repo}")


def timed_suite(repo: Path, config, contexts: bool):
    """One sandboxed suite run with coverage (and contexts); its seconds and the run."""
    from evolve.suites.runs import run_test_suite

    started = time.monotonic()
    run = run_test_suite(repo, config, with_coverage=True, with_contexts=contexts)
    return time.monotonic() - started, run


def evolve_step(repo: Path, config, contexts, path: str, lines: list[int]) -> tuple[float, int, dict]:
    """Evolve's mutation step on the lines: choose and run the mutants, timed."""
    from evolve.mutation.generation import MutationLimits, choose_mutants
    from evolve.mutation.runner import RunSettings, run_mutants

    started = time.monotonic()
    source = (repo / path).read_text(encoding="utf-8")
    chosen = choose_mutants({path: source}, {path: lines}, contexts, MutationLimits(limit=1000))
    run = run_mutants(repo, chosen.mutants, config, settings=RunSettings(budget_seconds=1800))
    seconds = time.monotonic() - started
    verdicts: dict[str, int] = {}
    for result in run.results:
        verdicts[result.verdict] = verdicts.get(result.verdict, 0) + 1
    if run.problem:
        verdicts["problem: " + run.problem[:200]] = 1
    return seconds, len(chosen.mutants), verdicts


def mutmut_config(root: Path, path: str, tests: str) -> None:
    """setup.cfg's [mutmut] section: mutate `path` only, select tests under `tests`."""
    parser = configparser.ConfigParser()
    setup = root / "setup.cfg"
    if setup.is_file():
        parser.read(setup, encoding="utf-8")
    top = path.split("/")[0] if "/" in path else path
    parser["mutmut"] = {
        "source_paths": top,
        "only_mutate": path,
        "pytest_add_cli_args_test_selection": tests,
        "also_copy": "\n".join(p.name for p in root.iterdir() if p.name not in (top, "mutants", "setup.cfg")),
    }
    with open(setup, "w", encoding="utf-8") as handle:
        parser.write(handle)
    pyproject = root / "pyproject.toml"  # a [tool.mutmut] table there would win over setup.cfg
    if pyproject.is_file() and "[tool.mutmut]" in pyproject.read_text(encoding="utf-8"):
        raise SystemExit(f"{root} configures mutmut in pyproject.toml; remove it first")


def mutmut_environment() -> dict[str, str]:
    """mutmut imports the mutated tree from its `mutants/` copy; nothing else on the path."""
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH",)}
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    return env


def mutmut_names_on(root: Path, path: str, lines: set[int]) -> list[str]:
    """mutmut's mutants (after a preparation run in `root`) whose change falls on one of `lines`."""
    original = (root / path).read_text(encoding="utf-8")
    definitions = {name: line for name, line, _first, _last in undecorated_functions(original)}
    mutated_file = root / "mutants" / path
    text = mutated_file.read_text(encoding="utf-8")
    rows = text.splitlines()
    functions: dict[str, str] = {}
    for node in ast.walk(ast.parse(text)):  # by line numbers: get_source_segment is quadratic on big files
        if isinstance(node, ast.FunctionDef) and "__mutmut_" in node.name and node.end_lineno is not None:
            functions[node.name] = "\n".join(rows[node.lineno - 1 : node.end_lineno])
    module = path.removesuffix(".py").removesuffix("/__init__").replace("/", ".")
    if module.startswith("src."):
        module = module[4:]
    names = []
    for name, segment in functions.items():
        stem, _, number = name.rpartition("__mutmut_")
        if number == "orig" or not number.isdigit():
            continue
        qualified = stem.removeprefix("x_").removeprefix("x").replace("ǁ", ".").strip(".")
        orig = functions.get(f"{stem}__mutmut_orig")
        if orig is None or qualified not in definitions:
            continue
        before, after = orig.splitlines(), segment.splitlines()
        for offset, (old, new) in enumerate(zip(before, after)):
            if offset and old != new:
                if definitions[qualified] + offset in lines:
                    names.append(f"{module}.{name}")
                break
    return sorted(names)


def mutmut_step(repo: Path, path: str, lines: list[int], tests: str, work: Path) -> tuple[float, int, dict]:
    """mutmut 3 on the same lines: an untimed preparation run finds its mutants there, then a fresh copy runs them."""
    prepare = copy_of(repo, work / "mutmut-prepare")
    mutmut_config(prepare, path, tests)
    mutmut = [sys.executable, "-m", "mutmut"]
    subprocess.run(
        [*mutmut, "run", "evolve-bench-no-such-mutant"], cwd=prepare, capture_output=True, env=mutmut_environment()
    )
    names = mutmut_names_on(prepare, path, set(lines))
    if not names:
        return 0.0, 0, {"problem: mutmut made no mutant on these lines": 1}
    timed = copy_of(repo, work / "mutmut-timed")
    mutmut_config(timed, path, tests)
    started = time.monotonic()
    done = subprocess.run([*mutmut, "run", *names], cwd=timed, capture_output=True, text=True, env=mutmut_environment())
    seconds = time.monotonic() - started
    verdicts: dict[str, int] = {}
    meta = timed / "mutants" / f"{path}.meta"
    if meta.is_file():
        codes = json.loads(meta.read_text(encoding="utf-8")).get("exit_code_by_key", {})
        for name in names:
            code = codes.get(name)
            verdict = {0: "survived", 1: "killed", None: "not-run"}.get(code, f"exit {code}")
            verdicts[verdict] = verdicts.get(verdict, 0) + 1
    if done.returncode != 0:
        verdicts[f"problem: mutmut exited {done.returncode}: {done.stderr[-300:]}"] = 1
    return seconds, len(names), verdicts


def tests_directory(repo: Path) -> str:
    """Where the repository keeps its tests, for mutmut's test selection."""
    for name in ("tests", "test", "testing"):
        if (repo / name).is_dir():
            return name
    return "."


def measure(repo: Path, module: str | None, wanted: int) -> Figures:
    """Every figure for one repository."""
    from evolve.config_loading.loading import load_config
    from evolve.suites.test_contexts import TestContexts

    config = load_config(repo)
    suite_seconds, _plain = timed_suite(repo, config, contexts=False)
    contexts_seconds, run = timed_suite(repo, config, contexts=True)
    contexts = TestContexts.from_dict(run.test_contexts)
    if contexts is None or not run.ok:
        raise SystemExit(f"{repo}: the suite does not pass under pytest with coverage ({run.output_tail[-300:]})")
    path, lines = typical_change(repo, contexts, module, wanted)
    with tempfile.TemporaryDirectory(prefix="bench-mutation-") as scratch:
        work = Path(scratch)
        evolve_seconds, evolve_count, evolve_verdicts = evolve_step(
            copy_of(repo, work / "evolve"), config, contexts, path, lines
        )
        mutmut_seconds, mutmut_count, mutmut_verdicts = mutmut_step(repo, path, lines, tests_directory(repo), work)
    return Figures(
        repo.name,
        path,
        len(lines),
        suite_seconds,
        contexts_seconds,
        evolve_seconds,
        evolve_count,
        evolve_verdicts,
        mutmut_seconds,
        mutmut_count,
        mutmut_verdicts,
    )


def main(argv: list[str] | None = None) -> int:
    """Measure every repository and print pass/fail against shared/TARGETS.md."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("repos", type=Path, nargs="+")
    parser.add_argument("--lines", type=int, default=30, help="changed lines of the typical PR (default 30)")
    parser.add_argument("--module", default=None, help="the module to change (default: the most covered one)")
    parser.add_argument("--json", action="store_true", help="print one JSON document")
    args = parser.parse_args(argv)
    for repo in args.repos:
        if not (repo / ".git").exists() and not repo.is_dir():
            print(f"bench_mutation: {repo} is not a directory", file=sys.stderr)
            return 2
    ensure_mutmut()
    figures = [measure(repo.resolve(), args.module, args.lines) for repo in args.repos]
    if args.json:
        print(json.dumps([{**vars(f), "speedup": f.speedup, "suite_ratio": f.suite_ratio} for f in figures], indent=2))
    for f in figures:
        print(
            f"{f.repo}: {f.lines} changed lines of {f.module}; suite {f.suite_seconds:.1f}s "
            f"(with per-test contexts {f.contexts_seconds:.1f}s)\n"
            f"  evolve {f.evolve_seconds:.1f}s for {f.evolve_mutants} mutants {f.evolve_verdicts}\n"
            f"  mutmut {f.mutmut_seconds:.1f}s for {f.mutmut_mutants} mutants {f.mutmut_verdicts}\n"
            f"  speed-up {f.speedup:.2f}x (target >= {TARGET_SPEEDUP}x): "
            f"{'PASS' if f.speedup >= TARGET_SPEEDUP else 'FAIL'}; never slower: {'PASS' if f.speedup >= 1 else 'FAIL'}\n"
            f"  mutation step / one suite run {f.suite_ratio:.2f}x (target <= {TARGET_SUITE_RATIO}x): "
            f"{'PASS' if f.suite_ratio <= TARGET_SUITE_RATIO else 'FAIL'}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
