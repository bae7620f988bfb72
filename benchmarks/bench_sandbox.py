"""What the sandbox costs: one real test suite run bare and in bubblewrap, same interpreter, alternating.

Usage: python benchmarks/bench_sandbox.py TREE [--repeat N]

TREE is a project checkout with a pytest suite, e.g. from
`python scripts/sdist_to_git.py boltons==26.2.0 --dest /tmp/x`. "bare" is a plain subprocess in a copy of the
tree (scrubbed environment, nothing else); "sandboxed" is `run_sandboxed` (tree copy, bubblewrap, seccomp,
cgroup, capped output). The target: the sandbox adds under 5% or under 0.5 s, whichever is larger.
Not a test: figures depend on the machine.
"""

from __future__ import annotations

import argparse
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from evolve.sandbox import SANDBOX_REPO, SandboxSpec, interpreter_mounts, run_sandboxed, scrubbed_environment

PYTEST = ("-m", "pytest", "-q", "-p", "no:cacheprovider", "-x")
# The suite's own CPU time, reported from inside: bubblewrap's PID namespace hides the reaped suite from our
# RUSAGE_CHILDREN, so both variants run the suite under this wrapper and print it on stderr.
CPU_WRAPPER = (
    "import resource, subprocess, sys; code = subprocess.run(sys.argv[1:]).returncode; "
    "usage = resource.getrusage(resource.RUSAGE_CHILDREN); "
    "print(f'SUITE-CPU {usage.ru_utime + usage.ru_stime}', file=sys.stderr); sys.exit(code)"
)


def own_cpu() -> float:
    """CPU seconds (user + system) of this process: the tree copy, draining output, clean-up."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def suite_cpu(stderr: str) -> float:
    """The suite's CPU seconds as CPU_WRAPPER printed them."""
    return float(stderr.rsplit("SUITE-CPU ", 1)[1].split()[0])


def measured(run, tree: Path) -> tuple[float, float, int]:  # type: ignore[no-untyped-def]
    """Wall seconds, CPU seconds (ours + the suite's) and exit code of one run."""
    cpu = own_cpu()
    seconds, code, suite = run(tree)
    return seconds, own_cpu() - cpu + suite, code


def run_bare(tree: Path, suite: tuple[str, ...] = PYTEST) -> tuple[float, int, float]:
    """The suite as a plain subprocess in a fresh copy of the tree; seconds and exit code."""
    scratch = Path(tempfile.mkdtemp(prefix="bench-bare-"))
    try:
        copy = scratch / "repo"
        start = time.perf_counter()
        shutil.copytree(tree, copy, symlinks=True, ignore=shutil.ignore_patterns(".git"))
        env = scrubbed_environment({"PYTHONPATH": str(copy), "HOME": str(scratch)})
        argv = [sys.executable, "-c", CPU_WRAPPER, sys.executable, *suite]
        done = subprocess.run(argv, cwd=copy, env=env, capture_output=True, text=True)
        return time.perf_counter() - start, done.returncode, suite_cpu(done.stderr)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def run_in_sandbox(tree: Path, suite: tuple[str, ...] = PYTEST) -> tuple[float, int, float]:
    """The suite through `run_sandboxed`; seconds (including the tree copy and clean-up) and exit code."""
    spec = SandboxSpec(
        argv=(sys.executable, "-c", CPU_WRAPPER, sys.executable, *suite),
        timeout=1800,
        tree=tree,
        env={"PYTHONPATH": SANDBOX_REPO},
        mounts=interpreter_mounts(sys.executable),
    )
    start = time.perf_counter()
    result = run_sandboxed(spec)
    assert result.isolation == "bubblewrap", result.isolation
    return time.perf_counter() - start, result.returncode, suite_cpu(result.stderr)


def main() -> int:
    """Run both variants --repeat times, alternating, and print medians and the overhead."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("tree", type=Path)
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()
    runs: dict[str, list[tuple[float, float, int]]] = {"bare": [], "sandboxed": []}
    run_bare(args.tree)  # warm the page cache and the interpreter's bytecode cache
    for _ in range(args.repeat):
        runs["bare"].append(measured(run_bare, args.tree))
        runs["sandboxed"].append(measured(run_in_sandbox, args.tree))
    codes = {code for variant in runs.values() for _wall, _cpu, code in variant}
    if len(codes) != 1:
        print(f"exit codes differ between runs: {sorted(codes)}", file=sys.stderr)
        return 1
    print(f"suite: {args.tree} ({args.repeat} runs each, alternating; exit code {codes.pop()})")
    medians = {}
    for name, variant in runs.items():
        wall, cpu = statistics.median(r[0] for r in variant), statistics.median(r[1] for r in variant)
        medians[name] = (wall, cpu)
        print(f"{name:<10} wall median {wall:7.3f} s  cpu median {cpu:7.3f} s  wall runs: ", end="")
        print(" ".join(f"{r[0]:.2f}" for r in variant))
    for index, measure in enumerate(("wall", "cpu")):
        base, added = medians["bare"][index], medians["sandboxed"][index] - medians["bare"][index]
        allowed = max(0.05 * base, 0.5)
        verdict = "met" if added < allowed else "NOT met"
        print(f"added {measure}: {added:+.3f} s ({100 * added / base:+.1f}%); target under {allowed:.3f} s: {verdict}")
    fixed_cost(args.tree, args.repeat * 3)
    return 0


def fixed_cost(tree: Path, repeat: int) -> None:
    """The sandbox's constant cost on this tree: `python -c pass` bare and sandboxed (copy + bwrap + clean-up)."""
    trivial = ("-c", "pass")
    bare = [run_bare(tree, trivial)[0] for _ in range(repeat)]
    sandboxed = [run_in_sandbox(tree, trivial)[0] for _ in range(repeat)]
    median_bare, median_sandboxed = statistics.median(bare), statistics.median(sandboxed)
    print(
        f"fixed cost (`python -c pass`, {repeat} runs each): bare {median_bare:.3f} s, "
        f"sandboxed {median_sandboxed:.3f} s, added {median_sandboxed - median_bare:+.3f} s"
    )


if __name__ == "__main__":
    sys.exit(main())
