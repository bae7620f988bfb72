"""Benchmark `evolve scan` against the tools it replaces, on one repository.

    python benchmarks/bench_scan.py REPO_DIR [--repeat 3]

Every ratio is one of medians measured in this run, with PASS/MISS against shared/TARGETS.md.

(a) our full scan, cold cache, versus `radon cc`, `radon mi`, `radon raw`, `interrogate` and
    `semgrep --config <our rules>` run one after another on the same tree (target: <= 50% of their sum);
(b) a re-scan with nothing changed, and (c) a re-scan after changing one file (target: <= 5% of (a)).

Each figure is the median of `--repeat` runs. Ours is timed twice: as a fresh process (imports included,
like the CLIs it is compared with) and in-process (how the loop and the gates call it, imports paid once).
The repository is left as it was found: the changed file is restored.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from evolve.research import scan_repository
from evolve.research.security import RULES_FILE

BIN = Path(sys.executable).parent
QUIET_ENV = {**os.environ, "SEMGREP_ENABLE_VERSION_CHECK": "0", "SEMGREP_SEND_METRICS": "off"}


FULL_TARGET = 0.5  # shared/TARGETS.md: a full scan, at most half the peers' summed wall time
RESCAN_TARGET = 0.05  # shared/TARGETS.md: a re-scan after a one-file change, at most 5% of our own full scan


def verdict(ratio: float, target: float) -> str:
    """PASS or MISS against a target of shared/TARGETS.md."""
    return "PASS" if ratio <= target else "MISS"


def peer_commands() -> list[tuple[str, list[str]]]:
    """The CLIs a scan replaces, as a user would run them on the tree."""
    return [
        ("radon cc", [str(BIN / "radon"), "cc", "."]),
        ("radon mi", [str(BIN / "radon"), "mi", "."]),
        ("radon raw", [str(BIN / "radon"), "raw", "."]),
        ("interrogate", [str(BIN / "interrogate"), "--fail-under", "0", "."]),
        (
            "semgrep",
            [
                str(BIN / "semgrep"),
                "scan",
                "--config",
                str(RULES_FILE),
                "--json",
                "--metrics=off",
                "--disable-version-check",
                "--quiet",
                ".",
            ],
        ),
    ]


def cpu_seconds() -> float:
    """User + system CPU of this process and of its finished children (pool workers, CLIs, semgrep)."""
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


CPU: dict[str, float] = {}


def timed(action: Callable[[], object], repeat: int, label: str = "") -> float:
    """Median wall time of `repeat` runs of `action`, in seconds; the median CPU time goes to CPU[label]."""
    times, cpus = [], []
    for _ in range(repeat):
        cpu, start = cpu_seconds(), time.perf_counter()
        action()
        times.append(time.perf_counter() - start)
        cpus.append(cpu_seconds() - cpu)
    CPU[label] = statistics.median(cpus)
    return statistics.median(times)


def run_quietly(argv: list[str], cwd: Path) -> None:
    """Run a command, discarding its output; exit codes are the tools' business (findings exit 1)."""
    subprocess.run(argv, cwd=cwd, env=QUIET_ENV, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)


