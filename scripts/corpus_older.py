#!/usr/bin/env python3
"""Reproduce the older-packages corpus of docs/corpus-evaluation-broken.md (issue 18).

For each ``NAME==VERSION`` of `SPECS` (2013–2021 releases; see the doc for which are in the 2016–2021 window) it

1. imports the sdist as a git repository under ``--dest`` with ``scripts/sdist_to_git.py`` (download, safe unpack,
   ``git init``, one commit; an import already there is kept),
2. runs ``evolve plan PATH`` (research runs the base suites per Python and diagnoses the failures; the plan text,
   with the failing tests it found, goes to ``OUT/<pkg>.plan.txt``),
3. runs the default run through ``scripts/evaluate_corpus.py PATH --no-suite`` (``evolve run PATH``: no ``--focus``,
   no LLM; Evolve's own gates run base's and head's suites), which writes ``OUT/<pkg>.json`` and, when a branch was
   made, its diff and PR body to ``OUT/diffs/<pkg>-default.{diff,md}``,
4. prints one line per package; ``OUT/summary.md`` gets, per package, base's suite on each Python, the plan, the
   run's outcome and the files its branch changes.

Packages run one at a time (the machine is shared). ``--corpus kept`` does the same for the well-kept corpus of
docs/corpus-evaluation.md. ``--only NAME`` (repeatable) runs a subset; ``--fresh`` deletes
Evolve's branches and run records in each repository first, so a re-run starts from the imported commit.

    python scripts/corpus_older.py --dest /work/corpus-old --out /work/corpus-out \
        --import-python ~/.pyenv/versions/3.8.18/bin/python
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent

# The 17 packages of the first session, then the ones added in the second (picked by era, 2016–2021, not by outcome).
SPECS = (
    "cachetools==2.0.1",
    "tabulate==0.8.2",
    "jsonpointer==1.10",
    "jsonpatch==1.16",
    "voluptuous==0.10.5",
    "attrdict==2.0.1",
    "webob==1.7.4",
    "blinker==1.4",
    "Markdown==2.6.11",
    "isodate==0.6.0",
    "jsonschema==2.6.0",
    "Jinja2==2.10",
    "Whoosh==2.7.4",
    "sqlparse==0.2.4",
    "Mako==1.0.7",
    "prettytable==0.7.2",
    "configobj==5.0.6",
    "sortedcontainers==1.5.10",
    "ordered-set==2.0.2",
    "PyJWT==1.5.3",
    "pyparsing==2.2.0",
    "jsonpickle==0.9.6",
    "html5lib==1.0.1",
    "marshmallow==2.15.0",
    "dnspython==1.15.0",
    "munch==2.2.0",
    "mock==2.0.0",
)

# The well-kept corpus of docs/corpus-evaluation.md (`--corpus kept`): its default runs must stay at 0 wrong hunks.
KEPT_SPECS = (
    "boltons==26.2.0",
    "cachetools==8.0.1",
    "parse==1.22.4",
    "python-slugify==9.2.0",
    "itsdangerous==2.2.0",
    "six==1.17.0",
    "toolz==1.2.0",
    "tabulate==0.10.0",
    "more-itertools==11.2.1",
    "pluggy==1.7.0",
    "iniconfig==2.3.1",
    "humanize==4.17.0",
)


def repo_dir(dest: Path, spec: str) -> Path:
    """Where sdist_to_git.py puts a spec: ``<canonical name>-<version>``."""
    name, _, version = spec.partition("==")
    canonical = "-".join(part for part in name.lower().replace("_", "-").replace(".", "-").split("-") if part)
    return dest / f"{canonical}-{version}"


def fresh(repo: Path) -> None:
    """Back to the imported commit: drop Evolve's branches and its run records."""
    subprocess.run(["git", "checkout", "-q", "-f", "main"], cwd=repo, check=False)
    branches = subprocess.run(
        ["git", "for-each-ref", "--format=%(refname:short)", "refs/heads/evolve/"],
        cwd=repo,
        capture_output=True,
        text=True,
        check=False,
    ).stdout.split()
    for branch in branches:
        subprocess.run(["git", "branch", "-q", "-D", branch], cwd=repo, check=False)
    subprocess.run(["rm", "-rf", str(repo / ".git" / "evolve")], check=False)


