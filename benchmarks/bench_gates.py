#!/usr/bin/env python3
"""Gate time of one attempt against one run of the repository's own suite (shared/TARGETS.md: at most 1.1x with base
cached, at most 1.5x cold).

On fresh clones of REPO (REPO itself is never touched), in one benchmark run of --repeat rounds (default 3), each
round in turn:

1. peer: the repository's suite, run once the way Evolve runs it (sandboxed, same command), without
   coverage (`--peer-coverage` measures it with line coverage too, as the gates do);
2. cold: `run_engine` with an empty base-results cache: base and head run side by side (when the machine
   has two cores or more), so the attempt waits for one suite;
3. warm: `run_engine` again on the same base: base's run comes from the cache, only head runs.

Steps 2 and 3 run for each gate set asked for with --mutation: `on` (the default gates, the mutation gate
included), `off` (the same repository with `gates.mutation.enabled: false` committed in `.github/evolve.yml`),
or `both` (the default). The mutation gate has a budget of its own (TARGETS.md: mutants add at most 1.5x one
suite run), so both figures are reported.

Reported per engine run: the gate seconds of its attempts (report timings: from exporting head to the last gate,
scans, proofs, lint, types and the mutants included), the attempts, and whether base came from the cache. Each
verdict line compares the median gate-seconds-per-attempt with the median peer of the same rounds.

With `--python PATH` the suite runs with that interpreter as-is (the CLI's `--python`: nothing is built), in the
peer and the engine runs alike: on Python 3.12+ coverage runs with `COVERAGE_CORE=sysmon`. The machine's load
moves every figure: compare ratios measured in the same benchmark run.

Usage: bench_gates.py REPO [--focus THEME] [--python PATH] [--repeat N] [--mutation on|off|both] [--json].
Exit codes: 0 measured, 2 could not run.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

TARGET_WARM = 1.1  # shared/TARGETS.md: gate time of one attempt, base cached
TARGET_COLD = 1.5  # and cold (base and head in parallel)
MUTATION_OFF = "gates:\n  mutation:\n    enabled: false\n"


def clone(repo: Path, into: Path) -> Path:
    """A fresh local clone, so the engine's branches and reports stay out of REPO."""
    subprocess.run(["git", "clone", "-q", str(repo), str(into)], check=True)
    return into


def peer_seconds(repo: Path, with_coverage: bool, python: str | None = None) -> tuple[float, str]:
    """Wall seconds of one run of the suite as Evolve runs it, and the command."""
    from evolve.config_loading.loading import load_config
    from evolve.suites.runs import run_test_suite

    config = load_config(repo)
    started = time.monotonic()
    run = run_test_suite(repo, config, with_coverage=with_coverage, python=python)
    return time.monotonic() - started, f"{' '.join(run.command[-4:])} ({run.passed} passed, {run.failed} failed)"


def engine_run(repo: Path, focus: str | None, output: Path, python: str | None = None) -> dict:
    """One `run_engine`; its gate seconds, attempts and whether base's tests came from the cache."""
    from evolve.engine import run_engine
    from evolve.environments.model import EnvironmentSettings
    from evolve.runs import RunOptions

    environment = EnvironmentSettings(python=python) if python else EnvironmentSettings()
    started = time.monotonic()
    report = run_engine(repo, RunOptions(focus=focus, output_dir=output, environment=environment))
    wall = time.monotonic() - started
    attempts = max(1, len(report.attempts))
    return {
        "status": report.status,
        "message": report.message[:300],
        "attempts": len(report.attempts),
        "gate_seconds": round(report.timings.get("gates", 0.0), 2),
        "gate_seconds_per_attempt": round(report.timings.get("gates", 0.0) / attempts, 2),
        "base_from_cache": bool(report.tests.get("base_from_cache")),
        "wall_seconds": round(wall, 2),
    }


def without_mutation(repo: Path, into: Path) -> Path:
    """A clone of `repo` whose `.github/evolve.yml` turns the mutation gate off, committed."""
    clone(repo, into)
    config = into / ".github" / "evolve.yml"
    config.parent.mkdir(exist_ok=True)
    config.write_text(MUTATION_OFF, encoding="utf-8")
    git = ["git", "-C", str(into), "-c", "user.name=bench", "-c", "user.email=bench@example.invalid"]
    subprocess.run([*git, "add", ".github/evolve.yml"], check=True)
    subprocess.run([*git, "commit", "-q", "-m", "bench: mutation gate off"], check=True)
    return into


