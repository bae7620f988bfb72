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
    args = parser.parse_args()
    scratch = Path(tempfile.mkdtemp(prefix="evolve-bench-envs-"))
    dest = args.dest or scratch / "repos"
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
