"""Time the codemod catalog (detect + transform) against autotyping --none-return and ruff's native fixer.

Usage: python benchmarks/bench_codemods.py TREE [TREE ...] [--workers N] [--repeat N]

Each tool runs on a fresh copy of the tree and rewrites it in place; the table reports wall-clock seconds
(best of --repeat), lines per second and seconds per 10k lines of Python, and how many files changed. Below the
table: the catalog's time as a ratio of one autotyping pass, PASS/MISS against shared/TARGETS.md (at most half of it),
and its ratio to ruff's native fixer (reported, no target). Not a test: figures depend on the machine.
"""

from __future__ import annotations

import argparse
import hashlib
import shutil
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


def measure(tree: Path, run: Callable[[Path, int | None], None], workers: int | None, repeat: int) -> tuple[float, int]:
    """Best wall-clock time over `repeat` fresh copies, and the number of files changed."""
    best, changed = float("inf"), 0
    for _ in range(repeat):
        with tempfile.TemporaryDirectory() as scratch:
            copy = Path(scratch) / tree.name
            shutil.copytree(tree, copy, ignore=shutil.ignore_patterns(".git", "__pycache__"))
            before = fingerprint(copy)
            start = time.perf_counter()
            run(copy, workers)
            best = min(best, time.perf_counter() - start)
            after = fingerprint(copy)
            changed = sum(before[path] != after.get(path) for path in before)
    return best, changed


def main(argv: list[str] | None = None) -> None:
    """Print one table per tree."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("trees", nargs="+", type=Path)
    parser.add_argument("--workers", type=int, default=None, help="catalog worker processes (default: automatic)")
    parser.add_argument("--repeat", type=int, default=1)
    args = parser.parse_args(argv)
    available = tools()
    for tree in args.trees:
        files = python_files(tree)
        lines = sum(len(p.read_bytes().splitlines()) for p in files)
        print(f"\n{tree.name}: {len(files)} files, {lines} lines")
        print(f"{'tool':34} {'seconds':>8} {'lines/s':>9} {'s/10k lines':>12} {'files changed':>14}")
        timings: dict[str, float] = {}
        for name, run in available.items():
            seconds, changed = measure(tree, run, args.workers, args.repeat)
            timings[name] = seconds
            print(f"{name:34} {seconds:8.2f} {lines / seconds:9.0f} {seconds * 10_000 / lines:12.2f} {changed:14d}")
        catalog = timings[CATALOG]
        if AUTOTYPING in timings:
            ratio = catalog / timings[AUTOTYPING]
            verdict = "PASS" if ratio <= TARGET_RATIO_TO_AUTOTYPING else "MISS"
            print(f"{verdict} catalog / autotyping = {ratio:.2f} (target <= {TARGET_RATIO_TO_AUTOTYPING})")
        if RUFF in timings:
            print(f"catalog / ruff's native fixer = {catalog / timings[RUFF]:.1f} (reported, no target)")


if __name__ == "__main__":
    main()
