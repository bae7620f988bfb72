"""What recording per-test coverage contexts costs: the same suite under coverage.py's cores, with and without contexts.

Usage: python benchmarks/bench_context_core.py TREE --python PY [--repeat N]

TREE is a project checkout with a pytest suite (e.g. boltons from `pip download --no-binary :all: boltons`); PY a
Python 3.12+ interpreter with pytest and coverage installed. Each variant is `PY -m coverage run -m pytest` in a copy
of the tree, the same coverage configuration Evolve writes, rotated so load drifts hit every variant alike:

- `sysmon`: `COVERAGE_CORE=sysmon`, no contexts: what Evolve runs when no gate needs contexts;
- `ctrace`: the default C tracer, no contexts;
- `ctrace+contexts`: the C tracer with Evolve's contexts plugin (what the mutation gate and test gaps record);
- `sysmon+contexts`: sysmon with the plugin: coverage.py (7.15.3+) warns `no-sysmon-context` and records each line
  under the first test that runs it only (sys.monitoring stops reporting a line once seen), so the map names far
  fewer (line, test) pairs: a mutant would run against only some of the tests that reach its line. This is why
  Evolve never sets sysmon when it records contexts.

Prints the median wall and CPU seconds of each and their ratios to `sysmon`. Not a test: figures depend on the machine.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

from evolve.suites.runs import coverage_rcfile
from evolve.suites.test_contexts import CONTEXTS_PLUGIN, install_contexts_plugin

VARIANTS = ("sysmon", "ctrace", "ctrace+contexts", "sysmon+contexts")


def children_cpu() -> float:
    """CPU seconds of the reaped children so far."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run_once(tree: Path, python: str, variant: str, scratch: Path) -> tuple[float, float, int, int]:
    """One suite run: (wall, CPU, exit code, (line, test) pairs in the JSON report: how many tests each line names,
    summed; an incomplete map names fewer)."""
    work = scratch / "tree"
    shutil.rmtree(work, ignore_errors=True)
    shutil.copytree(tree, work)
    contexts = variant.endswith("+contexts")
    (scratch / "coveragerc").write_text(coverage_rcfile(contexts), encoding="utf-8")
    install_contexts_plugin(scratch)
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(scratch), "PYTHONPATH": str(work)}
    if variant.startswith("sysmon"):
        env["COVERAGE_CORE"] = "sysmon"
    if contexts:
        env["PYTHONPATH"] += f":{scratch}"
    data = scratch / ".coverage"
    argv = [python, "-m", "coverage", "run", f"--rcfile={scratch / 'coveragerc'}", f"--source={work}"]
    argv += [f"--data-file={data}", "-m", "pytest", "-q", "-p", "no:cacheprovider"]
    argv += ["-p", CONTEXTS_PLUGIN] if contexts else []
    cpu, started = children_cpu(), time.perf_counter()
    code = subprocess.run(argv, cwd=work, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL).returncode
    wall, cpu = time.perf_counter() - started, children_cpu() - cpu
    report = scratch / "coverage.json"
    subprocess.run(
        [
            python,
            "-m",
            "coverage",
            "json",
            f"--rcfile={scratch / 'coveragerc'}",
            f"--data-file={data}",
            "-o",
            str(report),
        ],
        cwd=work,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    pairs = 0
    if contexts and report.exists():
        files = json.loads(report.read_text()).get("files", {})
        pairs = sum(
            sum(1 for name in names if name)
            for entry in files.values()
            for names in (entry.get("contexts") or {}).values()
        )
    return wall, cpu, code, pairs


def main() -> None:
    """Run every variant `--repeat` times, rotated, and print medians and ratios."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("tree", type=Path)
    parser.add_argument("--python", required=True)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    results: dict[str, list[tuple[float, float, int, int]]] = {variant: [] for variant in VARIANTS}
    with tempfile.TemporaryDirectory(prefix="evolve-bench-core-") as directory:
        scratch = Path(directory)
        for round_number in range(args.repeat):
            order = VARIANTS[round_number % len(VARIANTS) :] + VARIANTS[: round_number % len(VARIANTS)]
            for variant in order:
                results[variant].append(run_once(args.tree.resolve(), args.python, variant, scratch))
    base_wall = statistics.median(r[0] for r in results["sysmon"])
    base_cpu = statistics.median(r[1] for r in results["sysmon"])
    print(f"{'variant':18} {'wall s':>8} {'cpu s':>8} {'wall ×':>7} {'cpu ×':>7}  exit  (line, test) pairs")
    for variant in VARIANTS:
        wall = statistics.median(r[0] for r in results[variant])
        cpu = statistics.median(r[1] for r in results[variant])
        codes = sorted({r[2] for r in results[variant]})
        lines = max(r[3] for r in results[variant])
        print(
            f"{variant:18} {wall:8.2f} {cpu:8.2f} {wall / base_wall:7.2f} {cpu / base_cpu:7.2f}  {codes}  "
            f"{lines if variant.endswith('+contexts') else '-'}"
        )


if __name__ == "__main__":
    main()