def median_run(runs: list[dict]) -> dict:
    """The figures of several engine runs: medians of the seconds, the last run's status and message."""
    last = dict(runs[-1])
    for key in ("gate_seconds", "gate_seconds_per_attempt", "wall_seconds"):
        last[key] = round(statistics.median(run[key] for run in runs), 2)
    last["rounds"] = [run["gate_seconds_per_attempt"] for run in runs]
    last["base_from_cache"] = all(run["base_from_cache"] for run in runs)
    return last


def verdict(ratio: float | None, target: float) -> str:
    """PASS/MISS against the target, or why there is no figure."""
    if ratio is None:
        return "NOT MEASURED (no attempt reached the gates; try --focus)"
    return "PASS" if ratio <= target else "MISS"


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("repo", type=Path)
    parser.add_argument("--focus", default=None, help="theme or codemod id for the engine runs")
    parser.add_argument("--peer-coverage", action="store_true", help="also time the peer with line coverage")
    parser.add_argument("--python", default=None, help="run the suites with this interpreter as-is (build nothing)")
    parser.add_argument("--repeat", type=int, default=3, help="rounds; figures are medians (default 3)")
    parser.add_argument("--mutation", choices=("on", "off", "both"), default="both", help="gate sets to time")
    parser.add_argument("--json", action="store_true", help="print one JSON document")
    args = parser.parse_args(argv)
    if not (args.repo / ".git").exists():
        print(f"{args.repo} is not a git repository", file=sys.stderr)
        return 2
    variants = ("on", "off") if args.mutation == "both" else (args.mutation,)
    with tempfile.TemporaryDirectory(prefix="bench-gates-") as scratch:
        root = Path(scratch)
        repos = {"on": clone(args.repo.resolve(), root / "repo")}
        if "off" in variants:
            repos["off"] = without_mutation(args.repo.resolve(), root / "repo-no-mutation")
        peers: list[float] = []
        peer_coverage: list[float] = []
        runs: dict[str, list[dict]] = {f"{variant}-{name}": [] for variant in variants for name in ("cold", "warm")}
        command = ""
        for round_number in range(args.repeat):
            seconds, command = peer_seconds(repos["on"], with_coverage=False, python=args.python)
            peers.append(seconds)
            if args.peer_coverage:
                peer_coverage.append(peer_seconds(repos["on"], with_coverage=True, python=args.python)[0])
            for variant in variants:
                os.environ["EVOLVE_CACHE_DIR"] = str(root / f"cache-{variant}-{round_number}")  # cold, then warm
                for name in ("cold", "warm"):
                    output = root / f"out-{variant}-{name}-{round_number}"
                    runs[f"{variant}-{name}"].append(engine_run(repos[variant], args.focus, output, args.python))
        peer = statistics.median(peers)
        result: dict = {"cpus": os.cpu_count(), "peer_seconds": round(peer, 2), "peer_rounds": peers, "peer": command}
        if peer_coverage:
            result["peer_coverage_seconds"] = round(statistics.median(peer_coverage), 2)
        for key, measured in runs.items():
            run = median_run(measured)
            # An attempt whose every hunk was dropped before the gates ("nothing-to-do") ran no gate: no figure.
            tried = run["attempts"] and run["status"] != "nothing-to-do"
            run["ratio_to_peer"] = round(run["gate_seconds_per_attempt"] / peer, 2) if peer and tried else None
            result[key] = run
    if args.json:
        print(json.dumps(result, indent=2))
        return 0
    print(
        f"cpus: {result['cpus']}; peer (one suite run, median of {args.repeat}): {result['peer_seconds']} s — "
        f"{result['peer']}"
    )
    if "peer_coverage_seconds" in result:
        print(f"peer with line coverage: {result['peer_coverage_seconds']} s")
    for key in runs:
        run = result[key]
        variant, name = key.split("-")
        target = TARGET_WARM if name == "warm" else TARGET_COLD
        print(
            f"{verdict(run['ratio_to_peer'], target)} gate time of one attempt, {name}, mutation gate {variant}: "
            f"{run['gate_seconds_per_attempt']} s/attempt (median; rounds {run['rounds']}) = {run['ratio_to_peer']}x "
            f"the peer (target <= {target}x); {run['status']}, {run['attempts']} attempt(s), "
            f"base from cache: {run['base_from_cache']}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
