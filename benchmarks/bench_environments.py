"""Benchmark: each corpus project's own test environment, built with no manual step, and its suite on base.

    python benchmarks/bench_environments.py [--dest DIR] [--data-dir DIR] [--json OUT] [NAME ...]

For every PyPI project (default: the 20 below, of different kinds) this script turns the newest sdist
into a git repository with scripts/sdist_to_git.py (WITHOUT --install-test-deps: Evolve's own venv gets
nothing), then, exactly as `evolve run` would:

1. discovers what the project declares and chooses the interpreter (`evolve.environments`),
2. builds the environment with uv in the sandbox into an empty store (cold; uv's wheel cache starts empty
   on the first project and is shared after that, as on a real machine), and prepares it again (warm reuse),
3. runs the project's suite on base in that environment (sandboxed, no network, no coverage).

It prints one Markdown row per project (kind, interpreter, cold and warm seconds, passed/failed/errors,
the first line of any failure) and writes the rows as JSON with --json.

    python benchmarks/bench_environments.py --egress-overhead --before DIR [--rounds N] [NAME ...]

measures what the egress proxy costs instead: each project's environment is built cold (empty store, empty uv
cache) and then prepared warm, `--rounds` times (default 2) alternately by the code in DIR (a checkout from
before the proxy, e.g. `git archive 00da70a evolve | tar -x -C /tmp/before`: installs in the host's network
namespace) and by this checkout (installs behind the proxy), each in a subprocess; it prints the best cold and
warm seconds of each and the cold ratio, against TARGETS.md's "the egress proxy adds under 10% to a cold build"
(default projects: the first eight of the corpus that build in seconds).
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from evolve.configuration.model import EvolveConfig
from evolve.environments.model import Environment, EnvironmentFailure, EnvironmentSettings
from evolve.environments.prepare import prepare_environment
from evolve.suites.runs import run_test_suite
from evolve.suites.startup import cannot_start_reason

# name -> what kind of project it is (why it is in the set)
CORPUS = {
    "boltons": "dependency-groups (dev), tox",
    "cachetools": "tox deps (pytest-cov), src layout",
    "parse": "no test deps declared; pytest-cov needed by its addopts",
    "python-slugify": "tox deps, text-unidecode dependency",
    "itsdangerous": "src layout, pinned requirements/tests.txt, tox",
    "attrs": "hatch-vcs, dependency-groups (tests), many test deps",
    "click": "src layout, dependency-groups (tests)",
    "markupsafe": "optional C speedups compiled by its own build, src layout",
    "jinja2": "src layout, pinned requirements/tests.txt, markupsafe (C wheel)",
    "packaging": "dependency-groups (test), noxfile",
    "more-itertools": "unittest suite, requirements/testing.txt",
    "pluggy": "dependency-groups (testing), tox, src layout",
    "six": "single module, setup.py tests_require",
    "toolz": "dependency-groups (test)",
    "tabulate": "tox deps, optional wcwidth",
    "iniconfig": "hatch-vcs version from git (none in the sandbox's copy), dependency-groups (dev)",
    "wcwidth": "C extension compiled by its own build, tox deps from a pip-compiled file",
    "simplejson": "C extension compiled by setup.py, no test deps declared",
    "idna": "flit; test deps only in an `all` extra",
    "humanize": "hatch-vcs, tests extra, tox",
}
SUITE_TIMEOUT = 900
EGRESS_DEFAULT = ["iniconfig", "six", "parse", "cachetools", "tabulate", "idna", "toolz", "python-slugify"]
EGRESS_TARGET = 1.10  # the proxy adds under 10% to a cold build
# Run in a subprocess with the code under test first on sys.path (an editable install's finder removed).
_BUILD_ONCE = """
import json, sys, time
sys.meta_path[:] = [f for f in sys.meta_path if "__editable__" not in getattr(f, "__module__", "")]
sys.path.insert(0, sys.argv[1])
from pathlib import Path
from evolve.configuration.model import EvolveConfig
from evolve.environments.model import Environment, EnvironmentSettings
from evolve.environments.prepare import prepare_environment
settings = EnvironmentSettings(data_dir=Path(sys.argv[3]))
times = []
for _ in range(2):
    started = time.monotonic()
    found = prepare_environment(Path(sys.argv[2]), EvolveConfig(), settings)
    times.append(time.monotonic() - started)
