"""Time the codemod catalog (detect + transform) against autotyping --none-return and ruff's native fixer.

Usage: python benchmarks/bench_codemods.py TREE [TREE ...] [--workers N] [--repeat N]

Each tool runs on a fresh copy of the tree and rewrites it in place. The tools take turns, one run each per round
(--repeat rounds, default 3), so a change in the machine's load falls on all of them; the table reports the median
wall-clock seconds and CPU seconds (the tool's process and its children), lines per second and seconds per 10k lines
of Python, and how many files changed. The catalog is timed as the engine runs it: every registered codemod's
`detect` over every file, then LibCST parse and transforms of the files some codemod detected, edits written back.
Below the table: the catalog's median time as a ratio of the median autotyping pass, PASS/MISS against
shared/TARGETS.md (at most half of it), the same ratio in CPU seconds, and its ratio to ruff's native fixer (reported,
no target). Not a test: figures depend on the machine.
"""

from __future__ import annotations

import argparse
import hashlib
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from evolve.codemods.registry import select_codemods
from evolve.codemods.runner import apply_codemods, repository_min_python


def python_files(root: Path) -> list[Path]:
    """The .py files of a tree, skipping VCS and build metadata."""
    return sorted(
        p for p in root.rglob("*.py") if not any(part.startswith(".") or part.endswith(".egg-info") for part in p.parts)
    )


def fingerprint(root: Path) -> dict[str, str]:
    """Path -> content hash, to count the files a tool changed."""
    return {str(p.relative_to(root)): hashlib.sha1(p.read_bytes()).hexdigest() for p in python_files(root)}


def run_catalog(root: Path, workers: int | None) -> None:
    """Every registered codemod over the tree, edits written back."""
    paths = [str(p.relative_to(root)) for p in python_files(root)]
    result = apply_codemods(root, paths, select_codemods(), repository_min_python(root), workers=workers)
    for edit in result.edits:
        (root / edit.path).write_text(edit.after, encoding="utf-8")


CATALOG = f"evolve catalog ({len(select_codemods())} codemods)"
AUTOTYPING = "autotyping --none-return"
RUFF = "ruff --fix UP,F401,E711,E713"
TARGET_RATIO_TO_AUTOTYPING = 0.5  # shared/TARGETS.md: at most half the autotyping pass


def run_command(command: list[str]) -> Callable[[Path, int | None], None]:
    """A tool run as a subprocess on the tree."""

    def run(root: Path, workers: int | None) -> None:
        subprocess.run([*command, str(root)], check=False, capture_output=True)

    return run


def tools() -> dict[str, Callable[[Path, int | None], None]]:
    """The tools available on this machine (autotyping and ruff are optional)."""
    found: dict[str, Callable[[Path, int | None], None]] = {CATALOG: run_catalog}
    autotyping = shutil.which("autotyping") or str(Path(sys.executable).with_name("autotyping"))
    if Path(autotyping).exists():
        found[AUTOTYPING] = run_command([autotyping, "--none-return"])
    else:
        print("autotyping not installed: skipped", file=sys.stderr)
    ruff = shutil.which("ruff") or str(Path(sys.executable).with_name("ruff"))
    if Path(ruff).exists():
        found[RUFF] = run_command(
            [
                ruff,
                "check",
                "--fix",
                "--unsafe-fixes",
                "--select",
                "UP,F401,E711,E713",
                "--no-cache",
                "--exit-zero",
                "--quiet",
            ]
        )
    else:
        print("ruff not installed: skipped", file=sys.stderr)
    return found


def cpu_seconds() -> float:
    """User + system CPU of this process and of its finished children (pool workers, the CLIs)."""
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def measure_once(tree: Path, run: Callable[[Path, int | None], None], workers: int | None) -> tuple[float, float, int]:
    """Wall and CPU seconds of one run on a fresh copy of the tree, and the number of files it changed."""
    with tempfile.TemporaryDirectory() as scratch:
        copy = Path(scratch) / tree.name
        shutil.copytree(tree, copy, ignore=shutil.ignore_patterns(".git", "__pycache__"))
        before = fingerprint(copy)
        cpu, start = cpu_seconds(), time.perf_counter()
        run(copy, workers)
        wall, used = time.perf_counter() - start, cpu_seconds() - cpu
        after = fingerprint(copy)
    return wall, used, sum(before[path] != after.get(path) for path in before)


def measure_all(
    tree: Path, available: dict[str, Callable[[Path, int | None], None]], workers: int | None, repeat: int
) -> dict[str, tuple[float, float, int]]:
    """Tool -> (median wall seconds, median CPU seconds, files changed), the tools taking turns each round."""
    runs: dict[str, list[tuple[float, float, int]]] = {name: [] for name in available}
    for _ in range(repeat):
        for name, run in available.items():
            runs[name].append(measure_once(tree, run, workers))
    return {
        name: (
            statistics.median(wall for wall, _, _ in measured),
            statistics.median(cpu for _, cpu, _ in measured),
            measured[-1][2],
        )
        for name, measured in runs.items()
    }


def main(argv: list[str] | None = None) -> None:
    """Print one table per tree."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("trees", nargs="+", type=Path)
    parser.add_argument("--workers", type=int, default=None, help="catalog worker processes (default: automatic)")
    parser.add_argument("--repeat", type=int, default=3, help="rounds; each figure is the median (default 3)")
    args = parser.parse_args(argv)
    available = tools()
    for tree in args.trees:
        files = python_files(tree)
        lines = sum(len(p.read_bytes().splitlines()) for p in files)
        print(f"\n{tree.name}: {len(files)} files, {lines} lines; medians of {args.repeat} rounds")
        print(f"{'tool':34} {'wall s':>8} {'cpu s':>8} {'lines/s':>9} {'s/10k lines':>12} {'files changed':>14}")
        timings = measure_all(tree, available, args.workers, args.repeat)
        for name, (seconds, cpu, changed) in timings.items():
            print(
                f"{name:34} {seconds:8.2f} {cpu:8.2f} {lines / seconds:9.0f} {seconds * 10_000 / lines:12.2f} {changed:14d}"
            )
        catalog, catalog_cpu, _ = timings[CATALOG]
        if AUTOTYPING in timings:
            ratio = catalog / timings[AUTOTYPING][0]
            verdict = "PASS" if ratio <= TARGET_RATIO_TO_AUTOTYPING else "MISS"
            print(
                f"{verdict} {CATALOG} / one {AUTOTYPING} pass = {ratio:.2f} wall "
                f"(target <= {TARGET_RATIO_TO_AUTOTYPING}); in CPU seconds {catalog_cpu / timings[AUTOTYPING][1]:.2f}"
            )
        if RUFF in timings:
            print(f"catalog / ruff's native fixer = {catalog / timings[RUFF][0]:.1f} wall (reported, no target)")


if __name__ == "__main__":
    main()