def pick_file(repo: Path) -> Path:
    """A mid-sized analysed file to touch for the one-file re-scan."""
    result = scan_repository(repo, use_cache=False, with_semgrep=False)
    files = sorted(result.files, key=lambda f: f.sloc)
    return repo / files[len(files) // 2].path


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print a table of seconds and ratios."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("repo", type=Path)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)
    repo = args.repo.resolve()
    scratch = Path(tempfile.mkdtemp(prefix="bench-scan-"))
    rows: list[tuple[str, float, str]] = []
    try:
        peers = {
            name: timed(lambda c=command: run_quietly(c, repo), args.repeat, f"peer: {name}")
            for name, command in peer_commands()
        }
        peer_sum = sum(peers.values())
        for name, seconds in peers.items():
            rows.append((f"peer: {name}", seconds, ""))
        CPU["peer: sum"] = sum(CPU[f"peer: {name}"] for name in peers)
        rows.append(("peer: sum", peer_sum, "1.00 (reference)"))

        counter = iter(range(10_000))

        def cold_process() -> None:
            cache = scratch / f"p{next(counter)}"
            code = f"from evolve.research import scan_repository as s; s({str(repo)!r}, cache_dir={str(cache)!r})"
            subprocess.run(
                [sys.executable, "-c", code], env=QUIET_ENV, check=True, cwd=Path(__file__).resolve().parents[1]
            )

        def cold_inprocess() -> None:
            scan_repository(repo, cache_dir=scratch / f"i{next(counter)}")

        scan_repository(repo, use_cache=False)  # warm imports and the OS file cache, like the peers' first run
        full_process = timed(cold_process, args.repeat, "ours: full scan, cold cache, fresh process")
        full = timed(cold_inprocess, args.repeat, "ours: full scan, cold cache, in-process")
        rows.append(
            (
                "ours: full scan, cold cache, fresh process",
                full_process,
                f"{verdict(full_process / peer_sum, FULL_TARGET)} {full_process / peer_sum:.2f} of peer sum "
                f"(target <= {FULL_TARGET})",
            )
        )
        rows.append(("ours: full scan, cold cache, in-process", full, f"{full / peer_sum:.2f} of peer sum"))

        warm = scratch / "warm"
        first = scan_repository(repo, cache_dir=warm)
        label = "ours: re-scan, no change"
        unchanged = timed(lambda: scan_repository(repo, cache_dir=warm), args.repeat, label)
        again = scan_repository(repo, cache_dir=warm)
        CPU[f"{label} ({again.cache_hits} hits, {again.cache_misses} misses)"] = CPU[label]
        rows.append(
            (
                f"{label} ({again.cache_hits} hits, {again.cache_misses} misses)",
                unchanged,
                f"{verdict(unchanged / full, RESCAN_TARGET)} {unchanged / full:.3f} of full scan "
                f"(target <= {RESCAN_TARGET})",
            )
        )

        target = pick_file(repo)
        original = target.read_bytes()
        edits = iter(range(10_000))
        times, cpus = [], []
        try:
            for _ in range(args.repeat):
                target.write_bytes(original + f"\n# bench edit {next(edits)}\n".encode())
                cpu, start = cpu_seconds(), time.perf_counter()
                changed = scan_repository(repo, cache_dir=warm)
                times.append(time.perf_counter() - start)
                cpus.append(cpu_seconds() - cpu)
        finally:
            target.write_bytes(original)
        one = statistics.median(times)
        rel = target.relative_to(repo).as_posix()
        label = f"ours: re-scan, one file changed ({rel}; {changed.cache_misses} miss)"
        CPU[label] = statistics.median(cpus)
        rows.append(
            (
                label,
                one,
                f"{verdict(one / full, RESCAN_TARGET)} {one / full:.3f} of full scan (target <= {RESCAN_TARGET})",
            )
        )
        no_semgrep = [f for f in first.findings if f.kind != "security"]
        print(
            f"repository: {repo}  files: {first.totals.files}  sloc: {first.totals.sloc}  "
            f"findings: {first.totals.findings} ({len(no_semgrep)} non-security)  cpus: {os.cpu_count()}"
        )
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    width = max(len(r[0]) for r in rows)
    print(f"{'what':<{width}}  {'wall s':>8}  {'cpu s':>8}  wall ratio")
    print(f"{'-' * width}  {'-' * 8}  {'-' * 8}  {'-' * 40}")
    for label, seconds, ratio in rows:
        print(f"{label:<{width}}  {seconds:8.3f}  {CPU.get(label, float('nan')):8.3f}  {ratio}")
    print(
        f"load average at the end: {' '.join(f'{x:.2f}' for x in os.getloadavg())} (wall ratios are noisy when it is high)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
