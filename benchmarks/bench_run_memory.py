#!/usr/bin/env python3
"""Peak memory and bot overhead of one ``evolve run REPO --dry-run``.

Starts ``evolve run REPO --dry-run --json -q --output TMP`` (``--full``: without ``--dry-run``, so the
gates and the repository's test runs happen too) on a fresh local clone of REPO, so caches are cold
and REPO is left alone (``--in-place`` runs on REPO itself), and polls ``/proc`` every ``--interval``
seconds while it runs:

* the peak resident memory (VmRSS, and VmHWM read just before it exits) of the evolve process
  itself, *excluding* its children (the repository's test processes, semgrep, git);
* the peak RSS of the largest child, of all children together, of each kind of child (semgrep,
  multiprocessing workers, git, the repository's tests), and of evolve plus its non-test children
  summed per sample (the worker's whole footprint, the repository's own test processes excluded);
* the time during which a repository test process was alive (a descendant whose command line runs
  pytest or unittest, possibly under coverage), as the union of their lifetimes.

Bot overhead = total wall time - test time. When report.json (or the JSON on stdout) states test
durations (any ``duration``/``seconds`` field inside a gate or test-run entry, or a metric named like
``test ... seconds``), that figure is shown too; the /proc measurement is used for the verdict.

It also counts the repository's Python lines (physical lines of ``*.py`` outside ``.git`` and virtual
environments; and without tests) so the result can be compared with the targets in
shared/TARGETS.md: worker < 1 GiB on a 30k-line repository, overhead <= 15 s on a 20k-line one.

REPO is never modified unless ``--in-place`` is given (reports go to a temporary directory). Exit codes:
0 measured, 1 a target missed with ``--check``, 2 could not run (not a directory, evolve not found,
evolve crashed without a JSON report).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

TARGET_RSS_MIB = 1024.0  # on a 30k-line repository
TARGET_OVERHEAD_S = 15.0  # on a 20k-line repository
EXIT_OK, EXIT_TARGET_MISSED, EXIT_CANNOT_RUN = 0, 1, 2
SKIP_DIRS = {
    ".git",
    ".hg",
    ".tox",
    ".nox",
    ".venv",
    "venv",
    "env",
    "node_modules",
    "build",
    "dist",
    "__pycache__",
    ".eggs",
}
TEST_CMD = re.compile(r"(^|[\s/])(pytest|py\.test)(\s|$)|-m\s+(pytest|unittest)\b|coverage\s+run")


@dataclass
class Measurement:
    """Everything measured for one run."""

    repo: str
    python_lines: int = 0
    python_lines_without_tests: int = 0
    python_files: int = 0
    status: str = ""
    exit_code: int | None = None
    wall_seconds: float = 0.0
    test_seconds_proc: float = 0.0
    test_processes: int = 0
    test_seconds_sum: float = 0.0  # lifetimes added up; > test_seconds_proc when test runs overlapped
    test_seconds_report: float | None = None
    overhead_seconds: float = 0.0
    peak_rss_mib: float = 0.0
    hwm_mib: float | None = None
    largest_child_rss_mib: float = 0.0
    children_rss_mib: float = 0.0
    bot_tree_rss_mib: float = 0.0  # evolve + its non-test descendants (semgrep, pools, git), summed per sample
    child_kinds: dict[str, float] = field(default_factory=dict)  # command kind -> peak RSS MiB
    samples: int = 0
    notes: list[str] = field(default_factory=list)


def count_python_lines(root: Path) -> tuple[int, int, int]:
    """(all .py lines, .py lines outside test files/dirs, number of .py files) under `root`."""
    total = non_test = files = 0
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = [d for d in dirnames if d not in SKIP_DIRS and not d.endswith(".egg-info")]
        rel_dir = Path(dirpath).relative_to(root)
        in_tests = any(part in ("tests", "test", "testing") for part in rel_dir.parts)
        for name in filenames:
            if not name.endswith(".py"):
                continue
            try:
                with open(os.path.join(dirpath, name), "rb") as handle:
                    lines = sum(1 for _ in handle)
            except OSError:
                continue
            files += 1
            total += lines
            if not (in_tests or name.startswith("test_") or name.endswith("_test.py") or name == "conftest.py"):
                non_test += lines
    return total, non_test, files


def status_kib(pid: int, key: str) -> int | None:
    """A ``kB`` field of /proc/PID/status, or None once the process is gone."""
    try:
        with open(f"/proc/{pid}/status", encoding="ascii") as handle:
            for line in handle:
                if line.startswith(key + ":"):
                    return int(line.split()[1])
    except (OSError, ValueError):
        return None
    return None


def children_of(pid: int) -> list[int]:
    """Direct children of `pid` (all threads)."""
    kids: list[int] = []
    try:
        for task in os.listdir(f"/proc/{pid}/task"):
            try:
                with open(f"/proc/{pid}/task/{task}/children", encoding="ascii") as handle:
                    kids += [int(k) for k in handle.read().split()]
            except OSError:
                continue
    except OSError:
        pass
    return kids


def descendants(pid: int) -> list[int]:
    """All descendants of `pid`."""
    found, queue = [], children_of(pid)
    while queue:
        kid = queue.pop()
        found.append(kid)
        queue += children_of(kid)
    return found


def cmdline(pid: int) -> str:
    """The command line of `pid` as one string ('' when gone)."""
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as handle:
            return handle.read().replace(b"\0", b" ").decode("utf-8", "replace").strip()
    except OSError:
        return ""


def command_kind(line: str) -> str:
    """A short name for a child process: the program, and the module or script it runs."""
    words = line.split()
    if not words:
        return "?"
    program = os.path.basename(words[0])
    if program.startswith("python") and len(words) > 1:
        if words[1] == "-m" and len(words) > 2:
            return f"{program} -m {words[2]}"
        if words[1] == "-c":
            return f"{program} -c ({'multiprocessing' if 'multiprocessing' in line else 'inline'})"
        return f"{program} {os.path.basename(words[1])}"
    return program


def union_seconds(intervals: list[tuple[float, float]]) -> float:
    """Total length of the union of [start, end] intervals."""
    total, current_start, current_end = 0.0, None, None
    for start, end in sorted(intervals):
        if current_end is None or start > current_end:
            if current_end is not None:
                total += current_end - current_start  # type: ignore[operator]
            current_start, current_end = start, end
        else:
            current_end = max(current_end, end)
    if current_end is not None:
        total += current_end - current_start  # type: ignore[operator]
    return total


def test_seconds_from_report(report: Any) -> float | None:
    """Sum the test-run durations a report states, if it states any (schema-tolerant)."""
    found: list[float] = []

    def walk(node: Any, inside_tests: bool) -> None:
        if isinstance(node, dict):
            is_tests = inside_tests or node.get("gate") == "tests" or "test_run" in node or "failing_tests" in node
            for key, value in node.items():
                if (
                    is_tests
                    and key in ("duration", "duration_seconds", "seconds")
                    and isinstance(value, (int, float))
                    and "failing_tests" in node
                ):
                    found.append(float(value))
                walk(value, is_tests or key in ("test_run", "test_runs", "tests"))
            name = str(node.get("name", ""))
            if re.search(r"test.*(seconds|duration|time)", name, re.IGNORECASE) and isinstance(
                node.get("head"), (int, float)
            ):
                found.append(float(node["head"]) + float(node.get("base") or 0))
        elif isinstance(node, list):
            for item in node:
                walk(item, inside_tests)

    walk(report, False)
    return sum(found) if found else None


def evolve_command(explicit: str | None) -> list[str]:
    """How to run the CLI."""
    if explicit:
        return explicit.split()
    beside = Path(sys.executable).with_name("evolve")
    if beside.exists():
        return [str(beside)]
    found = shutil.which("evolve")
    return [found] if found else [sys.executable, "-m", "evolve.cli"]


def fresh_clone(repo: Path) -> Path:
    """A local clone of `repo` in a temporary directory (same base name): no scan cache, no run history."""
    holder = Path(tempfile.mkdtemp(prefix="bench-run-memory-repo-"))
    target = holder / repo.name
    proc = subprocess.run(
        ["git", "clone", "-q", "--local", str(repo), str(target)], capture_output=True, text=True, check=False
    )
    if proc.returncode != 0:
        shutil.rmtree(holder, ignore_errors=True)
        raise RuntimeError(f"git clone failed: {proc.stderr.strip()}")
    return target


def measure(repo: Path, args: argparse.Namespace) -> Measurement:
    """Run evolve once under /proc polling (on a fresh clone unless --in-place)."""
    result = Measurement(repo=str(repo))
    if not args.in_place:
        clone = fresh_clone(repo)
        try:
            measured = measure_in(clone, args, result)
        finally:
            shutil.rmtree(clone.parent, ignore_errors=True)
        measured.notes.append("ran on a fresh local clone (cold scan cache); --in-place to run on REPO itself")
        return measured
    return measure_in(repo, args, result)


def measure_in(repo: Path, args: argparse.Namespace, result: Measurement) -> Measurement:
    """Run evolve in `repo` and fill in `result`."""
    result.python_lines, result.python_lines_without_tests, result.python_files = count_python_lines(repo)
    outdir = Path(tempfile.mkdtemp(prefix="bench-run-memory-"))
    stdout_path = outdir / "stdout.json"
    dry = [] if args.full else ["--dry-run"]
    argv = [
        *evolve_command(args.evolve),
        "run",
        str(repo),
        *dry,
        "--json",
        "-q",
        "--output",
        str(outdir / "report"),
        *args.run_arg,
    ]
    started = time.monotonic()
    tests: dict[int, list[float]] = {}  # pid -> [first seen, last seen]
    kinds: dict[int, str] = {}  # pid -> what it is
    with open(stdout_path, "wb") as out, open(outdir / "stderr.txt", "wb") as err:
        proc = subprocess.Popen(argv, stdout=out, stderr=err)
        own_cmdline = ""
        try:
            while proc.poll() is None:
                now = time.monotonic()
                if now - started > args.timeout:
                    proc.kill()
                    result.notes.append(f"killed after {args.timeout:.0f} s")
                    break
                rss = status_kib(proc.pid, "VmRSS")
                own_cmdline = own_cmdline or cmdline(proc.pid)
                hwm = status_kib(proc.pid, "VmHWM")
                if rss:
                    result.peak_rss_mib = max(result.peak_rss_mib, rss / 1024)
                if hwm:
                    result.hwm_mib = hwm / 1024
                kids = descendants(proc.pid)
                child_total = 0
                bot_tree = rss or 0
                for kid in kids:
                    kid_rss = status_kib(kid, "VmRSS") or 0
                    child_total += kid_rss
                    result.largest_child_rss_mib = max(result.largest_child_rss_mib, kid_rss / 1024)
                    if kid not in kinds or kinds[kid] == "evolve (forked child)":  # re-read: it may exec a test run
                        line = cmdline(kid)
                        kinds[kid] = (
                            "repository tests"
                            if TEST_CMD.search(line)
                            else "evolve (forked child)"
                            if line == own_cmdline
                            else command_kind(line)
                        )
                    kind = kinds[kid]
                    result.child_kinds[kind] = max(result.child_kinds.get(kind, 0.0), kid_rss / 1024)
                    if kind == "repository tests":
                        tests.setdefault(kid, [now, now])[1] = now
                    else:
                        bot_tree += kid_rss
                result.children_rss_mib = max(result.children_rss_mib, child_total / 1024)
                result.bot_tree_rss_mib = max(result.bot_tree_rss_mib, bot_tree / 1024)
                result.samples += 1
                time.sleep(args.interval)
        except KeyboardInterrupt:
            proc.terminate()
            raise
        finally:
            if proc.poll() is None:
                proc.wait(timeout=args.timeout)
    result.wall_seconds = time.monotonic() - started
    result.exit_code = proc.returncode
    # A test process seen once still ran for about one interval.
    result.test_seconds_proc = union_seconds([(a, b + args.interval) for a, b in tests.values()])
    result.test_processes = len(tests)
    result.test_seconds_sum = sum(b + args.interval - a for a, b in tests.values())
    result.overhead_seconds = max(0.0, result.wall_seconds - result.test_seconds_proc)
    report: Any = None
    try:
        report = json.loads(stdout_path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        for candidate in sorted((outdir / "report").glob("**/report.json")):
            try:
                report = json.loads(candidate.read_text(encoding="utf-8"))
            except (OSError, ValueError):
                continue
    if report is None:
        tail = (outdir / "stderr.txt").read_text(encoding="utf-8", errors="replace").strip().splitlines()[-8:]
        result.notes.append("no JSON report; stderr tail: " + " | ".join(tail))
    else:
        result.status = str(report.get("status", ""))
        result.test_seconds_report = test_seconds_from_report(report)
        if report.get("message"):
            result.notes.append(f"message: {report['message']}")
    if not args.keep:
        shutil.rmtree(outdir, ignore_errors=True)
    else:
        result.notes.append(f"kept {outdir}")
    return result


def render(m: Measurement) -> str:
    """A markdown table and verdict lines."""
    rows = [
        ("repository", m.repo),
        (
            "python files / lines (without tests)",
            f"{m.python_files} / {m.python_lines} ({m.python_lines_without_tests})",
        ),
        ("run status (exit code)", f"{m.status or '-'} ({m.exit_code})"),
        ("wall time", f"{m.wall_seconds:.2f} s"),
        (
            "test processes / time alive (union; sum)",
            f"{m.test_processes} / {m.test_seconds_proc:.2f} s; {m.test_seconds_sum:.2f} s",
        ),
        ("test time stated by the report", "-" if m.test_seconds_report is None else f"{m.test_seconds_report:.2f} s"),
        ("bot overhead (wall - test time)", f"{m.overhead_seconds:.2f} s"),
        ("evolve process peak RSS (sampled)", f"{m.peak_rss_mib:.1f} MiB"),
        ("evolve process VmHWM (last read)", "-" if m.hwm_mib is None else f"{m.hwm_mib:.1f} MiB"),
        ("largest child peak RSS", f"{m.largest_child_rss_mib:.1f} MiB"),
        ("all children together, peak RSS", f"{m.children_rss_mib:.1f} MiB"),
        ("evolve + non-test children together, peak RSS", f"{m.bot_tree_rss_mib:.1f} MiB"),
        (
            "children by kind, peak RSS",
            "; ".join(f"{k}: {v:.0f} MiB" for k, v in sorted(m.child_kinds.items(), key=lambda kv: -kv[1])) or "-",
        ),
        ("samples", str(m.samples)),
    ]
    out = ["| measure | value |", "|---|---|"] + [f"| {k} | {v} |" for k, v in rows]
    peak = max(m.peak_rss_mib, m.hwm_mib or 0.0)
    out.append("")
    out.append(
        f"- {'PASS' if m.bot_tree_rss_mib < TARGET_RSS_MIB else 'MISS'} worker process tree without test processes {m.bot_tree_rss_mib:.0f} MiB (target < {TARGET_RSS_MIB:.0f} MiB)"
    )
    out.append(
        f"- {'PASS' if peak < TARGET_RSS_MIB else 'MISS'} evolve process alone (children excluded) {peak:.0f} MiB (target < {TARGET_RSS_MIB:.0f} MiB on 30k lines; this repo: {m.python_lines} lines)"
    )
    out.append(
        f"- {'PASS' if m.overhead_seconds <= TARGET_OVERHEAD_S else 'MISS'} overhead {m.overhead_seconds:.1f} s (target <= {TARGET_OVERHEAD_S:.0f} s on 20k lines; this repo: {m.python_lines} lines)"
    )
    out += [f"- note: {n}" for n in m.notes]
    return "\n".join(out)


def build_parser() -> argparse.ArgumentParser:
    """The command-line interface."""
    parser = argparse.ArgumentParser(
        prog="bench_run_memory.py",
        description=__doc__.split("\n\n")[0],
        epilog=__doc__[__doc__.index("Starts") :],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("repo", type=Path, help="git checkout to run on (not modified unless --full)")
    parser.add_argument("--evolve", help="command that runs the CLI (default: the evolve script beside this python)")
    parser.add_argument("--run-arg", action="append", default=[], help="extra argument for `evolve run` (repeatable)")
    parser.add_argument("--full", action="store_true", help="a real run (gates and test runs) instead of --dry-run")
    parser.add_argument(
        "--in-place",
        action="store_true",
        help="run on REPO itself (warm caches; --full leaves a branch there) instead of a fresh clone",
    )
    parser.add_argument("--interval", type=float, default=0.05, help="polling interval in seconds (default 0.05)")
    parser.add_argument("--timeout", type=float, default=3600, help="seconds to wait for the run (default 3600)")
    parser.add_argument("--json", type=Path, metavar="FILE", help="also write the measurement as JSON")
    parser.add_argument("--check", action="store_true", help="exit 1 when a target is missed")
    parser.add_argument("--keep", action="store_true", help="keep the temporary output directory")
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point; exit codes in the module docstring."""
    args = build_parser().parse_args(argv)
    repo = args.repo.resolve()
    if not (repo / ".git").exists():
        print(f"error: {repo} is not a git checkout", file=sys.stderr)
        return EXIT_CANNOT_RUN
    m = measure(repo, args)
    print(render(m))
    if args.json:
        args.json.write_text(json.dumps(asdict(m), indent=2) + "\n", encoding="utf-8")
    if not m.status:
        return EXIT_CANNOT_RUN
    peak = max(m.peak_rss_mib, m.hwm_mib or 0.0)
    missed = peak >= TARGET_RSS_MIB or m.overhead_seconds > TARGET_OVERHEAD_S
    return EXIT_TARGET_MISSED if args.check and missed else EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