def summary_lines(out: Path, repo_name: str) -> list[str]:
    """One package's summary: base's suite per Python and the plan (from the plan text), the run's outcome, the
    files its branch changes."""
    lines = [f"## {repo_name}", ""]
    plan = out / f"{repo_name}.plan.txt"
    text = plan.read_text(encoding="utf-8") if plan.is_file() else ""
    lines += [f"- {line.strip()}" for line in text.splitlines() if line.startswith(("  Python ", "Plan:", "Nothing"))]
    try:
        result = json.loads((out / f"{repo_name}.json").read_text(encoding="utf-8"))[0]
    except (OSError, ValueError, IndexError):
        return [*lines, "- run: no result", ""]
    lines.append(f"- run: {result.get('status')}: {result.get('message', '')}")
    if result.get("commit"):
        lines.append(f"- branch `{result.get('branch')}` changes {', '.join(result.get('files_committed') or [])}")
    return [*lines, ""]


def main(argv: list[str] | None = None) -> int:
    """Import, plan and run every spec; exit 1 when an import failed."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dest", type=Path, required=True, help="directory of the imported repositories")
    parser.add_argument("--out", type=Path, required=True, help="directory for plans, JSON, diffs and PR bodies")
    parser.add_argument("--evolve", default=str(Path(sys.executable).with_name("evolve")), help="the evolve CLI")
    parser.add_argument(
        "--corpus", choices=("older", "kept"), default="older", help="the older packages, or the well-kept ones"
    )
    parser.add_argument("--only", action="append", default=[], help="run only this package name (repeatable)")
    parser.add_argument("--fresh", action="store_true", help="drop earlier Evolve branches and records first")
    parser.add_argument("--timeout", type=float, default=3600, help="seconds allowed per step")
    parser.add_argument(
        "--import-python",
        default=sys.executable,
        help="python that downloads the sdists (pip builds their metadata: some 2016 setup.py files need an old "
        "Python, e.g. ~/.pyenv/versions/3.8.18/bin/python)",
    )
    args = parser.parse_args(argv)
    chosen = SPECS if args.corpus == "older" else KEPT_SPECS
    specs = [s for s in chosen if not args.only or s.partition("==")[0].lower() in {o.lower() for o in args.only}]
    imported = subprocess.run(
        [args.import_python, str(HERE / "sdist_to_git.py"), *specs, "--dest", str(args.dest)], check=False
    )
    args.out.mkdir(parents=True, exist_ok=True)
    for spec in specs:
        repo = repo_dir(args.dest, spec)
        if not (repo / ".git").exists():
            print(f"{spec}: not imported", flush=True)
            continue
        if args.fresh:
            fresh(repo)
        started = time.monotonic()
        try:
            plan = subprocess.run(
                [args.evolve, "plan", str(repo)], capture_output=True, text=True, timeout=args.timeout, check=False
            )
            plan_text = plan.stdout + plan.stderr
        except subprocess.TimeoutExpired:
            plan_text = f"timed out after {args.timeout:.0f}s"
        (args.out / f"{repo.name}.plan.txt").write_text(plan_text, encoding="utf-8")
        subprocess.run(
            [
                sys.executable,
                str(HERE / "evaluate_corpus.py"),
                str(repo),
                "--evolve",
                args.evolve,
                "--no-suite",
                "--json",
                str(args.out / f"{repo.name}.json"),
                "--diffs",
                str(args.out / "diffs"),
                "--label",
                "default",
                "--timeout",
                str(args.timeout),
            ],
            stdout=(args.out / f"{repo.name}.table.md").open("w", encoding="utf-8"),
            check=False,
        )
        try:
            result = json.loads((args.out / f"{repo.name}.json").read_text(encoding="utf-8"))[0]
            line = f"{result.get('status')}: {result.get('message', '')[:160]}"
        except (OSError, ValueError, IndexError):
            line = "no result"
        print(f"{spec}: {line} ({time.monotonic() - started:.0f} s)", flush=True)
    summary = [line for spec in specs for line in summary_lines(args.out, repo_dir(args.dest, spec).name)]
    (args.out / "summary.md").write_text("\n".join(summary), encoding="utf-8")
    return 1 if imported.returncode == 1 else 0


if __name__ == "__main__":
    sys.exit(main())