import evolve
print(json.dumps({"cold": times[0], "warm": times[1], "ok": isinstance(found, Environment) and found.reused,
                  "code": evolve.__file__, "detail": "" if isinstance(found, Environment) else found.reason[-300:]}))
"""


def import_sdist(name: str, dest: Path) -> Path | None:
    """scripts/sdist_to_git.py NAME --dest DEST (no --install-test-deps); the repository path."""
    script = Path(__file__).resolve().parents[1] / "scripts" / "sdist_to_git.py"
    done = subprocess.run([sys.executable, str(script), name, "--dest", str(dest)], capture_output=True, text=True)
    lines = [line for line in done.stdout.splitlines() if line.strip()]
    return Path(lines[-1]) if done.returncode == 0 and lines else None


def measure(name: str, kind: str, dest: Path, settings: EnvironmentSettings) -> dict:
    """One project's row."""
    row: dict = {"name": name, "kind": kind}
    repo = import_sdist(name, dest)
    if repo is None:
        return {**row, "outcome": "sdist import failed"}
    row["version"] = repo.name.rsplit("-", 1)[-1]
    config = EvolveConfig()
    started = time.monotonic()
    cold = prepare_environment(repo, config, settings)
    row["cold_seconds"] = round(time.monotonic() - started, 2)
    if isinstance(cold, EnvironmentFailure):
        return {**row, "outcome": cold.message[:400], "install_commands": list(cold.install_commands)}
    if cold.kind != "built":
        return {**row, "outcome": cold.description}  # e.g. an sdist that ships no tests: nothing to build
    started = time.monotonic()
    warm = prepare_environment(repo, config, settings)
    row["warm_seconds"] = round(time.monotonic() - started, 3)
    if not (isinstance(warm, Environment) and warm.reused and warm.key == cold.key):
        return {**row, "outcome": f"the second preparation did not reuse the first: {warm}"}
    row.update(
        interpreter=cold.description.split(",")[0],
        sources=list(cold.sources),
        install_commands=list(cold.install_commands),
        notes=list(cold.notes),
    )
    run = run_test_suite(repo, config, with_coverage=False, environment=cold, timeout=SUITE_TIMEOUT)
    row.update(
        command=" ".join(run.command[-6:]),
        passed=run.passed,
        failed=run.failed,
        errors=run.errors,
        skipped=run.skipped,
        suite_seconds=round(run.duration, 1),
        timed_out=run.timed_out,
    )
    reason = cannot_start_reason(run)
    if reason:
        row["outcome"] = f"cannot run the tests: {reason}"
    elif run.ok:
        row["outcome"] = "suite passed"
    else:
        first = (run.failing_tests or ("?",))[0]
        row["outcome"] = f"suite ran with failures (first: {first})"
    return row


def build_in(code: Path, repo: Path, scratch: Path) -> dict:
    """One cold build then one warm preparation of `repo` by the evolve package in `code`, in a fresh data dir."""
    data = Path(tempfile.mkdtemp(prefix="data-", dir=scratch))
    try:
        done = subprocess.run(
            [sys.executable, "-c", _BUILD_ONCE, str(code), str(repo), str(data)], capture_output=True, text=True
        )
        try:
            return json.loads(done.stdout.strip().splitlines()[-1])
        except (ValueError, IndexError):
            return {"ok": False, "detail": done.stderr[-300:]}
    finally:
        shutil.rmtree(data, ignore_errors=True)


