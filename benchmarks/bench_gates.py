#!/usr/bin/env python3
"""Gate time of one attempt against one run of the repository's own suite (target: at most 1.1x).

On a fresh clone of REPO (REPO itself is never touched), in one benchmark run:

1. peer: the repository's suite, run once the way Evolve runs it (sandboxed, same command), without
   coverage (`--peer-coverage` measures it with line coverage too, as the gates do);
2. cold: `run_engine` with an empty base-results cache: base and head run side by side (when the machine
   has two cores or more), so the attempt waits for one suite;
3. warm: `run_engine` again on the same base: base's run comes from the cache, only head runs.

Reported per engine run: the gate seconds of its attempts (report timings), the attempts, the ratio
gate-seconds-per-attempt / peer, and whether base came from the cache. The gates also scan the changed
files (complexity, maintainability, lint, types), which the peer does not do: that is part of gate time.

With `--python PATH` the suite runs with that interpreter as-is (the CLI's `--python`: nothing is built), in the
peer and the engine runs alike: on Python 3.12+ coverage runs with `COVERAGE_CORE=sysmon`. The machine's load
moves every figure: run it more than once, and compare ratios measured in the same benchmark run.

Usage: bench_gates.py REPO [--focus THEME] [--python PATH] [--json]. Exit codes: 0 measured, 2 could not run.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

TARGET_RATIO = 1.1


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


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("repo", type=Path)
    parser.add_argument("--focus", default=None, help="theme or codemod id for the engine runs")
    parser.add_argument("--peer-coverage", action="store_true", help="also time the peer with line coverage")
    parser.add_argument("--python", default=None, help="run the suites with this interpreter as-is (build nothing)")
    parser.add_argument("--json", action="store_true", help="print one JSON document")
    args = parser.parse_args(argv)
    if not (args.repo / ".git").exists():
        print(f"{args.repo} is not a git repository", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory(prefix="bench-gates-") as scratch:
        root = Path(scratch)
        os.environ["EVOLVE_CACHE_DIR"] = str(root / "cache")  # cold to begin with, then warm
        repo = clone(args.repo.resolve(), root / "repo")
        peer, command = peer_seconds(repo, with_coverage=False, python=args.python)
        result: dict = {"cpus": os.cpu_count(), "peer_seconds": round(peer, 2), "peer": command}
        if args.peer_coverage:
            result["peer_coverage_seconds"] = round(peer_seconds(repo, with_coverage=True, python=args.python)[0], 2)
        for name in ("cold", "warm"):
            run = engine_run(repo, args.focus, root / f"out-{name}", args.python)
            measured = peer and run["attempts"]
            run["ratio_to_peer"] = round(run["gate_seconds_per_attempt"] / peer, 2) if measured else None
            result[name] = run
    if args.json:
        print(json.dumps(result, indent=2))
        return 0
    print(f"cpus: {result['cpus']}; peer (one suite run): {result['peer_seconds']} s — {result['peer']}")
    if "peer_coverage_seconds" in result:
        print(f"peer with line coverage: {result['peer_coverage_seconds']} s")
    for name in ("cold", "warm"):
        run = result[name]
        ratio = run["ratio_to_peer"]
        verdict = "no attempt: not measured" if ratio is None else ("meets" if ratio <= TARGET_RATIO else "misses")
        print(
            f"{name}: {run['status']}, {run['attempts']} attempt(s), gates {run['gate_seconds']} s "
            f"({run['gate_seconds_per_attempt']} s/attempt) = {run['ratio_to_peer']}x the peer, "
            f"base from cache: {run['base_from_cache']} — {verdict} (target {TARGET_RATIO}x)"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