def egress_overhead(names: list[str], before: Path, rounds: int, dest: Path, scratch: Path) -> int:
    """Cold and warm builds before (host network) and after (egress proxy), alternating; the cold ratio."""
    after = Path(__file__).resolve().parents[1]
    rows = []
    for name in names:
        repo = import_sdist(name, dest)
        if repo is None:
            print(f"{name}: sdist import failed", file=sys.stderr)
            continue
        runs: dict[str, list[dict]] = {"before": [], "after": []}
        for round_number in range(rounds):
            order = [("before", before), ("after", after)]
            for label, code in order if round_number % 2 == 0 else order[::-1]:
                result = build_in(code, repo, scratch)
                runs[label].append(result)
                print(json.dumps({"name": name, "code": label, **result}), file=sys.stderr, flush=True)
        good = {label: [r for r in found if r.get("ok")] for label, found in runs.items()}
        if not good["before"] or not good["after"]:
            rows.append({"name": name, "outcome": "a build failed: " + json.dumps(runs)[-300:]})
            continue
        row = {"name": name, "outcome": "built"}
        for label in ("before", "after"):
            row[f"{label}_cold"] = round(min(r["cold"] for r in good[label]), 2)
            row[f"{label}_warm"] = round(min(r["warm"] for r in good[label]), 3)
        rows.append(row)
    built = [r for r in rows if r["outcome"] == "built"]
    print("| project | cold before s | cold after s | warm before s | warm after s |")
    print("|---|---:|---:|---:|---:|")
    for r in rows:
        cells = [str(r.get(k, "—")) for k in ("before_cold", "after_cold", "before_warm", "after_warm")]
        print(f"| {r['name']} | " + " | ".join(cells) + (" |" if r["outcome"] == "built" else f" {r['outcome']} |"))
    if not built:
        print("no project built both ways: FAIL")
        return 1
    ratio = sum(r["after_cold"] for r in built) / sum(r["before_cold"] for r in built)
    verdict = "PASS" if ratio < EGRESS_TARGET else "FAIL"
    print(
        f"\n{len(built)} projects: summed cold {sum(r['before_cold'] for r in built):.1f}s before, "
        f"{sum(r['after_cold'] for r in built):.1f}s after the egress proxy: ×{ratio:.3f} "
        f"(target under ×{EGRESS_TARGET}): {verdict}; warm max {max(r['after_warm'] for r in built)}s after"
    )
    return 0 if verdict == "PASS" else 1


def markdown(rows: list[dict]) -> str:
    """The rows as a Markdown table."""
    lines = [
        "| project | kind | interpreter | cold s | warm s | passed | failed | errors | outcome |",
        "|---|---|---|---:|---:|---:|---:|---:|---|",
    ]
    for r in rows:
        lines.append(
            f"| {r['name']} {r.get('version', '')} | {r['kind']} | {r.get('interpreter', '—')} | "
            f"{r.get('cold_seconds', '—')} | {r.get('warm_seconds', '—')} | {r.get('passed', '—')} | "
            f"{r.get('failed', '—')} | {r.get('errors', '—')} | {str(r.get('outcome', '')).splitlines()[0][:160]} |"
        )
    return "\n".join(lines)


def main() -> int:
    """Run the benchmark."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("names", nargs="*", help="PyPI projects (default: the built-in corpus)")
    parser.add_argument("--dest", type=Path, help="where the sdist repositories go (default: a temp dir)")
    parser.add_argument("--data-dir", type=Path, help="environment store + uv cache (default: an empty temp dir)")
    parser.add_argument("--json", type=Path, help="write the rows here")
    parser.add_argument("--egress-overhead", action="store_true", help="cold/warm builds before and after the proxy")
    parser.add_argument("--before", type=Path, help="with --egress-overhead: a checkout of the code before it")
    parser.add_argument("--rounds", type=int, default=2, help="with --egress-overhead: builds of each (default 2)")
    args = parser.parse_args()
    scratch = Path(tempfile.mkdtemp(prefix="evolve-bench-envs-"))
    dest = args.dest or scratch / "repos"
    if args.egress_overhead:
        if args.before is None:
            parser.error("--egress-overhead needs --before DIR (a checkout of the code before the proxy)")
        try:
            return egress_overhead(args.names or EGRESS_DEFAULT, args.before, args.rounds, dest, scratch)
        finally:
            shutil.rmtree(scratch, ignore_errors=True)
    settings = EnvironmentSettings(data_dir=args.data_dir or scratch / "data")
    names = args.names or list(CORPUS)
    rows = []
    try:
        for name in names:
            row = measure(name, CORPUS.get(name, "—"), dest, settings)
            rows.append(row)
            print(json.dumps(row), file=sys.stderr, flush=True)
            if args.json:
                args.json.write_text(json.dumps(rows, indent=2) + "\n", encoding="utf-8")
    finally:
        if args.data_dir is None:
            shutil.rmtree(scratch / "data", ignore_errors=True)
    print(markdown(rows))
    built = [r for r in rows if "warm_seconds" in r]
    if built:
        print(
            f"\n{len(built)}/{len(rows)} environments built without a manual step; "
            f"cold median {sorted(r['cold_seconds'] for r in built)[len(built) // 2]}s, "
            f"warm max {max(r['warm_seconds'] for r in built)}s"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
